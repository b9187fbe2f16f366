"""Live lookup figures against the Dashboard emulator: calls per lookup, latency, pacing.

Run: python -m bench.dashboard_live [--rps 5] [--latency-ms 50] [--concurrent 20]
Goals (issue 5): at most 8 Dashboard calls for a cold lookup and 3 for a warm one; the
request rate measured at the emulator never above the configured one in any second.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator, DemoData, RecordedRequest, loopback_session
from bot.live import LiveReport, LiveService

KEY = "bench-key"


def max_in_window(requests: list[RecordedRequest], window: float = 1.0) -> int:
    times = sorted(r.at for r in requests)
    return max((sum(1 for t in times[i:] if t < s + window) for i, s in enumerate(times)), default=0)


async def calls_per_lookup(rps: float) -> list[tuple[str, int, int]]:
    rows = []
    peers = [p["name"] for p in DemoData.load().peers["peers"]]
    for name in peers:
        async with DashboardEmulator(api_key=KEY) as emu, loopback_session() as session:
            service = LiveService(DashboardClient(KEY, base_url=emu.base_url, session=session, rps=rps))
            cold = await service.lookup(name)
            warm = await service.lookup(name)
            assert isinstance(cold, LiveReport) and isinstance(warm, LiveReport)
            rows.append((name, cold.dashboard_calls, warm.dashboard_calls))
    return rows


async def concurrent(
    rps: float, latency: float, count: int, warm: bool
) -> tuple[list[float], float, int, int]:
    peers = [p["name"] for p in DemoData.load().peers["peers"]]
    async with DashboardEmulator(api_key=KEY, latency=latency) as emu, loopback_session() as session:
        service = LiveService(DashboardClient(KEY, base_url=emu.base_url, session=session, rps=rps))
        if warm:
            await service.peers()
            await service.lookup(peers[0])
            emu.requests.clear()

        async def timed(name: str) -> float:
            started = time.monotonic()
            await service.lookup(name)
            return time.monotonic() - started

        started = time.monotonic()
        durations = await asyncio.gather(*(timed(peers[i % len(peers)]) for i in range(count)))
        wall = time.monotonic() - started
        return list(durations), wall, len(emu.requests), max_in_window(emu.requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrent", type=int, default=20)
    args = parser.parse_args()

    rows = asyncio.run(calls_per_lookup(args.rps))
    print("Dashboard calls per lookup (cold / warm), goal <= 8 / <= 3")
    for name, cold, warm in rows:
        print(f"  {name:<22} {cold:>2} / {warm}")
    worst_cold, worst_warm = max(r[1] for r in rows), max(r[2] for r in rows)
    print(f"  worst                  {worst_cold:>2} / {worst_warm}")

    ok = worst_cold <= 8 and worst_warm <= 3
    for warm in (False, True):
        durations, wall, requests, peak = asyncio.run(
            concurrent(args.rps, args.latency_ms / 1000, args.concurrent, warm)
        )
        label = "warm cache" if warm else "cold cache"
        print(
            f"{args.concurrent} concurrent lookups, {args.latency_ms:.0f} ms emulator latency, {label}: "
            f"median {statistics.median(durations):.2f} s, slowest {max(durations):.2f} s, "
            f"all done in {wall:.2f} s, {requests} requests, "
            f"max {peak} in any 1 s window (configured {args.rps:g}/s)"
        )
        ok = ok and peak <= args.rps
    print("goals met" if ok else "GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
