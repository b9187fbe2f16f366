"""The Meraki Dashboard side of VPN Doctor: client, models, pacing, cache and demo emulator."""

from bot.dashboard.client import DashboardClient, count_calls
from bot.dashboard.connect import DashboardConnection, open_dashboard
from bot.dashboard.errors import DashboardError, Reason
from bot.dashboard.settings import DashboardSettings

__all__ = [
    "DashboardClient",
    "DashboardConnection",
    "DashboardError",
    "DashboardSettings",
    "Reason",
    "count_calls",
    "open_dashboard",
]
