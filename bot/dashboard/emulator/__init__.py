"""An in-package Meraki Dashboard API emulator: the demo organisation and the test double."""

from bot.dashboard.emulator.data import DemoData
from bot.dashboard.emulator.faults import Fault
from bot.dashboard.emulator.resolver import LoopbackResolver, loopback_session
from bot.dashboard.emulator.server import DashboardEmulator, RecordedRequest

__all__ = [
    "DashboardEmulator",
    "DemoData",
    "Fault",
    "LoopbackResolver",
    "RecordedRequest",
    "loopback_session",
]
