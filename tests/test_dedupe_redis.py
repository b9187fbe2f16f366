"""Exactly one reply per user message across HTTP replicas that share a real redis-server.

Two apps, each from its own `create_app` call and served on its own port (as two pods
behind a load balancer), answer to one Slack Web API emulator. Slack's copies of one
message are sent to both; the emulator must see a single reply. Without a reachable
Redis the bot falls back to its own record and still answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as redis

from bot.dedupe import SEEN_PREFIX, RedisSeenStore, SqliteSeenStore, message_key
from bot.services import Services
from bot.settings import Settings
from tests.redis_server import RedisServer, free_port, redis_binary, redis_server  # noqa: F401  (the session fixture)
from tests.slack_emulator import SlackEmulator
from tests.slack_helpers import BotHarness, copy_body, mention_body, message_body, next_ts, replica

PASTE = (
    "Jan 10 10:00:01 Non-Meraki / Client VPN negotiation msg: IPsec-SA request for 203.0.113.10 queued "
    "due to no phase1 found.\n"
    "Jan 10 10:00:02 Non-Meraki / Client VPN negotiation msg: failed to pre-process ph1 packet "
    "(side: 1, status 1).\n"
    "Jan 10 10:00:02 Non-Meraki / Client VPN negotiation msg: phase1 negotiation failed.\n"
)


@asynccontextmanager
async def replicas(count: int, **overrides: Any) -> AsyncIterator[list[BotHarness]]:
    emulator = SlackEmulator()
    await emulator.start()
    http = aiohttp.ClientSession()
    try:
        async with AsyncExitStack() as stack:
            yield [await stack.enter_async_context(replica(emulator, http, **overrides)) for _ in range(count)]
            await emulator.settle(quiet=0.3, timeout=5.0)
    finally:
        await http.close()
        await emulator.stop()


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> str:
    """The session's real redis-server (tests/redis_server.py starts it, installing it if needed)."""
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


def replies_to(emulator: SlackEmulator, ts: str) -> list[Any]:
    return [c for c in emulator.calls_to("chat.postMessage") if c.get("thread_ts") == ts]


async def test_one_reply_when_both_replicas_get_the_event_and_its_retries(redis_url: str) -> None:
    async with replicas(2, vpn_doctor_state=redis_url) as (one, two):
        body = mention_body(PASTE)
        ts = body["event"]["ts"]
        first = await asyncio.gather(one.send_event(copy_body(body)), two.send_event(copy_body(body)))
        assert [status for status, _ in first] == [200, 200]
        await one.replies(1, thread_ts=ts)
        for number, target in ((1, two), (2, one), (3, two)):
            status, _ = await target.send_event(copy_body(body), retry_num=number)
            assert status == 200  # acknowledged, so Slack stops re-sending
        await one.emulator.settle(quiet=0.3)
        assert len(replies_to(one.emulator, ts)) == 1
        assert len([c for c in one.emulator.calls_to("reactions.add") if c.get("timestamp") == ts]) == 2


async def test_a_retry_reaching_the_other_replica_while_the_first_still_answers_is_dropped(
    redis_url: str,
) -> None:
    """The case the per-process filter could not cover: Slack gave up on replica one's ack."""
    async with replicas(2, vpn_doctor_state=redis_url) as (one, two):
        body = mention_body(PASTE)
        ts = body["event"]["ts"]
        assert (await one.send_event(copy_body(body)))[0] == 200
        assert (await two.send_event(copy_body(body), retry_num=1))[0] == 200
        await one.replies(1, thread_ts=ts)
        await one.emulator.settle(quiet=0.3)
        assert len(replies_to(one.emulator, ts)) == 1


async def test_one_reply_when_a_dm_arrives_as_app_mention_on_one_replica_and_message_on_the_other(
    redis_url: str,
) -> None:
    async with replicas(2, vpn_doctor_state=redis_url) as (one, two):
        ts = next_ts()
        as_message = message_body(PASTE, channel="D111", ts=ts)
        as_mention = mention_body(PASTE, channel="D111", ts=ts)
        await asyncio.gather(one.send_event(as_mention), two.send_event(as_message))
        await one.replies(1, thread_ts=ts)
        await one.emulator.settle(quiet=0.3)
        assert len(replies_to(one.emulator, ts)) == 1


async def test_the_shared_key_is_namespaced_by_team_channel_and_ts_and_expires(redis_url: str) -> None:
    async with replicas(1, vpn_doctor_state=redis_url) as (bot,):
        body = mention_body(PASTE)
        await bot.send_event(body)
        await bot.replies(1, thread_ts=body["event"]["ts"])
    key = SEEN_PREFIX + f"{body['team_id']}:{body['event']['channel']}:{body['event']['ts']}"
    assert key == SEEN_PREFIX + str(message_key(body))
    client = redis.from_url(redis_url)
    try:
        assert await client.get(key) == b"1"
        assert 0 < await client.ttl(key) <= 3600
    finally:
        await client.aclose()


def test_the_store_follows_vpn_doctor_state() -> None:
    def store_for(state: str) -> type:
        return type(Services(settings=Settings(_env_file=None, vpn_doctor_state=state)).seen)

    assert store_for("sqlite:///vpn-doctor-state.sqlite3") is SqliteSeenStore
    assert store_for("redis://127.0.0.1:6379/0") is RedisSeenStore
    assert store_for("rediss://cache.example:6380/1") is RedisSeenStore
    assert store_for("unix:///run/redis.sock") is RedisSeenStore


async def test_without_a_reachable_redis_every_message_is_answered_once_and_one_warning_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.dedupe")
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async with replicas(1, vpn_doctor_state=dead) as (bot,):
        bodies = [mention_body(PASTE) for _ in range(3)]
        for body in bodies:
            assert (await bot.send_event(copy_body(body)))[0] == 200
            assert (await bot.send_event(copy_body(body), retry_num=1))[0] == 200
        for body in bodies:
            await bot.replies(1, thread_ts=body["event"]["ts"])
        await bot.emulator.settle(quiet=0.3)
        for body in bodies:
            assert len(replies_to(bot.emulator, body["event"]["ts"])) == 1
    warnings = [r for r in caplog.records if r.name == "bot.dedupe" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "this process only" in warnings[0].getMessage()


async def test_the_shared_record_is_used_again_once_redis_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail open during an outage, then back to Redis: a copy first seen locally stays a repeat."""
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed")
    now = [0.0]
    port = free_port()
    store = RedisSeenStore(f"redis://127.0.0.1:{port}/0", retry_seconds=5.0, clock=lambda: now[0])
    assert await store.claim("T1:C1:1.1")  # nothing listens yet: this process decides
    assert not await store.claim("T1:C1:1.1")
    monkeypatch.setattr("tests.redis_server.free_port", lambda: port)  # start Redis where the store looks
    server = RedisServer(binary, tmp_path)
    other = RedisSeenStore(server.url)
    try:
        assert await other.claim("T1:C1:2.2")
        assert await store.claim("T1:C1:2.2"), "within the pause after a failure the local record decides"
        now[0] += 6.0
        assert await store.claim("T1:C1:3.3")
        assert not await other.claim("T1:C1:3.3"), "the store writes to Redis again"
        assert not await store.claim("T1:C1:1.1"), "seen here during the outage"
        assert not await other.claim("T1:C1:1.1"), "and now recorded for the other replicas too"
    finally:
        await store.aclose()
        await other.aclose()
        server.stop()
