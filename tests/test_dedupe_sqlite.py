"""The record of answered messages in the SQLite state file: a retry after a restart is still a repeat."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.dedupe import SqliteSeenStore
from tests.slack_helpers import mention_body
from tests.test_ops_http import bot_process, pasted_lines


async def test_a_second_process_on_the_same_file_knows_what_the_first_answered(tmp_path: Path) -> None:
    now = [1_000_000.0]
    path = str(tmp_path / "state" / "vpn-doctor-state.sqlite3")
    first = SqliteSeenStore(path, ttl_seconds=60, clock=lambda: now[0])
    assert await first.claim("T1:C1:1.1")
    await first.aclose()

    restarted = SqliteSeenStore(path, ttl_seconds=60, clock=lambda: now[0])
    assert not await restarted.claim("T1:C1:1.1")
    assert await restarted.claim("T1:C1:1.2")
    now[0] += 61
    assert await restarted.claim("T1:C1:1.1"), "an expired record answers again"
    await restarted.aclose()


async def test_concurrent_claims_of_one_key_have_one_winner(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite3")
    stores = [SqliteSeenStore(path) for _ in range(4)]
    results = await asyncio.gather(*(s.claim("T1:C1:2.1") for s in stores for _ in range(5)))
    assert sum(results) == 1
    for store in stores:
        await store.aclose()


async def test_a_file_that_cannot_be_used_falls_back_to_this_process_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "state.sqlite3"
    broken.write_bytes(b"this is not a database" * 100)
    store = SqliteSeenStore(str(broken))
    with caplog.at_level(logging.WARNING, logger="bot.dedupe"):
        assert await store.claim("T1:C1:3.1")
        assert not await store.claim("T1:C1:3.1")
        assert await store.claim("T1:C1:3.2")
    warnings = [r for r in caplog.records if "repeat filter (SQLite)" in r.getMessage()]
    assert len(warnings) == 1
    await store.aclose()


async def test_a_slack_retry_after_a_restart_is_not_answered_again(tmp_path: Path) -> None:
    """`python -m bot` twice on one working directory (the default state file), as a pod restart."""
    body = mention_body(pasted_lines())
    async with bot_process(tmp_path) as bot:
        await bot.post_event(body)
        await bot.emulator.wait_for("chat.postMessage", 1, timeout=20)
    assert (tmp_path / "vpn-doctor-state.sqlite3").exists()
    async with bot_process(tmp_path) as bot:
        await bot.post_event(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        fresh = mention_body(pasted_lines())
        await bot.post_event(fresh)
        await bot.emulator.wait_for("chat.postMessage", 1, timeout=20)
        await bot.emulator.settle()
        posts = bot.emulator.calls_to("chat.postMessage")
    assert [p["thread_ts"] for p in posts] == [fresh["event"]["ts"]]
    assert any("ignored a repeated delivery" in line and "retry=1" in line for line in bot.stderr)
