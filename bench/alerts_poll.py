"""Alert polling figures for a large organisation: 200 MX networks, 1,000 third-party peers.

Run: python -m bench.alerts_poll [--rps 5] [--poll 1.0] [--hold 2] [--flips 5] [--page-size 50]
     [--state sqlite:///path | redis://127.0.0.1:6379/0]
Figures: one poll cycle's duration and Dashboard requests (cold and warm), the highest
request count the emulator saw in any sliding second (must never pass --rps), and the
time from a reachability flip in the emulator to the alert arriving at the Slack emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bot.alerts.service import AlertConfig, AlertService
from bot.alerts.state import open_state
from bot.app import web_client
from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator, DemoData, RecordedRequest, loopback_session
from tests.slack_emulator import SlackEmulator
from tests.slack_helpers import bot_settings

KEY = "bench-key"
CHANNEL = "C0BENCH"


def big_org(networks: int = 200, peers_per_network: int = 5) -> DemoData:
    """The demo organisation's shapes, scaled up; every peer reachable to start with."""
    demo = DemoData.load()
    org = demo.org_id
    data = DemoData(
        organizations=demo.organizations,
        networks=[],
        devices=[],
        peers={"peers": []},
        vpn_statuses=[],
        uplink_statuses=[],
        event_types=demo.event_types,
    )
    template = demo.peers["peers"][0]
    for n in range(networks):
        network_id = f"L_{900000 + n}"
        name = f"site-{n:03d}"
        wan1 = f"100.64.{n // 250}.{n % 250 + 1}"
        data.networks.append(
            {"id": network_id, "organizationId": org, "name": name, "productTypes": ["appliance"],
             "timeZone": "UTC", "tags": [f"t{n}"]}
        )
        data.devices.append(
            {"serial": f"Q2BN-{n:04d}-0001", "name": f"{name}-mx", "model": "MX85", "networkId": network_id,
             "firmware": "wired-18-211", "productType": "appliance", "mac": f"00:18:0a:00:{n // 256:02x}:{n % 256:02x}"}
        )
        data.uplink_statuses.append(
            {"networkId": network_id, "serial": f"Q2BN-{n:04d}-0001", "model": "MX85",
             "lastReportedAt": "2026-01-01T00:00:00Z",
             "uplinks": [{"interface": "wan1", "status": "active", "ip": wan1, "publicIp": wan1}]}
        )
        rows = []
        for p in range(peers_per_network):
            peer_name = f"peer-{n:03d}-{p}"
            address = f"198.18.{n}.{p + 1}" if n < 256 else f"198.19.{n - 256}.{p + 1}"
            data.peers["peers"].append(
                {**template, "name": peer_name, "publicIp": address, "networkTags": ["none"],
                 "network": {"ids": [network_id]}}
            )
            rows.append({"name": peer_name, "publicIp": address, "reachability": "reachable"})
        data.vpn_statuses.append(
            {"networkId": network_id, "networkName": name, "deviceSerial": f"Q2BN-{n:04d}-0001",
             "deviceStatus": "online", "uplinks": [{"interface": "wan1", "publicIp": wan1}], "vpnMode": "spoke",
             "exportedSubnets": [], "merakiVpnPeers": [], "thirdPartyVpnPeers": rows}
        )
    return data


def max_in_window(requests: list[RecordedRequest], window: float = 1.0) -> int:
    times = sorted(r.at for r in requests)
    return max((sum(1 for t in times[i:] if t < s + window) for i, s in enumerate(times)), default=0)


async def run(args: argparse.Namespace) -> int:
    data = big_org()
    peers = sum(len(s["thirdPartyVpnPeers"]) for s in data.vpn_statuses)
    print(f"organisation: {len(data.networks)} MX networks, {peers} third-party peers")
    with tempfile.TemporaryDirectory() as folder:
        state_url = args.state or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        store = open_state(state_url)
        slack = SlackEmulator()
        await slack.start()
        async with DashboardEmulator(data, api_key=KEY, page_size=args.page_size) as emu, loopback_session() as s:
            client = DashboardClient(KEY, base_url=emu.base_url, session=s, rps=args.rps)
            config = AlertConfig(
                channel=CHANNEL, poll_seconds=args.poll, hold_polls=args.hold, webhook_secret=SecretStr("x"),
                lease_seconds=max(3.0, args.poll * 3),
            )
            service = AlertService(config, dashboard=client, slack=web_client(bot_settings(slack), s), store=store)

            # 1. Poll cycles, measured without the loop's waits: first with the rate window
            # empty before each poll (the cycle itself), then back to back (pacing included).
            cycles = []
            for n in range(args.cycles):
                if n == args.cycles // 2:
                    print("-- back to back from here: the sliding window paces the requests")
                elif n < args.cycles // 2 and n:
                    await asyncio.sleep(client.limiter.window)
                started = time.perf_counter()
                result = await service.poller.poll()
                cycles.append((time.perf_counter() - started, result.dashboard_calls, result.written))
                label = "cold" if n == 0 else "warm"
                print(
                    f"poll {n + 1} ({label}): {cycles[-1][0] * 1000:.0f} ms, {result.dashboard_calls} Dashboard "
                    f"requests, {result.peers} peers read, {result.written} tracks written"
                )
            warm = [c[0] for c in cycles[1 : args.cycles // 2]] or [cycles[0][0]]
            polled = emu.requests_to("/appliance/vpn/statuses")
            span = polled[-1].at - polled[0].at if len(polled) > 1 else 0.0
            print(
                f"poll cycle: median {statistics.median(warm) * 1000:.0f} ms warm with an empty rate window; "
                f"{len(polled)} requests in "
                f"{span:.2f} s = {len(polled) / span if span else 0:.1f} req/s; max {max_in_window(polled)} "
                f"in any sliding second (configured {args.rps:g})"
            )

            # 2. Flip → alert latency with the real loop running.
            emu.requests.clear()
            await service.start()
            while not service.leader:
                await asyncio.sleep(0.01)
            latencies = []
            for n in range(args.flips):
                network = data.vpn_statuses[(n * 37) % len(data.vpn_statuses)]
                peer = network["thirdPartyVpnPeers"][n % len(network["thirdPartyVpnPeers"])]["name"]
                await asyncio.sleep(args.poll * (0.3 + 0.37 * n % 1))
                before = len(slack.calls_to("chat.postMessage"))
                emu.set_reachability(network["networkId"], peer, "unreachable")
                flipped = time.perf_counter()
                calls = await slack.wait_for(
                    "chat.postMessage", before + 1, timeout=args.poll * (args.hold + 4) + 30,
                    where=lambda c: c.get("channel") == CHANNEL,
                )
                arrived = [c for c in calls if not c.get("thread_ts") and peer in c.get("text", "")]
                while not arrived:
                    await asyncio.sleep(0.01)
                    arrived = [
                        c for c in slack.calls_to("chat.postMessage")
                        if not c.get("thread_ts") and peer in c.get("text", "")
                    ]
                latencies.append(arrived[0].at - flipped)
                print(f"flip {n + 1}: {peer} on {network['networkName']} → alert in {latencies[-1]:.2f} s")
            await slack.settle(quiet=args.poll * 1.5, timeout=60)
            await service.stop()
            all_requests = list(emu.requests)
            print(
                f"flip → alert: median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s "
                f"(poll every {args.poll:g} s, hold {args.hold} polls: expected between "
                f"{(args.hold - 1) * args.poll:.1f} and {args.hold * args.poll:.1f} s plus the poll itself)"
            )
            print(
                f"whole run with diagnoses: {len(all_requests)} Dashboard requests, max {max_in_window(all_requests)} "
                f"in any sliding second (configured {args.rps:g})"
            )
            alerts = [c for c in slack.calls_to("chat.postMessage") if not c.get("thread_ts")]
            print(f"Slack: {len(alerts)} alerts, {len(slack.calls_to('chat.postMessage')) - len(alerts)} thread posts")
            ok = max_in_window(all_requests) <= args.rps and len(alerts) == args.flips
        await store.close()
        await slack.stop()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rps", type=float, default=5.0)
    parser.add_argument("--poll", type=float, default=1.0, help="VPN_DOCTOR_POLL_SECONDS for the latency run")
    parser.add_argument("--hold", type=int, default=2)
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--flips", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=50, help="statuses per page the emulator serves")
    parser.add_argument("--state", default=None, help="state URL (default: SQLite in a temporary folder)")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
