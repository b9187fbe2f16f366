"""`GET /readyz` and `GET /metrics`: can the bot do its work, and what has it done.

/healthz (bot/web.py) answers "is the process alive"; /readyz answers "should traffic and
people rely on it": Slack accepted the bot token (auth.test, once at start), the Dashboard
answers when a real key is configured, and the alert state store answers when alerts are
on. Each check is bounded by a short time-out and cached, so a probe every few seconds
costs Slack and the Dashboard almost nothing and never hangs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.dashboard.errors import DashboardError, Reason

log = logging.getLogger(__name__)

READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
CHECK_TIMEOUT_SECONDS = 3.0
SLACK_RETRY_SECONDS = 30.0
DASHBOARD_OK_SECONDS = 60.0
DASHBOARD_FAILED_SECONDS = 15.0


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str


Check = Callable[[], Awaitable[CheckResult]]


class _Dashboard(Protocol):
    """What the Dashboard check needs from the shared live connection (bot.live_connection)."""

    async def service(self) -> Any: ...


class _StateStore(Protocol):
    async def touch(self, now: float) -> None: ...

    async def active_incidents(self) -> list[Any]: ...


def _no_answer(timeout: float) -> str:
    return f"no answer within {timeout:g} s"


class CachedCheck:
    """Runs `probe` at most once per TTL (one TTL after success, another after failure)."""

    def __init__(
        self,
        probe: Check,
        *,
        ok_ttl: float,
        failed_ttl: float,
        timeout: float = CHECK_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self._ok_ttl = ok_ttl
        self._failed_ttl = failed_ttl
        self._timeout = timeout
        self._clock = clock
        self._result: CheckResult | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> CheckResult:
        async with self._lock:  # concurrent probes share one call
            if self._result is not None and self._clock() < self._until:
                return self._result
            try:
                result = await asyncio.wait_for(self._probe(), self._timeout)
            except TimeoutError:
                result = CheckResult(False, _no_answer(self._timeout))
            self._result = result
            self._until = self._clock() + (self._ok_ttl if result.ok else self._failed_ttl)
            return result


def slack_auth_check(client: AsyncWebClient, **options: Any) -> CachedCheck:
    """auth.test with the bot token: cached for good once it succeeds (the token does not change)."""

    async def probe() -> CheckResult:
        try:
            response = await client.auth_test()
        except SlackApiError as exc:
            return CheckResult(False, str(exc.response.get("error") or "auth.test failed"))
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return CheckResult(False, type(exc).__name__)
        return CheckResult(True, f"authenticated as {response.get('user_id')} in team {response.get('team_id')}")

    options.setdefault("ok_ttl", float("inf"))
    options.setdefault("failed_ttl", SLACK_RETRY_SECONDS)
    return CachedCheck(probe, **options)


def dashboard_check(connection: _Dashboard, **options: Any) -> CachedCheck:
    """One GET /organizations per minute when a real key is set; the demo organisation needs none."""

    async def probe() -> CheckResult:
        try:
            service = await connection.service()
            if service.demo:
                return CheckResult(True, "demo organisation")
            await service.client.get("/organizations")
        except DashboardError as exc:
            detail = f"{exc.reason.value} ({exc.status})" if exc.status else exc.reason.value
            return CheckResult(exc.reason is Reason.BUSY, detail)  # rate-limited still means reachable
        except (OSError, ValueError) as exc:
            return CheckResult(False, type(exc).__name__)
        return CheckResult(True, "reachable")

    options.setdefault("ok_ttl", DASHBOARD_OK_SECONDS)
    options.setdefault("failed_ttl", DASHBOARD_FAILED_SECONDS)
    return CachedCheck(probe, **options)


def state_check(store: _StateStore, kind: str, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> Check:
    """A write and a read of the alert state store (uncached: it is local or on the same network)."""

    async def probe() -> CheckResult:
        try:
            await asyncio.wait_for(store.touch(time.time()), timeout)
            incidents = await asyncio.wait_for(store.active_incidents(), timeout)
        except TimeoutError:
            return CheckResult(False, _no_answer(timeout))
        except Exception as exc:  # any driver error means the store does not answer
            return CheckResult(False, type(exc).__name__)
        metrics.open_incidents(len(incidents))
        return CheckResult(True, f"{kind}, {len(incidents)} open incidents")

    return probe


def tasks_check(down: Callable[[], dict[str, str]]) -> Check:
    """Not ready while a supervised background task waits to restart (its loop is not running)."""

    async def probe() -> CheckResult:
        waiting = down()
        if waiting:
            return CheckResult(False, "; ".join(f"{name} not running ({why})" for name, why in sorted(waiting.items())))
        return CheckResult(True, "running")

    return probe


def failing(detail: str) -> Check:
    """A check that is known to fail until a restart, e.g. a state store that could not be opened."""

    async def probe() -> CheckResult:
        return CheckResult(False, detail)

    return probe


def passing(detail: str) -> Check:
    """A check with nothing to ask, e.g. the state store while alerts are off."""

    async def probe() -> CheckResult:
        return CheckResult(True, detail)

    return probe


async def operations(
    slack: AsyncWebClient, dashboard: _Dashboard, state: _StateStore | None = None, state_kind: str = ""
) -> Operations:
    """The checks of a running bot; Slack auth is asked once now, so /readyz knows it from the start."""
    ops = Operations()
    ops.add("slack", slack_auth_check(slack))
    ops.add("dashboard", dashboard_check(dashboard))
    ops.add("state", state_check(state, state_kind) if state is not None else passing("alerts off"))
    await ops.checks["slack"]()
    return ops


class Operations:
    """The readiness checks of one running bot, and the /readyz and /metrics routes that use them."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        names = list(self.checks)
        results = await asyncio.gather(*(self.checks[name]() for name in names))
        reasons = [f"{name}: {result.detail}" for name, result in zip(names, results, strict=True) if not result.ok]
        body = {
            "status": "not ready" if reasons else "ready",
            "checks": {name: {"ok": r.ok, "detail": r.detail} for name, r in zip(names, results, strict=True)},
            "reasons": reasons,
        }
        return not reasons, body

    async def readyz(self, _request: web.Request) -> web.Response:
        ready, body = await self.readiness()
        if not ready:
            log.warning("not ready: %s", "; ".join(body["reasons"]))
        return web.json_response(body, status=200 if ready else 503)

    async def metrics(self, _request: web.Request) -> web.Response:
        state = self.checks.get("state")
        if state is not None:
            await state()  # refreshes the open-incidents gauge
        return web.Response(body=metrics.render(), headers={"Content-Type": metrics.CONTENT_TYPE})

    def route(self, app: web.Application) -> None:
        """A `RouteSetup` for bot.web.create_web_app."""
        app.router.add_get(READY_PATH, self.readyz)
        app.router.add_get(METRICS_PATH, self.metrics)
