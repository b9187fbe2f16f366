"""Live lookups against the Dashboard: one peer's diagnosis, every peer's status, the peer list.

No Slack here: the handlers and the shell render what these functions return. The peer's
pre-shared key never reaches a report (the client already holds it as a SecretStr and
reports carry the peer without it).
"""

from __future__ import annotations

import asyncio
import difflib
import ipaddress
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from bot.dashboard.client import DashboardClient, count_calls
from bot.dashboard.errors import DashboardError, Reason
from bot.dashboard.models import Device, EventType, Network, ThirdPartyPeer, UplinkStatus, VpnStatus
from bot.dashboard.narrow import PeerAddresses, is_vpn_event, narrow_events
from knowledge import diagnose_events
from knowledge.config_check import check_peer
from knowledge.firmware import format_firmware, supports_ikev2
from knowledge.library import load_catalog
from knowledge.models import Basis, Diagnosis, Finding, Lang, PeerReport, PeerState, Severity, Verdict

log = logging.getLogger("bot.live")
T = TypeVar("T")

DEFAULT_HOURS = 24.0
DEFAULT_DEADLINE_SECONDS = 30.0
MAX_HOURS = 24.0 * 7
_VERDICT_RANK = {Verdict.UNKNOWN: 0, Verdict.HEALTHY: 1, Verdict.DEGRADED: 2, Verdict.FAILING: 3}
_NO_NETWORK: dict[Lang, str] = {
    "en": "No MX network uses this peer (check its network tags or network list).",
    "ja": "このピアを使う MX ネットワークがありません "
    "(ネットワークタグまたはネットワーク一覧を確認してください)。",
}
_STATE_RANK = {PeerState.UNKNOWN: 0, PeerState.UP: 1, PeerState.FLAPPING: 2, PeerState.DOWN: 3}


class UplinkView(BaseModel):
    interface: str
    status: str | None = None
    public_ip: str | None = None


class NetworkSection(BaseModel):
    """What the Dashboard says about one MX network that uses the peer."""

    network_id: str
    name: str
    reachability: str | None = None
    reachable: bool | None = None
    device_status: str | None = None
    mx_model: str | None = None
    mx_serial: str | None = None
    firmware: str | None = None
    firmware_version: str | None = None
    ikev2_supported: bool | None = None
    dialect: Literal["racoon", "charon"] | None = None
    uplink_in_use: str | None = None
    uplink_ip: str | None = None
    uplinks: list[UplinkView] = Field(default_factory=list)
    events_read: int = 0
    events_matched: int = 0


class LiveReport(BaseModel):
    query: str
    peer: dict[str, Any] = Field(description="the Dashboard peer without its pre-shared key")
    networks: list[NetworkSection] = Field(default_factory=list)
    diagnosis: Diagnosis
    hours: float
    dashboard_calls: int
    duration_ms: int
    demo: bool
    notes: list[str] = Field(default_factory=list)
    unread: list[str] = Field(
        default_factory=list, description="what the Dashboard had not returned when the lookup's deadline passed"
    )

    @property
    def finding_ids(self) -> list[str]:
        return self.diagnosis.finding_ids


class LookupMiss(BaseModel):
    """The query named no single peer: the close matches to offer instead."""

    query: str
    reason: Literal["unknown", "ambiguous"]
    candidates: list[str] = Field(default_factory=list)
    dashboard_calls: int = 0
    demo: bool = False


class PeerStatusRow(BaseModel):
    peer: str
    public_ip: str | None = None
    network_id: str
    network: str
    reachability: str | None = None
    reachable: bool


class StatusReport(BaseModel):
    rows: list[PeerStatusRow] = Field(default_factory=list)
    dashboard_calls: int
    duration_ms: int
    demo: bool

    @property
    def down(self) -> list[PeerStatusRow]:
        return [r for r in self.rows if not r.reachable]


class PeerSummary(BaseModel):
    name: str
    public_ip: str | None = None
    ike_version: str
    preset: str | None = None
    networks: list[str] = Field(default_factory=list)


class PeerList(BaseModel):
    peers: list[PeerSummary] = Field(default_factory=list)
    dashboard_calls: int
    demo: bool


@dataclass
class _Progress:
    """What one lookup has read so far."""

    peer: ThirdPartyPeer | None = None
    networks: list[Network] | None = None
    sections: list[NetworkSection] = field(default_factory=list)
    parts: list[tuple[str, Diagnosis]] = field(default_factory=list)
    extra: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def unread(self) -> list[str]:
        if self.networks is None:
            return ["networks", "statuses", "events"]
        if self.networks and not self.sections:
            return ["statuses", "events"]
        done = {name for name, _ in self.parts}
        return [f"events:{s.name}" for s in self.sections if s.name not in done]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def resolve_peer(query: str, peers: list[ThirdPartyPeer]) -> ThirdPartyPeer | LookupMiss:
    """A peer by name (case-insensitive, exact or unique prefix), public IP or hostname."""
    wanted = query.strip().lower()
    by_name = {p.name.lower(): p for p in peers}
    if wanted in by_name:
        return by_name[wanted]
    addressed = [p for p in peers if wanted in {(p.publicIp or "").lower(), (p.publicHostname or "").lower()}]
    if len(addressed) == 1:
        return addressed[0]
    if addressed:
        return LookupMiss(query=query, reason="ambiguous", candidates=sorted(p.name for p in addressed))
    prefixed = [p for p in peers if wanted and p.name.lower().startswith(wanted)]
    if len(prefixed) == 1 and not _is_ip(wanted):
        return prefixed[0]
    if prefixed:
        return LookupMiss(query=query, reason="ambiguous", candidates=sorted(p.name for p in prefixed))
    keys = {p.name.lower(): p.name for p in peers}
    keys.update({p.publicIp: p.name for p in peers if p.publicIp})
    close = difflib.get_close_matches(wanted, list(keys), n=5, cutoff=0.5)
    names = list(dict.fromkeys(keys[c] for c in close))
    return LookupMiss(query=query, reason="unknown", candidates=names)


def vpn_event_types(types: list[EventType]) -> list[str]:
    """The event types that carry non-Meraki (third-party) VPN negotiation lines."""
    wanted = []
    for t in types:
        label = f"{t.category} {t.description}".lower()
        if "non-meraki" in label or "ipsec vpn healthcheck" in label:
            wanted.append(t.type)
    return wanted


def _active_uplink(status: UplinkStatus | None) -> tuple[str | None, str | None]:
    if status is None:
        return None, None
    active = status.active()
    if not active:
        return None, None
    first = sorted(active, key=lambda u: u.interface)[0]
    return first.interface, first.publicIp or first.ip


def _section(
    network: Network,
    peer: ThirdPartyPeer,
    vpn: VpnStatus | None,
    device: Device | None,
    uplinks: UplinkStatus | None,
) -> NetworkSection:
    row = None
    if vpn is not None:
        row = next((p for p in vpn.thirdPartyVpnPeers if p.name == peer.name), None)
    version = device.firmware_version if device is not None else None
    ikev2 = supports_ikev2(version) if version is not None else None
    interface, address = _active_uplink(uplinks)
    return NetworkSection(
        network_id=network.id,
        name=network.name,
        reachability=row.reachability if row else None,
        reachable=row.reachable if row else None,
        device_status=vpn.deviceStatus if vpn else None,
        mx_model=device.model if device else None,
        mx_serial=device.serial if device else None,
        firmware=device.firmware if device else None,
        firmware_version=format_firmware(version) if version else None,
        ikev2_supported=ikev2,
        dialect=None if ikev2 is None else ("charon" if ikev2 else "racoon"),
        uplink_in_use=interface,
        uplink_ip=address,
        uplinks=[
            UplinkView(interface=u.interface, status=u.status, public_ip=u.publicIp or u.ip)
            for u in (uplinks.uplinks if uplinks else [])
        ],
    )


def _failover_finding(section: NetworkSection, peer: ThirdPartyPeer, lang: Lang) -> Finding | None:
    """On a secondary uplink the peer must also accept the MX's secondary public IP."""
    if section.uplink_in_use is None or section.uplink_in_use == "wan1":
        return None
    uplink = section.uplink_in_use + (f" ({section.uplink_ip})" if section.uplink_ip else "")
    return load_catalog().build(
        "uplink-failover",
        lang,
        peer=peer.publicIp or peer.name,
        basis=Basis.CONFIG,
        facts={"uplink": uplink, "network": section.name},
    )


def merge_diagnoses(parts: list[tuple[str, Diagnosis]], extra: list[Finding], lang: Lang) -> Diagnosis:
    """One diagnosis from several MX networks' (and the config check's) diagnoses."""
    if not parts:
        return Diagnosis(verdict=Verdict.UNKNOWN, summary=_NO_NETWORK[lang], lang=lang, findings=extra)
    label = len({name for name, _ in parts}) > 1
    findings: list[Finding] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    peers: dict[str, PeerReport] = {}
    worst = parts[0][1]
    for name, part in parts:
        if _VERDICT_RANK[part.verdict] > _VERDICT_RANK[worst.verdict]:
            worst = part
        for finding in part.findings:
            key = (finding.id, finding.peer, name if label else None)
            if key in seen:
                continue
            seen.add(key)
            if label:
                finding = finding.model_copy(update={"facts": {**finding.facts, "network": name}})
            findings.append(finding)
        for report in part.peers:
            known = peers.get(report.address)
            if known is None or _STATE_RANK[report.state] > _STATE_RANK[known.state]:
                peers[report.address] = report
    findings.extend(f for f in extra if (f.id, f.peer, f.facts.get("network")) not in seen)
    verdict = worst.verdict
    if any(f.severity is Severity.ERROR for f in findings) and _VERDICT_RANK[verdict] < 2:
        verdict = Verdict.DEGRADED
    findings.sort(key=lambda f: ({Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}[f.severity]))
    return Diagnosis(
        verdict=verdict,
        summary=worst.summary,
        lang=lang,
        peers=list(peers.values()),
        findings=findings,
        lines_read=sum(p.lines_read for _, p in parts),
        vpn_lines=sum(p.vpn_lines for _, p in parts),
        dialects=sorted({d for _, p in parts for d in p.dialects}),
        order="newest-first",
        notes=list(dict.fromkeys(n for _, p in parts for n in p.notes)),
    )


class LiveService:
    """Live lookups for one organisation; safe to share between concurrent requests."""

    def __init__(
        self, client: DashboardClient, *, demo: bool = False, deadline: float = DEFAULT_DEADLINE_SECONDS
    ) -> None:
        self.client = client
        self.demo = demo
        self.deadline = deadline

    async def _network_part(
        self,
        network: Network,
        section: NetworkSection,
        peer: ThirdPartyPeer,
        who: PeerAddresses,
        since: datetime,
        lang: Lang,
        read: _Progress,
    ) -> None:
        included = vpn_event_types(await self.client.event_types(network))
        events = await self.client.network_events(network.id, since, included_types=included)
        vpn = [e for e in events if e.msg and (included or is_vpn_event(e))]
        mine = narrow_events(vpn, who)
        section.events_read = len(events)
        section.events_matched = len(mine)
        # The engine is CPU-bound; off the event loop, it cannot delay paced requests into a burst.
        raw = [e.model_dump(mode="json") for e in mine]
        diagnosis = await asyncio.to_thread(diagnose_events, raw, lang)
        read.parts.append((network.name, diagnosis))

    async def lookup(
        self, query: str, hours: float = DEFAULT_HOURS, lang: Lang = "en"
    ) -> LiveReport | LookupMiss:
        """Diagnose one peer from its configuration, status, MX firmware, uplinks and events.

        The whole lookup gets `deadline` seconds (429 waits included): past it, the answer is
        built from what the Dashboard returned so far and says what is missing.
        """
        started = time.monotonic()
        hours = min(max(hours, 1.0), MAX_HOURS)
        read = _Progress()
        with count_calls() as calls:
            try:
                async with asyncio.timeout(self.deadline):
                    found = await self._read(query, hours, lang, read)
            except TimeoutError:
                found = None
            if isinstance(found, LookupMiss):
                found.dashboard_calls = calls.count
                found.demo = self.demo
                return found
            if read.peer is None:
                log.warning("live lookup %r ran out of time before the peer list arrived", query)
                raise DashboardError(0, Reason.DEADLINE, path="thirdPartyVPNPeers")
            peer = read.peer
            parts = list(read.parts)
            for section in read.sections:
                parts.append((section.name, check_peer(peer.public_view(), firmware=section.firmware, lang=lang)))
            if read.networks is None:
                parts.append(("", check_peer(peer.public_view(), lang=lang)))
            diagnosis = merge_diagnoses(parts, read.extra, lang)
            report = LiveReport(
                query=query,
                peer=peer.public_view(),
                networks=read.sections,
                diagnosis=diagnosis,
                hours=hours,
                dashboard_calls=calls.count,
                duration_ms=int((time.monotonic() - started) * 1000),
                demo=self.demo,
                notes=read.notes,
                unread=[] if found is not None else read.unread(),
            )
        log.info(
            "live lookup %s: %s, findings %s, %d dashboard calls, %d ms%s",
            peer.name,
            diagnosis.verdict.value,
            diagnosis.finding_ids,
            report.dashboard_calls,
            report.duration_ms,
            f", past the {self.deadline:g} s deadline without {', '.join(report.unread)}" if report.unread else "",
        )
        return report

    async def _read(self, query: str, hours: float, lang: Lang, read: _Progress) -> ThirdPartyPeer | LookupMiss:
        """Each step leaves its result in `read`, so a deadline keeps everything that arrived."""
        peers = await self.client.peers()
        found = resolve_peer(query, peers)
        if isinstance(found, LookupMiss):
            return found
        peer = read.peer = found
        networks = read.networks = [
            n for n in await self.client.networks() if "appliance" in n.productTypes and peer.applies_to(n)
        ]
        if not networks:
            read.notes.append("no-mx-network")
            return peer
        ids = [n.id for n in networks]
        vpn, uplinks, devices = await asyncio.gather(
            self.client.vpn_statuses(ids), self.client.uplink_statuses(ids), self.client.appliances()
        )
        since = datetime.now(UTC) - timedelta(hours=hours)
        tasks = []
        for network in networks:
            others = [p for p in peers if p is not peer and p.applies_to(network)]
            who = PeerAddresses(
                mine=frozenset(a for a in (peer.publicIp, peer.publicHostname) if a),
                others=frozenset(p.publicIp for p in others if p.publicIp),
                alone=not others,
            )
            section = _section(
                network,
                peer,
                next((s for s in vpn if s.networkId == network.id), None),
                next((d for d in devices if d.networkId == network.id), None),
                next((u for u in uplinks if u.networkId == network.id), None),
            )
            read.sections.append(section)
            tasks.append(self._network_part(network, section, peer, who, since, lang, read))
            if (failover := _failover_finding(section, peer, lang)) is not None:
                read.extra.append(failover)
        await asyncio.gather(*tasks)
        return peer

    async def _within_deadline(self, work: Awaitable[T], path: str) -> T:
        """A list with nothing to show until all of it has arrived: past the deadline, say the Dashboard is busy."""
        try:
            async with asyncio.timeout(self.deadline):
                return await work
        except TimeoutError:
            log.warning("%s ran out of time after %g s", path, self.deadline)
            raise DashboardError(0, Reason.DEADLINE, path=path) from None

    async def status(self) -> StatusReport:
        """Every third-party peer's reachability per MX network, unreachable ones first."""
        started = time.monotonic()
        with count_calls() as calls:
            statuses = await self._within_deadline(self.client.vpn_statuses(), "appliance/vpn/statuses")
        rows = [
            PeerStatusRow(
                peer=p.name,
                public_ip=p.publicIp,
                network_id=s.networkId,
                network=s.networkName,
                reachability=p.reachability,
                reachable=p.reachable,
            )
            for s in statuses
            for p in s.thirdPartyVpnPeers
        ]
        rows.sort(key=lambda r: (r.reachable, r.peer.lower(), r.network.lower()))
        return StatusReport(
            rows=rows,
            dashboard_calls=calls.count,
            duration_ms=int((time.monotonic() - started) * 1000),
            demo=self.demo,
        )

    async def peers(self) -> PeerList:
        with count_calls() as calls:
            peers, networks = await self._within_deadline(
                asyncio.gather(self.client.peers(), self.client.networks()), "thirdPartyVPNPeers"
            )
        appliance = [n for n in networks if "appliance" in n.productTypes]
        return PeerList(
            peers=[
                PeerSummary(
                    name=p.name,
                    public_ip=p.publicIp,
                    ike_version=p.ikeVersion,
                    preset=p.ipsecPoliciesPreset,
                    networks=[n.name for n in appliance if p.applies_to(n)],
                )
                for p in sorted(peers, key=lambda p: p.name.lower())
            ],
            dashboard_calls=calls.count,
            demo=self.demo,
        )


__all__ = [
    "LiveReport",
    "LiveService",
    "LookupMiss",
    "NetworkSection",
    "PeerList",
    "PeerStatusRow",
    "StatusReport",
    "merge_diagnoses",
    "resolve_peer",
]
