"""Open the Dashboard the bot should talk to: the real one, or the bundled demo.

Without MERAKI_API_KEY the bot, the shell and a fresh checkout serve the demo
organisation from the in-package emulator on 127.0.0.1, under a random key of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator
from bot.dashboard.settings import DashboardSettings


@dataclass
class DashboardConnection:
    client: DashboardClient
    demo: bool
    emulator: DashboardEmulator | None = None


@asynccontextmanager
async def open_dashboard(
    settings: DashboardSettings | None = None, **client_options: Any
) -> AsyncIterator[DashboardConnection]:
    settings = settings or DashboardSettings()
    if not settings.demo:
        async with DashboardClient.from_settings(settings, **client_options) as client:
            yield DashboardConnection(client, demo=False)
        return
    key = secrets.token_urlsafe(24)
    async with DashboardEmulator(api_key=key) as emulator:
        client = DashboardClient(
            key, base_url=emulator.base_url, rps=settings.vpn_doctor_meraki_rps, **client_options
        )
        async with client:
            yield DashboardConnection(client, demo=True, emulator=emulator)
