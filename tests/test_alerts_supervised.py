"""Alerts outlive a Redis outage: the failed loop is logged once, restarted with backoff, and polls again."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid

import pytest

from bot import metrics
from bot.alerts.state.redis_store import RedisStore
from bot.alerts.tasks import Supervisor
from bot.health import tasks_check
from tests.alerts_harness import alert_rig
from tests.redis_server import RedisServer, redis_binary


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
