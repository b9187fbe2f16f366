"""SIGTERM on `python -m bot` in HTTP mode with the demo Dashboard: quick when idle, answers first when not.

The in-process demo Dashboard keeps keep-alive connections open; shutdown must not mistake
them for work in flight (that cost the whole 10 s grace on every stop), yet a reply still
being posted is waited for.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

from bot.in_flight import MARK_SECONDS
from tests.live_helpers import slash_body
from tests.slack_helpers import CHANNEL, mention_body
from tests.test_ops_http import bot_process, pasted_lines

IDLE_EXIT_SECONDS = 5.0


async def _terminate(process: asyncio.subprocess.Process, limit: float = IDLE_EXIT_SECONDS + 5) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), timeout=limit)
    return code, time.monotonic() - started


async def test_an_idle_bot_exits_cleanly_within_seconds_of_sigterm(tmp_path: Path) -> None:
    async with bot_process(tmp_path) as bot:
        status, body = await bot.readyz()
        assert status == 200 and body["checks"]["dashboard"]["detail"] == "demo organisation", body
        code, took = await _terminate(bot.process)
    assert code == 0, "\n".join(bot.stderr)
    assert took < IDLE_EXIT_SECONDS, f"took {took:.1f} s to stop"
    assert any("shutting down" in line for line in bot.stderr)


async def test_a_reply_in_flight_at_sigterm_is_still_posted(tmp_path: Path) -> None:
    async with bot_process(tmp_path) as bot:
        # The first post is refused with a 1 s Retry-After, so the reply is in flight when the signal comes.
        bot.emulator.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
        await bot.mention(pasted_lines())
        await bot.emulator.wait_for("chat.postMessage", 1, timeout=20)
        code, took = await _terminate(bot.process)
        posts = bot.emulator.calls_to("chat.postMessage")
    assert code == 0, "\n".join(bot.stderr)
    assert len(posts) == 2, "the retried reply reached Slack before the process ended"
    assert took < IDLE_EXIT_SECONDS, f"took {took:.1f} s to stop"


GRACE = 2.0
SLOW_POST = 6.0


def _in_thread(args: dict[str, Any]) -> bool:
    return bool(args.get("thread_ts"))


async def test_replies_still_owed_at_sigterm_are_marked_not_answered(tmp_path: Path) -> None:
    """Ten replies stuck behind a slow Slack: none silently lost, and the process keeps to its deadline."""
    async with bot_process(tmp_path, VPN_DOCTOR_SHUTDOWN_GRACE_SECONDS=str(GRACE)) as bot:
        bot.emulator.slow_down("chat.postMessage", SLOW_POST, where=_in_thread)
        mentions = [mention_body(pasted_lines()) for _ in range(10)]
        for body in mentions:
            await bot.post_event(body)
        await bot.emulator.wait_for("chat.postMessage", 10, timeout=30)  # every answer is on its way
        code, took = await _terminate(bot.process, limit=GRACE + MARK_SECONDS + 10)
    assert code == 0, "\n".join(bot.stderr)
    assert took < GRACE + MARK_SECONDS + 3, f"took {took:.1f} s to stop"
    for body in mentions:
        ts = body["event"]["ts"]
        assert bot.emulator.reactions.get((CHANNEL, ts)) == {"warning"}, ts
        notes = [
            c for c in bot.emulator.calls_to("chat.postMessage")
            if c.get("thread_ts") == ts and "restarted before" in str(c.get("text"))
        ]
        assert len(notes) == 1, ts
    assert any("shutdown cut 10 answer(s) short" in line and "reply=10" in line for line in bot.stderr)


async def test_a_vpn_lookup_cut_short_at_sigterm_updates_its_parent(tmp_path: Path) -> None:
    async with bot_process(tmp_path, VPN_DOCTOR_SHUTDOWN_GRACE_SECONDS=str(GRACE)) as bot:
        bot.emulator.slow_down("chat.postMessage", SLOW_POST, where=_in_thread)
        status = await bot.post_form(slash_body("azure-prod-vnet", bot.emulator.response_url("vpn")))
        assert status == 200
        parents = await bot.emulator.wait_for("chat.postMessage", 2, timeout=30)  # parent, then the answer
        code, took = await _terminate(bot.process, limit=GRACE + MARK_SECONDS + 10)
    assert code == 0, "\n".join(bot.stderr)
    assert took < GRACE + MARK_SECONDS + 3, f"took {took:.1f} s to stop"
    parent_ts = next(c for c in parents if not c.get("thread_ts"))
    updates = bot.emulator.calls_to("chat.update")
    assert updates, "the Checking… parent was left as it was"
    assert "cut short" in str(updates[-1].get("text")) and "/vpn azure-prod-vnet" in str(updates[-1].get("text"))
    assert parent_ts is not None
