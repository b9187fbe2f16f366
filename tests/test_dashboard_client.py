"""The Dashboard client against the real emulator over HTTP (no mocks of our own code)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.dashboard.client import USER_AGENT, DashboardClient, count_calls, is_meraki_host
from bot.dashboard.emulator import DashboardEmulator, Fault, RecordedRequest, loopback_session
from bot.dashboard.errors import DashboardError, Reason
from bot.dashboard.ratelimit import SlidingWindowLimiter

KEY = "test-key-0123456789"
ORG = "537758"
NETWORKS = f"/organizations/{ORG}/networks"
PEERS = f"/organizations/{ORG}/appliance/vpn/thirdPartyVPNPeers"
DEMO_SECRETS = ("Demo-Azure-Psk-7f3a91", "Demo-Paris-Psk-c4d2a7", "Demo-Nyc-Psk-3e8f12")
# The regex the official SDK applies to its caller string.
SDK_CALLER = re.compile(r"^[A-Za-z0-9]+(?:/[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*(-[a-z]+)?)? [A-Za-z-0-9]+$")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with loopback_session() as s:
        yield s


@pytest.fixture
async def emu() -> AsyncIterator[DashboardEmulator]:
    async with DashboardEmulator(api_key=KEY, shard_host="n123.meraki.com") as e:
        yield e


def client_for(emu: DashboardEmulator, session: aiohttp.ClientSession, **options: object) -> DashboardClient:
    options.setdefault("rps", 100)
    options.setdefault("failure_backoff", 0.01)
    return DashboardClient(KEY, base_url=emu.base_url, session=session, **options)  # type: ignore[arg-type]


def max_in_window(requests: list[RecordedRequest], window: float = 1.0) -> int:
    times = sorted(r.at for r in requests)
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + window))
    return best


async def test_sends_bearer_key_and_product_user_agent(emu, session):
    client = client_for(emu, session)
    await client.organizations()
    request = emu.requests[0]
    assert request.authorization == f"Bearer {KEY}"
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("VPNDoctor/") and USER_AGENT.endswith(" VPNDoctorBot")
    assert SDK_CALLER.match(USER_AGENT)


async def test_org_is_discovered_when_the_key_sees_one(emu, session):
    client = client_for(emu, session)
    assert await client.organization_id() == ORG
    assert await client.organization_id() == ORG
    assert len(emu.requests_to("/organizations")) == 1


async def test_pagination_follows_absolute_links_to_shard_hosts(session):
    async with DashboardEmulator(api_key=KEY, shard_host="n123.meraki.com", page_size=2) as emu:
        client = client_for(emu, session, org_id=ORG)
        networks = await client.networks()
        assert [n.name for n in networks] == ["Tokyo DC", "Osaka Branch", "Frankfurt Hub", "London Office"]
        pages = emu.requests_to("/networks")
        assert [r.host for r in pages] == ["127.0.0.1", "n123.meraki.com"]
        assert all(r.authorization == f"Bearer {KEY}" for r in pages)
        assert dict(pages[1].query)["startingAfter"] == "N_24329102"


async def test_endless_next_link_on_a_list_stops_at_the_empty_page(session):
    async with DashboardEmulator(api_key=KEY, page_size=2, endless_next=True) as emu:
        client = client_for(emu, session, org_id=ORG)
        assert len(await client.networks()) == 4
        assert len(emu.requests_to("/networks")) == 3


async def test_a_next_link_pointing_back_at_itself_is_not_followed_forever(emu, session):
    emu.inject(Fault(path=NETWORKS, link_next=emu.base_url + NETWORKS, times=1000))
    client = client_for(emu, session, org_id=ORG)
    assert len(await client.networks()) == 4
    assert len(emu.requests_to("/networks")) == 1


async def test_events_walk_back_with_ending_before_and_never_follow_next(emu, session):
    client = client_for(emu, session, org_id=ORG)
    since = datetime.now(UTC) - timedelta(hours=6)
    events = await client.network_events(
        "N_24329101", since, included_types=["non_meraki_vpn_negotiation"], per_page=40
    )
    calls = emu.requests_to("/events")
    assert len(calls) >= 3
    assert all("startingAfter" not in dict(r.query) for r in calls)
    assert "endingBefore" not in dict(calls[0].query)
    assert all("endingBefore" in dict(r.query) for r in calls[1:])
    assert {r.host for r in calls[1:]} == {"n123.meraki.com"}
    assert all(e.occurredAt >= since for e in events)
    assert [e.occurredAt for e in events] == sorted((e.occurredAt for e in events), reverse=True)
    keys = [(e.occurredAt, e.msg) for e in events]
    assert len(keys) == len(set(keys))
    expected = [
        e for e in emu.data.events("N_24329101", emu._now())
        if e["type"] == "non_meraki_vpn_negotiation"
        and datetime.fromisoformat(e["occurredAt"].replace("Z", "+00:00")) >= since
    ]
    assert len(events) == len(expected)


async def test_events_walk_stops_at_the_page_cap(emu, session):
    client = client_for(emu, session, org_id=ORG)
    since = datetime.now(UTC) - timedelta(days=2)
    events = await client.network_events("N_24329101", since, per_page=10, max_pages=3)
    assert len(emu.requests_to("/events")) == 3
    assert len(events) == 30


async def test_retry_after_is_honoured_on_429(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=429, retry_after="1", times=2))
    client = client_for(emu, session, org_id=ORG)
    peers = await client.peers()
    assert len(peers) == 7
    calls = emu.requests_to("/thirdPartyVPNPeers")
    assert len(calls) == 3
    gaps = [b.at - a.at for a, b in itertools.pairwise(calls)]
    assert all(gap >= 0.95 for gap in gaps)


async def test_429_gives_up_after_five_tries_with_a_busy_sentence(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=429, retry_after="0", times=50))
    client = client_for(emu, session, org_id=ORG)
    with pytest.raises(DashboardError) as caught:
        await client.peers()
    assert caught.value.status == 429
    assert caught.value.reason is Reason.BUSY
    assert "busy" in caught.value.sentence("en")
    assert caught.value.errors == ["API rate limit exceeded for organization"]
    assert len(emu.requests_to("/thirdPartyVPNPeers")) == 5


async def test_429_without_retry_after_backs_off_exponentially(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=429, times=2))
    client = client_for(emu, session, org_id=ORG, backoff_cap=0.2)
    assert len(await client.peers()) == 7
    calls = emu.requests_to("/thirdPartyVPNPeers")
    assert len(calls) == 3
    assert all(b.at - a.at >= 0.15 for a, b in itertools.pairwise(calls))


async def test_server_errors_are_retried_at_most_three_times(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=500, times=50))
    client = client_for(emu, session, org_id=ORG)
    with pytest.raises(DashboardError) as caught:
        await client.peers()
    assert caught.value.reason is Reason.UNAVAILABLE
    assert len(emu.requests_to("/thirdPartyVPNPeers")) == 3


async def test_a_transient_server_error_is_absorbed(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=503, times=2))
    client = client_for(emu, session, org_id=ORG)
    assert len(await client.peers()) == 7


async def test_time_outs_are_retried_then_reported_as_unavailable(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", delay=2.0, times=50))
    client = client_for(emu, session, org_id=ORG, timeout=0.2)
    with pytest.raises(DashboardError) as caught:
        await client.peers()
    assert caught.value.status == 0
    assert caught.value.reason is Reason.UNAVAILABLE
    assert "did not answer in time" in caught.value.sentence("en")
    assert len(emu.requests_to("/thirdPartyVPNPeers")) == 3


async def test_one_slow_answer_is_retried(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", delay=2.0, times=1))
    client = client_for(emu, session, org_id=ORG, timeout=0.3)
    assert len(await client.peers()) == 7


@pytest.mark.parametrize(
    ("status", "reason", "words"),
    [
        (401, Reason.KEY_INVALID, "API key"),
        (403, Reason.NO_ACCESS, "no access"),
        (404, Reason.NOT_FOUND, "MERAKI_ORG_ID"),
    ],
)
async def test_client_errors_become_one_typed_error(emu, session, status, reason, words):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=status, times=5))
    client = client_for(emu, session, org_id=ORG)
    with pytest.raises(DashboardError) as caught:
        await client.peers()
    assert caught.value.status == status
    assert caught.value.reason is reason
    assert words in caught.value.sentence("en")
    assert caught.value.sentence("ja")
    assert caught.value.errors
    assert len(emu.requests_to("/thirdPartyVPNPeers")) == 1


async def test_a_wrong_key_is_rejected_by_the_emulator(emu, session):
    client = DashboardClient("wrong", base_url=emu.base_url, session=session, org_id=ORG)
    with pytest.raises(DashboardError) as caught:
        await client.networks()
    assert caught.value.reason is Reason.KEY_INVALID


async def test_an_unknown_organisation_is_not_found(emu, session):
    client = client_for(emu, session, org_id="999999")
    with pytest.raises(DashboardError) as caught:
        await client.networks()
    assert caught.value.reason is Reason.NOT_FOUND
    assert caught.value.errors == ["Not found"]


async def test_several_organisations_need_an_explicit_id(session):
    async with DashboardEmulator(api_key=KEY) as emu:
        emu.data.organizations.append({"id": "1234", "name": "Other"})
        client = client_for(emu, session)
        with pytest.raises(DashboardError) as caught:
            await client.peers()
        assert caught.value.reason is Reason.NO_ORGANIZATION
        assert "MERAKI_ORG_ID" in caught.value.sentence("en")


async def test_the_key_is_never_sent_to_a_foreign_host_named_in_a_link(emu, session):
    async with DashboardEmulator(api_key=KEY) as foreign:
        foreign_url = f"http://collector.example.net:{foreign.port}/api/v1{NETWORKS}?startingAfter=N_24329102"
        emu.inject(Fault(path=NETWORKS, link_next=foreign_url))
        client = client_for(emu, session, org_id=ORG)
        with pytest.raises(DashboardError):
            await client.networks()
        assert emu.requests[0].authorization == f"Bearer {KEY}"
        assert len(foreign.requests) == 1
        assert foreign.requests[0].host == "collector.example.net"
        assert foreign.requests[0].authorization is None
        assert all(KEY not in value for value in foreign.requests[0].headers.values())


async def test_redirects_keep_the_key_only_for_meraki_hosts(emu, session):
    async with DashboardEmulator(api_key=KEY) as foreign:
        emu.inject(
            Fault(path=PEERS, status=302, headers={"Location": emu.url_on("n9.meraki.com") + PEERS}),
        )
        client = client_for(emu, session, org_id=ORG)
        assert len(await client.peers()) == 7
        hops = emu.requests_to("/thirdPartyVPNPeers")
        assert [r.host for r in hops] == ["127.0.0.1", "n9.meraki.com"]
        assert hops[1].authorization == f"Bearer {KEY}"

        elsewhere = foreign.url_on("evil.example") + NETWORKS
        emu.inject(Fault(path=NETWORKS, status=307, headers={"Location": elsewhere}))
        with pytest.raises(DashboardError):
            await client.networks()
        assert foreign.requests[0].host == "evil.example"
        assert foreign.requests[0].authorization is None


def test_meraki_host_rules():
    for host in ("api.meraki.com", "n123.meraki.com", "api.meraki.cn", "api.meraki.ca", "api.gov-meraki.com"):
        assert is_meraki_host(host)
    for host in ("meraki.com.evil.net", "evilmeraki.com", "example.com", "", None):
        assert not is_meraki_host(host)


async def test_rate_is_never_above_the_budget_in_any_sliding_second(emu, session):
    client = client_for(emu, session, org_id=ORG, rps=5)
    await asyncio.gather(*(client.get("/organizations") for _ in range(16)))
    assert len(emu.requests) == 16
    assert max_in_window(emu.requests) <= 5


async def test_limiter_counts_bursts_and_retries_alike():
    limiter = SlidingWindowLimiter(3, guard=0.0)
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    async def one() -> None:
        await limiter.acquire("org")
        stamps.append(loop.time())

    await asyncio.gather(*(one() for _ in range(7)))
    stamps.sort()
    for i in range(len(stamps) - 3):
        assert stamps[i + 3] - stamps[i] >= 0.99


async def test_cached_reads_share_one_request_even_when_concurrent(emu, session):
    client = client_for(emu, session, org_id=ORG)
    await asyncio.gather(*(client.networks() for _ in range(5)))
    await client.networks()
    assert len(emu.requests_to("/networks")) == 1
    assert client.cache.hits >= 5


async def test_call_counter_counts_pages_and_retries(emu, session):
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=503, times=1))
    client = client_for(emu, session, org_id=ORG)
    with count_calls() as calls:
        await client.peers()
    assert calls.count == 2


async def test_psk_is_redacted_at_the_client_boundary(emu, session, caplog):
    caplog.set_level(logging.DEBUG)
    emu.inject(Fault(path="/thirdPartyVPNPeers", status=503, times=1))
    client = client_for(emu, session, org_id=ORG)
    peers = await client.peers()
    azure = next(p for p in peers if p.name == "azure-prod-vnet")
    assert azure.has_secret
    assert azure.secret is not None and azure.secret.get_secret_value() == DEMO_SECRETS[0]
    for text in (str(peers), repr(peers), azure.model_dump_json(), str(azure.public_view())):
        assert not any(secret in text for secret in DEMO_SECRETS)
    assert "secret" not in azure.public_view()
    assert all(KEY not in r.getMessage() and DEMO_SECRETS[0] not in r.getMessage() for r in caplog.records)


async def test_secret_fields_hidden_in_unmodelled_peer_data(emu, session):
    emu.data.peers["peers"][0]["ebgpNeighbor"] = {"neighborIp": "10.0.0.1", "password": "bgp-pass-77"}
    emu.data.peers["peers"][0]["password"] = "top-level-pass-88"
    client = client_for(emu, session, org_id=ORG)
    peer = (await client.peers())[0]
    dumped = peer.model_dump_json()
    assert "bgp-pass-77" not in dumped and "top-level-pass-88" not in dumped
    assert "10.0.0.1" in dumped


async def test_a_malformed_peer_is_skipped_by_index_and_no_psk_is_logged(emu, session, caplog):
    caplog.set_level(logging.DEBUG)
    del emu.data.peers["peers"][1]["name"]
    emu.data.peers["peers"][2]["privateSubnets"] = "not-a-list"
    client = client_for(emu, session, org_id=ORG)
    peers = await client.peers()
    total = len(emu.data.peers["peers"])
    assert len(peers) == total - 2
    skipped = [r.getMessage() for r in caplog.records if "skipped item" in r.getMessage()]
    assert any("item 1" in m and "name: missing" in m for m in skipped)
    assert any("item 2" in m and "privateSubnets" in m for m in skipped)
    assert not any(secret in caplog.text for secret in DEMO_SECRETS)


async def test_dashboard_data_of_the_wrong_shape_reads_leniently(emu, session, caplog):
    caplog.set_level(logging.DEBUG)
    emu.data.vpn_statuses[0]["thirdPartyVpnPeers"] = None
    emu.data.vpn_statuses[1]["thirdPartyVpnPeers"][0]["reachability"] = 42
    emu.data.vpn_statuses[2]["uplinks"] = "wan1"
    client = client_for(emu, session, org_id=ORG)
    statuses = await client.vpn_statuses()
    ids = [s.networkId for s in statuses]
    assert emu.data.vpn_statuses[0]["networkId"] in ids and emu.data.vpn_statuses[1]["networkId"] in ids
    assert emu.data.vpn_statuses[2]["networkId"] not in ids
    first = next(s for s in statuses if s.networkId == emu.data.vpn_statuses[0]["networkId"])
    assert first.thirdPartyVpnPeers == []
    second = next(s for s in statuses if s.networkId == emu.data.vpn_statuses[1]["networkId"])
    assert not second.thirdPartyVpnPeers[0].reachable
    assert "Traceback" not in caplog.text


async def test_a_peer_list_that_is_not_an_object_reads_as_no_peers(emu, session):
    emu.data.peers = ["a", "list"]  # type: ignore[assignment]
    client = client_for(emu, session, org_id=ORG)
    assert await client.peers() == []
