"""Alerts outlive a Redis outage: the failed loop is logged once, restarted with backoff, and polls again."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from pathlib import Path

import pytest

from bot import metrics
from bot.alerts.service import DEFAULT_LEASE_SECONDS
from bot.alerts.state.redis_store import RedisStore
from bot.alerts.tasks import Supervisor
from bot.health import tasks_check
from tests.alerts_harness import alert_rig
from tests.redis_server import RedisServer, redis_binary
from tests.test_ops_http import RunningBot, bot_process


async def _until(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, what
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_polling_resumes_after_redis_comes_back(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed")
    caplog.set_level(logging.INFO)
    server = RedisServer(binary, tmp_path)
    store = RedisStore(server.url, prefix=f"test:{uuid.uuid4().hex}:")
    restarts_before = metrics.value("vpn_doctor_task_restarts_total", task="alerts-poll")
    try:
        async with alert_rig([store], task_backoff=0.1, max_task_backoff=0.4) as rig:
            (service,) = rig.services
            await rig.wait_polls(service, 3)
            server.stop()
            await _until(lambda: "alerts-poll" in service.tasks.restarts, 10, "the poll loop never failed")
            polls_in_outage = service.polls
            server = RedisServer(binary, tmp_path, port=server.port)
            back = time.monotonic()
            await _until(lambda: service.polls > polls_in_outage + 2, 15, "polling never resumed")
            resumed = time.monotonic() - back
            assert resumed < 5, f"polling resumed {resumed:.1f} s after Redis returned"
            assert all(not t.done() for t in service.tasks.tasks)
            assert (await tasks_check(lambda: dict(service.tasks.down))()).ok
    finally:
        await store.close()
        server.stop()
    assert metrics.value("vpn_doctor_task_restarts_total", task="alerts-poll") > restarts_before
    assert "Task exception was never retrieved" not in caplog.text
    failures = [r for r in caplog.records if "background task alerts-poll failed" in r.getMessage()]
    assert failures and all(r.exc_info for r in failures)


async def test_a_failing_loop_is_restarted_with_growing_backoff_and_reported() -> None:
    runs: list[float] = []
    release = asyncio.Event()

    async def flaky() -> None:
        runs.append(time.monotonic())
        if len(runs) < 4:
            raise ConnectionError("store unreachable")
        await release.wait()

    supervisor = Supervisor(backoff=0.05, max_backoff=0.2)
    supervisor.start("flaky", flaky)
    await _until(lambda: "flaky" in supervisor.down, 2, "never reported down")
    result = await tasks_check(lambda: dict(supervisor.down))()
    assert not result.ok and "flaky not running (ConnectionError" in result.detail
    await _until(lambda: len(runs) == 4, 5, "not restarted")
    await _until(lambda: not supervisor.down, 2, "still reported down")
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # doubling, capped at max_backoff
    assert supervisor.restarts["flaky"] == 3
    assert metrics.value("vpn_doctor_task_running", task="flaky") == 1
    release.set()
    await supervisor.stop()


async def _leader_line(bot: RunningBot, timeout: float) -> float:
    """Seconds from now until the process logs that it polls (0 when it already has)."""
    started = time.monotonic()
    while not any("this replica now polls and posts" in line for line in bot.stderr):
        if time.monotonic() - started > timeout:
            raise AssertionError("the bot never took the lead:\n" + "\n".join(bot.stderr))
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_after_kill_9_a_restarted_bot_polls_again_without_waiting_for_a_lease(tmp_path: Path) -> None:
    """`python -m bot` with alerts on the default SQLite state, killed with SIGKILL mid-incident and restarted."""
    env = {"VPN_DOCTOR_ALERT_CHANNEL": "C0ALERTS", "VPN_DOCTOR_POLL_SECONDS": "2"}
    async with bot_process(tmp_path, **env) as bot:
        await _leader_line(bot, 30)
        await bot.emulator.wait_for("chat.postMessage", 1, timeout=30, where=lambda c: c.get("channel") == "C0ALERTS")
        await bot.emulator.settle(quiet=2.5, timeout=20)
        alerted = [c["text"] for c in bot.emulator.calls_to("chat.postMessage") if not c.get("thread_ts")]
        bot.process.kill()
        await bot.process.wait()
    async with bot_process(tmp_path, **env) as bot:
        waited = await _leader_line(bot, 30)
        await bot.emulator.settle(quiet=2.5, timeout=10)
        repeated = [c["text"] for c in bot.emulator.calls_to("chat.postMessage") if not c.get("thread_ts")]
    assert waited < 2 * float(env["VPN_DOCTOR_POLL_SECONDS"]), f"took the lead {waited:.1f} s after start"
    assert DEFAULT_LEASE_SECONDS > 10
    assert alerted and repeated == [], f"the restarted bot knew the open incidents: {alerted} then {repeated}"
