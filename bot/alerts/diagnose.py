"""The diagnosis an alert carries in its thread, scoped to one MX network and its down peers.

A `/vpn` lookup (bot/live.py) covers every MX that uses a peer over many hours; an alert
is about one MX now, so this reads the last hour's events of that network only, narrows
them to each peer, and adds the config check and the uplink in use, with the same
building blocks as the live lookup.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.alerts.models import UplinkState
from bot.alerts.render import join, reachability_word, uplink_lines
from bot.dashboard.client import DashboardClient, count_calls
from bot.dashboard.models import Device, Network, ThirdPartyPeer, UplinkStatus
from bot.dashboard.narrow import PeerAddresses, is_vpn_event, narrow_events
from bot.live import merge_diagnoses, vpn_event_types
from bot.locale.alerts import alert_ui
from bot.render.blocks import Block, context, diagnosis_message, escape
from knowledge import diagnose_events
from knowledge.config_check import check_peer
from knowledge.library import load_catalog
from knowledge.models import Basis, Diagnosis, Finding, Lang

EVENT_WINDOW = timedelta(hours=1)


@dataclass
class PeerDiagnosis:
    peer: str
    diagnosis: Diagnosis
    events_read: int = 0
    events_matched: int = 0
    reachability: str | None = None


@dataclass
class NetworkDiagnosis:
    network_id: str
    network_name: str
    firmware: str | None
    uplinks: list[UplinkState]
    peers: list[PeerDiagnosis] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    dashboard_calls: int = 0


def uplink_states(status: UplinkStatus | None) -> list[UplinkState]:
    if status is None:
        return []
    return [UplinkState(interface=u.interface, status=u.status, public_ip=u.publicIp or u.ip) for u in status.uplinks]


def _failover(uplinks: list[UplinkState], peer: ThirdPartyPeer, network: str, lang: Lang) -> Finding | None:
    """On a secondary uplink the peer must also accept the MX's secondary public IP."""
    active = sorted((u for u in uplinks if (u.status or "").lower() == "active"), key=lambda u: u.interface)
    if not active or active[0].interface == "wan1":
        return None
    uplink = active[0].interface + (f" ({active[0].public_ip})" if active[0].public_ip else "")
    return load_catalog().build(
        "uplink-failover",
        lang,
        peer=peer.publicIp or peer.name,
        basis=Basis.CONFIG,
        facts={"uplink": uplink, "network": network},
    )


async def diagnose_network(
    client: DashboardClient, network_id: str, peer_names: list[str], lang: Lang = "en"
) -> NetworkDiagnosis:
    """Events of the last hour through the engine, the config check and the uplinks, per down peer."""
    with count_calls() as calls:
        peers, networks, devices = await asyncio.gather(client.peers(), client.networks(), client.appliances())
        network = next((n for n in networks if n.id == network_id), None) or Network(id=network_id)
        device = next((d for d in devices if d.networkId == network_id), None)
        uplinks, statuses = await asyncio.gather(
            client.uplink_statuses([network_id]), client.vpn_statuses([network_id])
        )
        states = uplink_states(next((u for u in uplinks if u.networkId == network_id), None))
        reach = {p.name: p.reachability for s in statuses for p in s.thirdPartyVpnPeers}
        result = NetworkDiagnosis(network_id, network.name or network_id, _firmware(device), states)
        included = vpn_event_types(await client.event_types(network))
        events = await client.network_events(network_id, datetime.now(UTC) - EVENT_WINDOW, included_types=included)
        vpn = [e for e in events if e.msg and (included or is_vpn_event(e))]
        by_name = {p.name: p for p in peers}
        for name in peer_names:
            peer = by_name.get(name)
            if peer is None:
                result.missing.append(name)
                continue
            others = [p for p in peers if p is not peer and p.applies_to(network)]
            who = PeerAddresses(
                mine=frozenset(a for a in (peer.publicIp, peer.publicHostname) if a),
                others=frozenset(p.publicIp for p in others if p.publicIp),
                alone=not others,
            )
            mine = narrow_events(vpn, who)
            raw = [e.model_dump(mode="json") for e in mine]
            # The engine is CPU-bound; off the loop it cannot stall polling or posting.
            from_events = await asyncio.to_thread(diagnose_events, raw, lang)
            config = check_peer(peer.public_view(), firmware=result.firmware, lang=lang)
            extra = [f for f in [_failover(states, peer, result.network_name, lang)] if f is not None]
            merged = merge_diagnoses([(result.network_name, from_events), (result.network_name, config)], extra, lang)
            result.peers.append(PeerDiagnosis(name, merged, len(events), len(mine), reach.get(name)))
        result.dashboard_calls = calls.count
    return result


def _firmware(device: Device | None) -> str | None:
    return device.firmware if device is not None else None


def diagnosis_posts(
    result: NetworkDiagnosis, lang: Lang = "en", *, again_by: str | None = None
) -> list[tuple[str, list[Block]]]:
    """One thread message per down peer: the engine's diagnosis plus what the Dashboard says now."""
    posts: list[tuple[str, list[Block]]] = []
    uplinks = "  ·  ".join(uplink_lines(result.uplinks, lang))
    firmware = escape(result.firmware or alert_ui("firmware_unknown", lang))
    network = escape(result.network_name)
    for item in result.peers:
        reach = escape(reachability_word(item.reachability, lang))
        facts = [
            alert_ui("diag_peer", lang, peer=escape(item.peer), network=network, reachability=reach),
            alert_ui("diag_mx", lang, firmware=firmware, uplinks=uplinks),
            alert_ui("diag_events", lang, read=item.events_read, matched=item.events_matched),
        ]
        if again_by:
            facts.insert(0, alert_ui("diag_again", lang, user=f"<@{escape(again_by)}>"))
        message = diagnosis_message(item.diagnosis)
        blocks: list[Block] = [context(["\n".join(facts)]), *message.blocks]
        posts.append((f"{escape(item.peer)}: {message.text}", blocks[:50]))
    if result.missing:
        missing = alert_ui("no_peer_definition", lang, names=join([escape(n) for n in result.missing], lang))
        posts.append((missing, [context([missing])]))
    return posts
