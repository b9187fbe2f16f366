"""Live lookups over real HTTP against the demo organisation in the Dashboard emulator."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator, DemoData, Fault, loopback_session
from bot.dashboard.emulator.resolver import LoopbackResolver
from bot.dashboard.errors import DashboardError, Reason
from bot.dashboard.models import Event, ThirdPartyPeer
from bot.dashboard.narrow import PeerAddresses, narrow_events
from bot.live import LiveReport, LiveService, LookupMiss, resolve_peer
from bot.render.dashboard import live_text

KEY = "live-test-key"
SECRETS = [p["secret"] for p in DemoData.load().peers["peers"]]


@pytest.fixture
async def emu() -> AsyncIterator[DashboardEmulator]:
    async with DashboardEmulator(api_key=KEY, shard_host="n77.meraki.com") as e:
        yield e


@pytest.fixture
async def service(emu) -> AsyncIterator[LiveService]:
    async with loopback_session() as session:
        client = DashboardClient(KEY, base_url=emu.base_url, session=session, rps=50, failure_backoff=0.01)
        yield LiveService(client, demo=True)


def demo_peers() -> list[ThirdPartyPeer]:
    return [ThirdPartyPeer.model_validate(p) for p in DemoData.load().peers["peers"]]


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    times = sorted(stamps)
    return max((sum(1 for t in times[i:] if t < s + window) for i, s in enumerate(times)), default=0)


# Resolving the peer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("azure-prod-vnet", "azure-prod-vnet"),
        ("AZURE-Prod-VNet", "azure-prod-vnet"),
        ("azure", "azure-prod-vnet"),
        ("198.51.100.50", "nyc-opnsense"),
        ("  london  ", "london-dc"),
    ],
)
def test_resolves_by_name_prefix_or_ip(query, name):
    found = resolve_peer(query, demo_peers())
    assert isinstance(found, ThirdPartyPeer) and found.name == name


def test_ambiguous_prefix_lists_the_candidates():
    found = resolve_peer("pa", demo_peers())
    assert isinstance(found, LookupMiss)
    assert found.reason == "ambiguous"
    assert found.candidates == ["paris-asa", "partner-osaka-ikev2"]


@pytest.mark.parametrize(
    ("query", "close"), [("azure-prd-vnet", "azure-prod-vnet"), ("203.0.113.11", "azure-prod-vnet")]
)
def test_unknown_peer_offers_close_matches(query, close):
    found = resolve_peer(query, demo_peers())
    assert isinstance(found, LookupMiss) and found.reason == "unknown"
    assert close in found.candidates


def test_nothing_close_gives_an_empty_list():
    found = resolve_peer("zzzzzzzz", demo_peers())
    assert isinstance(found, LookupMiss) and found.candidates == []


# Narrowing an MX's events to one peer -------------------------------------------------------


def tokyo_events() -> list[Event]:
    now = datetime.now(UTC)
    return [Event.model_validate(e) for e in DemoData.load().events("N_24329101", now)
            if e["type"] == "non_meraki_vpn_negotiation"]


def test_racoon_lines_without_an_address_follow_their_exchange():
    azure_ip, singapore_ip = frozenset({"203.0.113.10"}), frozenset({"198.51.100.20"})
    azure = narrow_events(tokyo_events(), PeerAddresses(azure_ip, singapore_ip, False))
    singapore = narrow_events(tokyo_events(), PeerAddresses(singapore_ip, azure_ip, False))
    azure_lines = {e.msg for e in azure}
    singapore_lines = {e.msg for e in singapore}
    assert "failed to get sainfo" in azure_lines
    assert not any("198.51.100.20" in line for line in azure_lines)
    assert not any(line.endswith(":0000000000000000") for line in azure_lines)
    assert any(line.endswith(":0000000000000000") for line in singapore_lines)
    assert "failed to get sainfo" not in singapore_lines
    assert len(azure) + len(singapore) == len(tokyo_events())


def test_charon_connection_names_tie_lines_to_the_peer():
    now = datetime.now(UTC)
    events = [Event.model_validate(e) for e in DemoData.load().events("N_24329104", now)]
    others = frozenset({"203.0.113.40", "198.51.100.60"})
    nyc = narrow_events(events, PeerAddresses(frozenset({"198.51.100.50"}), others, False))
    assert nyc and all("remote-peer-2" in e.msg for e in nyc)
    assert any("CHILD_SA" in e.msg and "closing" in e.msg for e in nyc)


# Status and peer list ----------------------------------------------------------------------


async def test_status_lists_down_peers_first(service, emu):
    report = await service.status()
    assert report.demo
    assert [r.path.rsplit("/", 1)[-1] for r in emu.requests] == ["organizations", "statuses"]
    assert report.dashboard_calls == 2
    reach = [r.reachable for r in report.rows]
    assert reach == sorted(reach)
    assert {r.peer for r in report.down} == {
        "azure-prod-vnet", "singapore-colo", "partner-osaka-ikev2", "paris-asa", "london-dc"
    }


async def test_peer_list_knows_networks_by_tag_and_by_id(service):
    listing = await service.peers()
    by_name = {p.name: p for p in listing.peers}
    assert len(by_name) == 7
    assert by_name["nyc-opnsense"].networks == ["Frankfurt Hub"]
    assert by_name["frankfurt-aws"].networks == ["Frankfurt Hub"]
    assert by_name["azure-prod-vnet"].networks == ["Tokyo DC"]
    assert "secret" not in listing.model_dump_json().lower()


async def test_unknown_query_returns_a_miss_without_touching_events(service, emu):
    miss = await service.lookup("azur-prod")
    assert isinstance(miss, LookupMiss) and "azure-prod-vnet" in miss.candidates
    assert not emu.requests_to("/events")


# Full lookups -------------------------------------------------------------------------------

EXPECTED = {
    "azure-prod-vnet": {"subnet-mismatch"},
    "singapore-colo": {"peer-unresponsive"},
    "partner-osaka-ikev2": {"ikev2-unsupported-firmware"},
    "frankfurt-aws": {"tunnel-established"},
    "paris-asa": {"phase1-not-established"},
    "london-dc": {"uplink-failover"},
}


@pytest.mark.parametrize(("peer", "expected"), sorted(EXPECTED.items()))
async def test_each_demo_peer_gets_its_finding(service, peer, expected):
    report = await service.lookup(peer)
    assert isinstance(report, LiveReport)
    assert expected <= set(report.finding_ids), report.finding_ids
    assert report.demo


async def test_the_flapping_peer_is_not_called_healthy(service):
    report = await service.lookup("nyc-opnsense")
    assert isinstance(report, LiveReport)
    assert report.diagnosis.verdict.value != "healthy"


async def test_dashboard_section_reports_reachability_firmware_and_uplink(service):
    azure = await service.lookup("azure-prod-vnet")
    london = await service.lookup("london-dc")
    assert isinstance(azure, LiveReport) and isinstance(london, LiveReport)
    tokyo = azure.networks[0]
    assert (tokyo.name, tokyo.reachable, tokyo.firmware_version, tokyo.dialect) == (
        "Tokyo DC", False, "MX 14.53", "racoon"
    )
    assert tokyo.ikev2_supported is False
    assert tokyo.events_matched > 0
    assert (london.networks[0].uplink_in_use, london.networks[0].uplink_ip) == ("wan2", "192.0.2.130")
    failover = next(f for f in london.diagnosis.findings if f.id == "uplink-failover")
    assert "wan2 (192.0.2.130)" in failover.facts["uplink"]


async def test_calls_per_lookup_cold_and_warm(service, emu):
    cold = await service.lookup("azure-prod-vnet")
    warm = await service.lookup("azure-prod-vnet")
    assert isinstance(cold, LiveReport) and isinstance(warm, LiveReport)
    assert cold.dashboard_calls <= 8
    assert warm.dashboard_calls <= 3
    assert len(emu.requests) == cold.dashboard_calls + warm.dashboard_calls


async def test_events_are_asked_for_by_discovered_type(service, emu):
    await service.lookup("frankfurt-aws", hours=6)
    query = next(r.query for r in emu.requests if r.path.endswith("/events"))
    assert ("includedEventTypes[]", "non_meraki_vpn_negotiation") in query
    assert ("productType", "appliance") in query


async def test_without_vpn_event_types_events_are_filtered_client_side(service, emu):
    emu.data.event_types = [{"category": "DHCP", "type": "dhcp_lease", "description": "DHCP lease"}]
    report = await service.lookup("azure-prod-vnet")
    assert isinstance(report, LiveReport)
    query = next(r.query for r in emu.requests if r.path.endswith("/events"))
    assert ("productType", "appliance") in query
    assert all(k != "includedEventTypes[]" for k, _ in query)
    assert "subnet-mismatch" in report.finding_ids


async def test_no_psk_in_reports_or_logs(service, caplog):
    caplog.set_level(logging.DEBUG)
    texts = []
    for peer in EXPECTED:
        report = await service.lookup(peer)
        assert isinstance(report, LiveReport)
        texts.append(report.model_dump_json())
        texts.append(json.dumps(report.model_dump(mode="json")))
        assert report.peer["secretConfigured"] is True
    texts.extend(r.getMessage() for r in caplog.records)
    joined = "\n".join(texts)
    assert not any(secret in joined for secret in SECRETS)
    assert KEY not in joined


async def test_twenty_concurrent_lookups_stay_within_the_rate(emu):
    """Counted when each request leaves the client: the emulator shares this test's event loop,
    so under CPU load its own arrival stamps bunch up by more than the limiter's guard."""
    sent: list[float] = []

    async def on_start(_session: object, _context: object, _params: object) -> None:
        sent.append(time.monotonic())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=LoopbackResolver()), trace_configs=[trace])
    async with session:
        client = DashboardClient(KEY, base_url=emu.base_url, session=session, rps=5)
        service = LiveService(client, demo=True)
        peers = list(EXPECTED) * 4
        reports = await asyncio.gather(*(service.lookup(p) for p in peers[:20]))
    assert all(isinstance(r, LiveReport) for r in reports)
    assert len(sent) == len(emu.requests)
    assert max_in_window(sent) <= 5


async def test_dashboard_errors_reach_the_caller_typed(service, emu):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=403))
    with pytest.raises(DashboardError) as caught:
        await service.lookup("azure-prod-vnet")
    assert caught.value.reason is Reason.NO_ACCESS


async def test_window_is_clamped_and_reported(service):
    report = await service.lookup("frankfurt-aws", hours=10_000)
    assert isinstance(report, LiveReport) and report.hours == 168
    since = datetime.now(UTC) - timedelta(hours=168)
    assert all(since <= datetime.fromisoformat(e.text.split()[0].replace("Z", "+00:00"))
               for f in report.diagnosis.findings for e in f.evidence if e.text[:2] == "20")


DEADLINE = 1.5


@pytest.fixture
async def hasty(emu) -> AsyncIterator[LiveService]:
    async with loopback_session() as session:
        client = DashboardClient(KEY, base_url=emu.base_url, session=session, rps=50, failure_backoff=0.01)
        yield LiveService(client, demo=True, deadline=DEADLINE)


async def test_a_429_storm_on_the_events_gives_a_partial_answer_at_the_deadline(emu, hasty):
    """Retry-After: 60 on every event page: the answer comes at the deadline with what was read."""
    emu.inject(Fault(path="/events", status=429, retry_after="60", times=10_000))
    started = time.monotonic()
    report = await hasty.lookup("azure-prod-vnet")
    took = time.monotonic() - started
    assert isinstance(report, LiveReport)
    assert took < DEADLINE + 2.0, f"{took:.1f} s"
    assert report.unread and all(item.startswith("events:") for item in report.unread)
    assert report.networks, "the statuses read before the deadline are kept"
    assert all(n.reachability is not None for n in report.networks)
    assert "busy" in live_text(report) and "event log of" in live_text(report)


async def test_a_peer_list_that_never_arrives_is_a_busy_dashboard_at_the_deadline(emu, hasty):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=429, retry_after="60", times=10_000))
    started = time.monotonic()
    with pytest.raises(DashboardError) as caught:
        await hasty.lookup("azure-prod-vnet")
    assert caught.value.reason is Reason.DEADLINE and "busy" in caught.value.sentence("en")
    with pytest.raises(DashboardError) as listing:
        await hasty.peers()
    assert listing.value.reason is Reason.DEADLINE
    assert time.monotonic() - started < 2 * DEADLINE + 1.0


async def test_a_lookup_within_its_deadline_reads_everything(hasty):
    report = await hasty.lookup("azure-prod-vnet")
    assert isinstance(report, LiveReport) and report.unread == []
    assert "busy" not in live_text(report)
