"""The Dashboard emulator: official response shapes, quirks, faults and the demo scenarios."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.dashboard.emulator import DashboardEmulator, DemoData, Fault
from bot.dashboard.models import Event, EventsPage, Network, ThirdPartyPeer, UplinkStatus, VpnStatus
from knowledge.firmware import supports_ikev2

KEY = "emu-test-key"
ORG = "537758"
SPEC_PATH = Path("/work/shared/ref/meraki-openapi-excerpt.json")
SPEC = json.loads(SPEC_PATH.read_text()) if SPEC_PATH.exists() else None
# Field names of the official examples (spec v1.42), so the emulator's shapes can be checked offline too.
NETWORK_FIELDS = {
    "id", "organizationId", "name", "productTypes", "timeZone", "tags", "enrollmentString", "url",
    "notes", "isBoundToConfigTemplate",
}
DEVICE_FIELDS = {
    "name", "lat", "lng", "address", "notes", "tags", "networkId", "serial", "model", "mac",
    "lanIp", "firmware", "productType", "details",
}
VPN_STATUS_FIELDS = {
    "networkId", "networkName", "deviceSerial", "deviceStatus", "uplinks", "vpnMode",
    "exportedSubnets", "merakiVpnPeers", "thirdPartyVpnPeers",
}
UPLINK_FIELDS = {
    "networkId", "serial", "model", "lastReportedAt", "highAvailability", "uplinks",
}
PEER_FIELDS = {
    "name", "publicIp", "remoteId", "localId", "secret", "privateSubnets", "ipsecPolicies",
    "ipsecPoliciesPreset", "ikeVersion", "networkTags",
}
EVENT_FIELDS = {
    "occurredAt", "networkId", "type", "description", "category", "clientId", "clientDescription",
    "clientMac", "deviceSerial", "deviceName", "eventData",
}


@pytest.fixture
async def emu() -> AsyncIterator[DashboardEmulator]:
    async with DashboardEmulator(api_key=KEY) as e:
        yield e


async def fetch(emu: DashboardEmulator, path: str, params=None, key: str = KEY) -> tuple[int, object, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession() as s, s.get(emu.base_url + path, params=params, headers=headers) as r:
        return r.status, await r.json(), r.headers.get("Link", "")


def links(header: str) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in re.finditer(r"<([^>]+)>; rel=(\w+)", header)}


def test_emulator_shapes_match_the_official_examples():
    if SPEC is not None:
        paths = SPEC["paths"]

        def example(path: str) -> object:
            return paths[path]["get"]["responses"]["200"]["content"]["application/json"]["example"]

        assert set(example("/organizations/{organizationId}/networks")[0]) == NETWORK_FIELDS
        assert set(example("/organizations/{organizationId}/appliance/vpn/statuses")[0]) == VPN_STATUS_FIELDS
        assert set(example("/organizations/{organizationId}/appliance/uplink/statuses")[0]) == UPLINK_FIELDS
        peers = example("/organizations/{organizationId}/appliance/vpn/thirdPartyVPNPeers")
        assert set(peers["peers"][0]) >= PEER_FIELDS
        assert set(example("/networks/{networkId}/events")["events"][0]) >= EVENT_FIELDS
    data = DemoData.load()
    assert all(set(n) == NETWORK_FIELDS for n in data.networks)
    assert all(set(d) >= DEVICE_FIELDS for d in data.devices)
    assert all(set(s) == VPN_STATUS_FIELDS for s in data.vpn_statuses)
    assert all(set(u) == UPLINK_FIELDS for u in data.uplink_statuses)
    assert all(set(p) >= PEER_FIELDS for p in data.peers["peers"])
    now = datetime.now(UTC)
    assert all(set(e) == EVENT_FIELDS for n in data.networks for e in data.events(n["id"], now))


async def test_requests_without_the_key_get_401(emu):
    status, body, _ = await fetch(emu, "/organizations", key="")
    assert status == 401 and body == {"errors": ["Invalid API key"]}
    assert emu.requests[0].authorization is None


async def test_lists_validate_and_carry_first_links(emu):
    status, body, link = await fetch(emu, f"/organizations/{ORG}/networks")
    assert status == 200
    assert [Network.model_validate(n).id for n in body] == [n["id"] for n in emu.data.networks]
    assert "first" in links(link)
    _, statuses, _ = await fetch(emu, f"/organizations/{ORG}/appliance/vpn/statuses")
    assert all(VpnStatus.model_validate(s).thirdPartyVpnPeers for s in statuses)
    _, uplinks, _ = await fetch(emu, f"/organizations/{ORG}/appliance/uplink/statuses",
                                [("networkIds[]", "N_24329105")])
    assert [UplinkStatus.model_validate(u).networkId for u in uplinks] == ["N_24329105"]
    _, devices, _ = await fetch(emu, f"/organizations/{ORG}/devices", [("productTypes[]", "appliance")])
    assert {d["productType"] for d in devices} == {"appliance"}


async def test_event_pages_are_newest_first_with_an_endless_next_link(emu):
    params = [("productType", "appliance"), ("perPage", "5")]
    status, body, link = await fetch(emu, "/networks/N_24329104/events", params)
    page = EventsPage.model_validate(body)
    assert status == 200 and len(page.events) == 5
    times = [e.occurredAt for e in page.events]
    assert times == sorted(times, reverse=True)
    assert page.pageStartAt == times[-1] and page.pageEndAt == times[0]
    rels = links(link)
    assert {"prev", "next"} <= set(rels)
    assert "endingBefore=" in rels["prev"]
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _, empty, link = await fetch(emu, "/networks/N_24329104/events", [*params, ("startingAfter", future)])
    assert empty["events"] == [] and empty["message"]
    assert "next" in links(link)


async def test_event_filters_and_time_tokens(emu):
    base = [("productType", "appliance"), ("perPage", "1000")]
    _, everything, _ = await fetch(emu, "/networks/N_24329101/events", base)
    _, vpn, _ = await fetch(emu, "/networks/N_24329101/events",
                            [*base, ("includedEventTypes[]", "non_meraki_vpn_negotiation")])
    assert {e["type"] for e in everything["events"]} == {"non_meraki_vpn_negotiation", "dhcp_lease"}
    assert {e["type"] for e in vpn["events"]} == {"non_meraki_vpn_negotiation"}
    cut = vpn["events"][10]["occurredAt"]
    query = [*base, ("includedEventTypes[]", "non_meraki_vpn_negotiation"), ("endingBefore", cut)]
    _, older, _ = await fetch(emu, "/networks/N_24329101/events", query)
    assert older["events"][0] == vpn["events"][11]


async def test_faults_fire_the_given_number_of_times(emu):
    emu.inject(Fault(path="/organizations$", status=429, retry_after="3", times=2))
    assert (await fetch(emu, "/organizations"))[0] == 429
    assert (await fetch(emu, "/organizations"))[0] == 429
    assert (await fetch(emu, "/organizations"))[0] == 200
    assert emu.faults[0].hits == 2


async def test_unknown_network_is_404(emu):
    status, body, _ = await fetch(emu, "/networks/N_0/events", [("productType", "appliance")])
    assert status == 404 and body == {"errors": ["Not found"]}


# The demo organisation: each peer shows its scenario in the last 24 hours ----------------------


def demo_lines(network_id: str, hours: float = 24) -> list[str]:
    data = DemoData.load()
    now = datetime.now(UTC)
    since = now - timedelta(hours=hours)
    events = [Event.model_validate(e) for e in data.events(network_id, now)]
    return [e.msg for e in events if e.occurredAt >= since and e.msg]


def demo_peer(name: str) -> ThirdPartyPeer:
    return next(ThirdPartyPeer.model_validate(p) for p in DemoData.load().peers["peers"] if p["name"] == name)


def firmware_of(network_id: str) -> str:
    return next(d["firmware"] for d in DemoData.load().devices if d["networkId"] == network_id
                and d["productType"] == "appliance")


def test_every_message_is_bare_and_every_time_is_iso():
    data = DemoData.load()
    now = datetime.now(UTC)
    for network in data.networks:
        for event in data.events(network["id"], now):
            assert not event["eventData"].get("msg", "").startswith("msg:")
            assert "$" not in json.dumps(event)
            assert datetime.fromisoformat(event["occurredAt"].replace("Z", "+00:00")) <= now


def test_azure_peer_shows_racoon_subnet_mismatch_on_old_firmware():
    lines = demo_lines("N_24329101")
    assert "failed to get sainfo" in lines
    assert "failed to pre-process ph2 packet (side: 1, status: 1)" in lines
    assert any("203.0.113.10" in line and "phase 2" in line for line in lines)
    assert supports_ikev2(firmware_of("N_24329101")) is False


def test_unreachable_peer_times_out_with_a_zero_responder_cookie():
    lines = demo_lines("N_24329101")
    assert sum(line.endswith(":0000000000000000") for line in lines) >= 20
    assert not any("ISAKMP-SA established" in line and "198.51.100.20" in line for line in lines)


def test_ikev2_peer_sits_behind_firmware_older_than_15_12():
    assert demo_peer("partner-osaka-ikev2").ikeVersion == "2"
    assert supports_ikev2(firmware_of("N_24329102")) is False
    assert "invalid flag 0x08." in demo_lines("N_24329102")


def test_flapping_peer_drops_every_hour_on_charon_firmware():
    data = DemoData.load()
    now = datetime.now(UTC)
    deletes = sorted(
        datetime.fromisoformat(e["occurredAt"].replace("Z", "+00:00"))
        for e in data.events("N_24329104", now)
        if "deleting IKE_SA remote-peer-2" in e["eventData"].get("msg", "")
    )
    gaps = {round((b - a).total_seconds()) for a, b in itertools.pairwise(deletes)}
    assert gaps == {3600}
    assert supports_ikev2(firmware_of("N_24329104")) is True


def test_healthy_and_psk_mismatch_peers():
    lines = demo_lines("N_24329104")
    assert any("established between" in line and "203.0.113.40" in line for line in lines)
    paris = [line for line in lines if "198.51.100.60" in line]
    assert paris and all("initiating Main Mode" in line for line in paris)


def test_london_runs_on_its_secondary_uplink():
    data = DemoData.load()
    london = next(u for u in data.uplink_statuses if u["networkId"] == "N_24329105")
    assert [u["interface"] for u in london["uplinks"] if u["status"] == "active"] == ["wan2"]
    assert any("initiating Main Mode" in line for line in demo_lines("N_24329105", hours=1))
