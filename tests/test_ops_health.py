"""bot.health checks against real parts: the Slack emulator, the Dashboard emulator, SQLite and a dead Redis."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.state import open_state
from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator
from bot.dashboard.emulator.faults import Fault
from bot.health import CachedCheck, CheckResult, dashboard_check, operations, slack_auth_check, state_check
from bot.live import LiveService
from tests.slack_emulator import SlackEmulator


@dataclass
class Connection:
    """Stands where bot.live_connection.LiveConnection does: hands out the shared LiveService."""

    live: LiveService

    async def service(self) -> LiveService:
        return self.live


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_cached_check_keeps_success_and_failure_for_their_own_ttl() -> None:
    answers = [CheckResult(False, "down"), CheckResult(True, "up")]
    calls = 0

    async def probe() -> CheckResult:
        nonlocal calls
        calls += 1
        return answers[min(calls - 1, 1)]

    clock = Clock()
    check = CachedCheck(probe, ok_ttl=60, failed_ttl=15, clock=clock)
    assert (await check()).detail == "down"
    clock.now += 14
    assert (await check()).detail == "down" and calls == 1
    clock.now += 2
    assert (await check()).detail == "up" and calls == 2
    clock.now += 59
    results = await asyncio.gather(check(), check(), check())
    assert all(r.ok for r in results) and calls == 2


async def test_a_slow_probe_fails_within_the_timeout() -> None:
    async def slow() -> CheckResult:
        await asyncio.sleep(5)
        return CheckResult(True, "late")

    check = CachedCheck(slow, ok_ttl=60, failed_ttl=15, timeout=0.1)
    assert await check() == CheckResult(False, "no answer within 0.1 s")


async def test_slack_auth_check_passes_once_and_reports_slack_errors() -> None:
    emulator = SlackEmulator()
    await emulator.start()
    try:
        good = slack_auth_check(AsyncWebClient(token=emulator.token, base_url=emulator.api_url))
        result = await good()
        assert result.ok and "T111" in result.detail
        await good()
        assert len(emulator.calls_to("auth.test")) == 1  # cached for the process lifetime
        bad = slack_auth_check(AsyncWebClient(token="xoxb-revoked", base_url=emulator.api_url))
        assert await bad() == CheckResult(False, "invalid_auth")
    finally:
        await emulator.stop()
    unreachable = f"http://127.0.0.1:{closed_port()}/api/"
    down = slack_auth_check(AsyncWebClient(token="xoxb-1", base_url=unreachable, retry_handlers=[]))
    result = await down()
    assert not result.ok and result.detail.startswith("Client")


async def test_dashboard_check_reports_key_errors_and_treats_busy_as_reachable() -> None:
    async with DashboardEmulator(api_key="right-key") as emulator:
        async with DashboardClient("right-key", base_url=emulator.base_url, rps=50) as client:
            check = dashboard_check(Connection(LiveService(client)))
            assert await check() == CheckResult(True, "reachable")
            emulator.inject(Fault(path="^/api/v1/organizations$", status=429, times=5, retry_after="0"))
            busy = dashboard_check(Connection(LiveService(client)))
            assert await busy() == CheckResult(True, "busy (429)")
        async with DashboardClient("wrong-key", base_url=emulator.base_url, rps=50) as client:
            check = dashboard_check(Connection(LiveService(client)))
            assert await check() == CheckResult(False, "key-invalid (401)")
        async with DashboardClient("right-key", base_url=emulator.base_url, rps=50) as client:
            demo = dashboard_check(Connection(LiveService(client, demo=True)))
            asked = len(emulator.requests)
            assert await demo() == CheckResult(True, "demo organisation")
            assert len(emulator.requests) == asked  # the demo organisation is not probed


async def test_dashboard_check_when_nothing_answers() -> None:
    base = f"http://127.0.0.1:{closed_port()}/api/v1"
    async with DashboardClient("k", base_url=base, failure_backoff=0.01) as client:
        check = dashboard_check(Connection(LiveService(client)))
        assert await check() == CheckResult(False, "unavailable")


async def test_state_check_reads_sqlite_and_fails_on_a_dead_redis(tmp_path: Path) -> None:
    store = open_state(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    try:
        assert await state_check(store, "sqlite")() == CheckResult(True, "sqlite, 0 open incidents")
    finally:
        await store.close()
    dead = open_state(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        result = await state_check(dead, "redis")()
        assert not result.ok and "Error" in result.detail
    finally:
        await dead.close()


async def test_readiness_lists_each_failing_check_with_its_reason() -> None:
    emulator = SlackEmulator()
    await emulator.start()
    try:
        async with (
            DashboardEmulator(api_key="k") as dashboard,
            DashboardClient("other", base_url=dashboard.base_url, rps=50) as client,
        ):
            ops = await operations(
                AsyncWebClient(token="xoxb-bad", base_url=emulator.api_url), Connection(LiveService(client))
            )
            assert len(emulator.calls_to("auth.test")) == 1  # asked at start
            ready, body = await ops.readiness()
    finally:
        await emulator.stop()
    assert not ready
    assert body["status"] == "not ready"
    assert body["reasons"] == ["slack: invalid_auth", "dashboard: key-invalid (401)"]
    assert body["checks"]["state"] == {"ok": True, "detail": "alerts off"}
