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

from tests.test_ops_http import bot_process, pasted_lines

IDLE_EXIT_SECONDS = 5.0


async def _terminate(process: asyncio.subprocess.Process) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), timeout=IDLE_EXIT_SECONDS + 5)
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
