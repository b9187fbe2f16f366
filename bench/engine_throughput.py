"""Engine benchmark: a million-line syslog (1 % VPN) against grep, and VPN churn across 200 peers.

Run with `python -m bench.engine_throughput [--lines N]`. The big file is streamed by a child
process so its peak RSS can be read on its own; grep runs over the same file in the same run.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from knowledge.collector import collector_paused
from knowledge.engine import _matcher, diagnose_bytes
from knowledge.events import Event, extract
from knowledge.library import load_catalog
from knowledge.ordering import chronological
from knowledge.parse import _COMMON
from knowledge.peers import assign_peers, attribute_by_sequence
from knowledge.scan import ScanStats, iter_chunks
from knowledge.timeline import PeerTimeline
from tests import realworld

_NOISE = (
    "<134>1 {ts:.9f} MX84 flows src=10.0.{a}.{b} dst=172.16.{c}.1 mac=00:18:0A:{a:02X}:{b:02X}:01 "
    "protocol=tcp sport={p} dport=443 pattern: allow all",
    "<134>1 {ts:.9f} MX84 urls src=10.0.{a}.{b}:{p} dst=93.184.{c}.34:443 mac=00:18:0A:{a:02X}:{b:02X}:01 "
    "request: GET https://example.com/static/{p}.js",
    "<134>1 {ts:.9f} MX84 events dhcp lease of ip 10.0.{a}.{b} from server mac 00:18:0A:00:00:01 "
    "for client mac 58:97:BD:{a:02X}:{b:02X}:00 from router 10.0.{a}.1",
    "<134>1 {ts:.9f} MX84 ids-alerts signature=1:{p}:3 priority=3 timestamp={ts:.6f} dhost=58:97:BD:00:00:{b:02X} "
    "direction=ingress protocol=tcp/ip src=203.0.113.{c}:{p} dst=10.0.{a}.{b}:80 message: POLICY-OTHER",
)
_VPN = (
    "<134>1 {ts:.9f} MX84 events Site-to-site VPN: initiate new phase 1 negotiation: "
    "198.51.100.2[500]<=>203.0.113.{c}[500]",
    "<134>1 {ts:.9f} MX84 events Site-to-site VPN: phase1 negotiation failed due to time up "
    "7a5bc0d3e1f29a44:0000000000000000",
    "<134>1 {ts:.9f} MX84 events Site-to-site VPN: ISAKMP-SA established 198.51.100.2[4500]-203.0.113.{c}[4500] "
    "spi:fb903f191f1c7566:4dc90bd31c7884c1",
    "<134>1 {ts:.9f} MX84 events Site-to-site VPN: failed to get sainfo",
    "<134>1 {ts:.9f} MX84 events VPN: <remote-peer-{c}|{p}> IKE_SA remote-peer-{c}[{p}] established between "
    "198.51.100.2[198.51.100.2]...203.0.113.{c}[203.0.113.{c}]",
)


def write_syslog(path: Path, lines: int, vpn_share: float, seed: int = 7) -> int:
    rng = random.Random(seed)
    vpn = 0
    ts = 1_700_000_000.0
    with path.open("w", encoding="ascii") as out:
        for _ in range(lines):
            ts += rng.random() * 0.05
            values = {"ts": ts, "a": rng.randrange(256), "b": rng.randrange(256),
                      "c": rng.randrange(1, 250), "p": rng.randrange(1024, 65535)}
            if rng.random() < vpn_share:
                vpn += 1
                out.write(rng.choice(_VPN).format(**values) + "\n")
            else:
                out.write(rng.choice(_NOISE).format(**values) + "\n")
    return vpn


def churn_text(lines: int, peers: int = 200, seed: int = 11) -> bytes:
    """Tunnels coming up and going down with charon and racoon lines across `peers` peers."""
    rng = random.Random(seed)
    out = []
    ts = 1_700_000_000
    uid = 1
    while len(out) < lines:
        peer = rng.randrange(peers)
        addr = f"203.0.{113 + peer // 250}.{peer % 250 + 1}"
        ts += rng.randrange(1, 30)
        stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(ts))
        conn = f"remote-peer-{peer}"
        pick = rng.random()
        if pick < 0.5:
            out += [
                f"{stamp}  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: <{conn}|{uid}> IKE_SA {conn}[{uid}] "
                f"established between 198.51.100.2[198.51.100.2]...{addr}[{addr}]",
                f"{stamp}  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: <{conn}|{uid}> "
                f"CHILD_SA net-{peer}{{{uid}}} "
                f"established with SPIs cd94e190(inbound) c2b06071(outbound) and TS 10.0.0.0/24 === 10.{peer}.0.0/24",
                f"{stamp}  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: <{conn}|{uid}> closing CHILD_SA "
                f"net-{peer}{{{uid}}} with SPIs cd94e190(inbound) (2048 bytes) c2b06071(outbound) (4096 bytes) "
                f"and TS 10.0.0.0/24 === 10.{peer}.0.0/24",
                f"{stamp}  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: <{conn}|{uid}> "
                f"deleting IKE_SA {conn}[{uid}] "
                f"between 198.51.100.2[198.51.100.2]...{addr}[{addr}]",
            ]
        else:
            out += [
                f"{stamp} VPN msg: initiate new phase 1 negotiation: 198.51.100.2[500]<=>{addr}[500]",
                f"{stamp} VPN msg: notification NO-PROPOSAL-CHOSEN received in unencrypted informational exchange.",
                f"{stamp} VPN msg: phase1 negotiation failed due to time up 7a5bc0d3e1f29a44:0000000000000000",
            ]
        uid += 1
    return ("\n".join(out[:lines]) + "\n").encode()


def grep_seconds(path: Path, repeats: int = 3) -> tuple[float, int]:
    keywords = _matcher().scanner.keywords
    pattern = "|".join(re.escape(k) for k in keywords)
    best = float("inf")
    count = 0
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(["grep", "-c", "-i", "-E", pattern, str(path)], capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        count = int(done.stdout.strip() or 0)
    return best, count


_CHILD = """
import sys, time, resource
from knowledge.engine import _matcher, diagnose_stream
_matcher()
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    d = diagnose_stream(f)
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, rss, d.vpn_lines, d.lines_read, len(d.findings))
"""


def engine_on_file(path: Path, repeats: int = 3) -> tuple[float, int, int, int]:
    best = float("inf")
    rss = vpn = read = 0
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True)
        elapsed, peak, vpn_s, read_s, _ = done.stdout.split()
        if float(elapsed) < best:
            best, rss, vpn, read = float(elapsed), int(peak), int(vpn_s), int(read_s)
    return best, rss, vpn, read


def churn_stages(data: bytes, repeats: int = 3) -> dict[str, float]:
    """Best time of each stage of the engine on the same input, to show where a diagnosis spends it."""
    matcher, catalog = _matcher(), load_catalog()
    best: dict[str, float] = {}

    def timed(stage: str, start: float) -> float:
        now = time.perf_counter()
        best[stage] = min(best.get(stage, float("inf")), now - start)
        return now

    for _ in range(repeats):
        with collector_paused():  # as the engine runs
            start = time.perf_counter()
            rows = list(matcher.scanner.scan(iter_chunks(data), ScanStats()))
            start = timed("keyword scan", start)
            events = extract(rows, matcher).events
            start = timed("parse + signature match", start)
            assign_peers(events)
            ordered, _ = chronological(events)
            attribute_by_sequence(ordered)
            start = timed("peers + order", start)
            by_key: dict[str, list[Event]] = {}
            for e in ordered:
                by_key.setdefault(e.key, []).append(e)
            for key, evs in by_key.items():
                PeerTimeline(key, evs, catalog).run()
            timed("timelines", start)
    return best


def churn_floor(data: bytes, repeats: int = 3) -> float:
    """Seconds for the least work any diagnosis of `data` must do per line, and nothing else.

    The keyword scan, the wrapper regex and the first signature regex that matches, keeping one
    tuple per line: no events, no peers, no timelines, no checks, collector off. What this costs in
    the running interpreter bounds what the whole engine can reach on the same machine.
    """
    matcher = _matcher()
    scanner = matcher.scanner
    best = float("inf")
    with collector_paused():
        for _ in range(repeats):
            start = time.perf_counter()
            lines = [(no, text, hits or 0) for no, text, hits in scanner.scan(iter_chunks(data), ScanStats())]
            kept = []
            for no, text, hits in lines:
                wrapper = _COMMON.match(text)
                body = text[wrapper.end():] if wrapper else text
                for comp in matcher._plan(hits):
                    found = comp.apply(body)
                    if found:
                        kept.append((no, comp, found.groupdict()))
                        break
            best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--churn", type=int, default=100_000)
    args = parser.parse_args(argv)
    if shutil.which("grep") is None:
        print("grep not found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "syslog.log"
        vpn = write_syslog(path, args.lines, 0.01)
        size_mb = path.stat().st_size / 1e6
        grep_s, grep_count = grep_seconds(path)
        eng_s, rss_kb, eng_vpn, read = engine_on_file(path)
        ratio = eng_s / grep_s if grep_s else float("inf")
        print(f"syslog: {args.lines:,} lines ({size_mb:.0f} MB), {vpn:,} VPN lines written")
        print(f"  grep -c -i -E (catalog keywords): {grep_s:.3f} s, {grep_count:,} matching lines")
        print(f"  engine (streamed):                 {eng_s:.3f} s, {eng_vpn:,} VPN lines, {read:,} lines read")
        print(f"  ratio engine/grep: {ratio:.2f}x (goal <= 4x)   peak RSS: {rss_kb / 1024:.1f} MB (goal <= 100 MB)")

    data = churn_text(args.churn)
    diagnose_bytes(data[:10_000])
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        d = diagnose_bytes(data)
        runs.append(time.perf_counter() - start)
    rate = args.churn / statistics.median(runs)
    print(f"churn: {args.churn:,} VPN lines across {len(d.peers)} peers: {statistics.median(runs):.3f} s "
          f"-> {rate:,.0f} lines/s (goal >= 200,000), {len(d.findings)} findings")
    for stage, seconds in churn_stages(data).items():
        print(f"  {stage:<24} {seconds:.3f} s  ({seconds / args.churn * 1e6:.1f} µs per line)")
    floor = churn_floor(data)
    print(f"  floor: scan + wrapper regex + signature regex alone, no analysis: {floor:.3f} s "
          f"-> at most {args.churn / floor:,.0f} lines/s in this interpreter")
    corpus = realworld.score()
    print(realworld.score_line(corpus))
    for dialect, (right, total) in corpus.by("dialect").items():
        print(f"  {dialect:<12} {right}/{total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
