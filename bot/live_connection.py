"""The Dashboard connection behind live lookups, opened once per process and shared.

Without MERAKI_API_KEY it starts the in-package demo emulator, so `/vpn` answers on a
fresh machine; tests hand in a ready `LiveService` aimed at their own emulator.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from bot.dashboard.connect import open_dashboard
from bot.dashboard.errors import DashboardError
from bot.dashboard.settings import DashboardSettings
from bot.live import LiveService

log = logging.getLogger(__name__)


class LiveConnection:
    def __init__(self, settings: DashboardSettings, *, service: LiveService | None = None) -> None:
        self._settings = settings
        self._service = service
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self._service is not None

    async def service(self) -> LiveService:
        """The shared service, connecting on first use (concurrent first callers wait for one connect)."""
        if self._service is not None:
            return self._service
        async with self._lock:
            if self._service is None:
                stack = AsyncExitStack()
                connection = await stack.enter_async_context(open_dashboard(self._settings))
                self._stack = stack
                self._service = LiveService(
                    connection.client,
                    demo=connection.demo,
                    deadline=self._settings.vpn_doctor_lookup_deadline_seconds,
                )
                log.info("dashboard connected demo=%s", connection.demo)
        return self._service

    async def start(self) -> None:
        """Connect and fill the peer cache at start-up; a failing Dashboard is logged, not fatal."""
        service = await self.service()
        try:
            await service.client.peers()
        except DashboardError as exc:
            log.warning("dashboard not ready at start: %s", exc.reason.value)

    async def aclose(self) -> None:
        """Close what this object opened; an injected service belongs to whoever made it."""
        if self._stack is not None:
            stack, self._stack, self._service = self._stack, None, None
            await stack.aclose()
