"""50 concurrent signed mentions against the Web API emulator: acknowledgement and reply latency.

Run: `python -m bench.slack_mentions [--mentions 50] [--rounds 3] [--in-process]`. The bot runs
as its own process (`python -m bot` in HTTP mode, as deployed) while this process plays
Slack: it sends the signed mentions and hosts the Web API emulator. Each mention carries
a short MX log; the clock starts when the request is sent and stops when the threaded
`chat.postMessage` reaches the emulator (reply) or when the HTTP response arrives (ack).
`--in-process` serves the bot in this process instead (one event loop for everything).
Goals: reply p95 ≤ 150 ms, every ack well under Slack's 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from tests.slack_emulator import SlackEmulator
from tests.slack_helpers import SIGNING_SECRET, BotHarness, bot_settings, mention_body, running_bot, sign

LOG = (
    "&lt;134&gt;1 1753179611.244272509 MX-HQ events Site-to-site VPN: initiate new phase 1 negotiation: "
    "198.51.100.2[500]&lt;=&gt;203.0.113.10[500]\n"
    "&lt;134&gt;1 1753179613.711178002 MX-HQ events Site-to-site VPN: notification "
    "INVALID-HASH-INFORMATION received in unencrypted informational exchange"
)
REPLY_GOAL_MS = 150.0
ACK_GOAL_MS = 3000.0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def one_mention(bot: BotHarness, user: str) -> tuple[str, float, float]:
    """(thread ts, start time, ack ms) for one signed mention."""
    body = mention_body(LOG, user=user)
    raw = json.dumps(body)
    headers = {"Content-Type": "application/json", **sign(raw)}
    started = time.perf_counter()
    status, _ = await bot.post_raw(raw, headers)
    ack_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"mention answered {status}")
    return body["event"]["ts"], started, ack_ms


async def burst(bot: BotHarness, count: int) -> tuple[list[float], list[float]]:
    users = [f"U{i:04d}" for i in range(count)]
    results = await asyncio.gather(*(one_mention(bot, user) for user in users))
    threads = {ts for ts, _, _ in results}
    replies = await bot.emulator.wait_for(
        "chat.postMessage", count, timeout=30, where=lambda c: c.get("thread_ts") in threads
    )
    wrong = [c for c in replies if "psk-mismatch" not in (c.get("metadata") or {}).get("event_payload", {}).get(
        "finding_ids", [])]
    if wrong:
        raise RuntimeError(f"{len(wrong)} replies were not the expected diagnosis")
    arrived = {c["thread_ts"]: c.at for c in replies}
    reply_ms = [(arrived[ts] - started) * 1000 for ts, started, _ in results]
    ack_ms = [ack for _, _, ack in results]
    return reply_ms, ack_ms


def describe(name: str, values: list[float]) -> str:
    return (
        f"{name:<6} n={len(values):<4} p50={statistics.median(values):7.1f} ms  "
        f"p95={percentile(values, 95):7.1f} ms  max={max(values):7.1f} ms"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def bot_process() -> AsyncIterator[BotHarness]:
    """`python -m bot` in HTTP mode against an emulator served from this process."""
    emulator = SlackEmulator()
    await emulator.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VPN_DOCTOR_"))}
    env.update(
        SLACK_BOT_TOKEN=emulator.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=emulator.api_url,
        PORT=str(port),
        BIND_ADDRESS="127.0.0.1",
        LOG_LEVEL="WARNING",
    )
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", env=env)
    http = aiohttp.ClientSession()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                if time.monotonic() > deadline or process.returncode is not None:
                    raise RuntimeError("the bot did not start") from None
                await asyncio.sleep(0.1)
        yield BotHarness(emulator, bot_settings(emulator), f"http://127.0.0.1:{port}/slack/events", http)
    finally:
        process.terminate()
        await process.wait()
        await http.close()
        await emulator.stop()


async def run(mentions: int, rounds: int, in_process: bool) -> int:
    async with running_bot() if in_process else bot_process() as bot:
        await burst(bot, 1)  # first request: auth.test, catalog load
        all_reply: list[float] = []
        all_ack: list[float] = []
        for number in range(1, rounds + 1):
            reply_ms, ack_ms = await burst(bot, mentions)
            all_reply += reply_ms
            all_ack += ack_ms
            print(f"round {number}: {describe('reply', reply_ms)} | {describe('ack', ack_ms)}")
        print(f"all rounds, {mentions} concurrent mentions each:")
        print("  " + describe("reply", all_reply))
        print("  " + describe("ack", all_ack))
        reply_p95, ack_max = percentile(all_reply, 95), max(all_ack)
        ok = reply_p95 <= REPLY_GOAL_MS and ack_max < ACK_GOAL_MS
        print(
            f"goal reply p95 <= {REPLY_GOAL_MS:.0f} ms: {'met' if reply_p95 <= REPLY_GOAL_MS else 'MISSED'}; "
            f"every ack < {ACK_GOAL_MS:.0f} ms: {'met' if ack_max < ACK_GOAL_MS else 'MISSED'}"
        )
        return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--in-process", action="store_true", help="serve the bot in the benchmark's own loop")
    args = parser.parse_args()
    return asyncio.run(run(args.mentions, args.rounds, args.in_process))


if __name__ == "__main__":
    raise SystemExit(main())
