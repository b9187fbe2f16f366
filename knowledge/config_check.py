"""Checks one Dashboard non-Meraki peer definition without any log: the config check.

Input is a peer object as GET /organizations/{orgId}/appliance/vpn/thirdPartyVPNPeers
returns it, optionally the MX firmware and what the remote end is configured with. The
output is a Diagnosis whose findings all come from the catalog. The peer's `secret` is
never read: nothing here can leak it into a reply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.firmware import format_firmware, parse_firmware, supports_ikev2
from knowledge.library import Catalog, load_catalog
from knowledge.models import Basis, Diagnosis, Finding, Lang, PeerReport, PeerState, Severity, Verdict
from knowledge.netmath import parse_network, same_networks, supernet
from knowledge.proposals import (
    NO_PFS,
    WEAK_NAMES,
    Kind,
    Proposal,
    UnknownAlgorithm,
    classify,
    dh_keyword,
    format_proposals,
    mismatched_kinds,
    weak_algorithms,
)
from knowledge.remote_params import RemoteParams, parse_remote
from knowledge.vendors import guess_vendors

# How sure a finding is when it compares two configured values rather than reading a log.
COMPARED = 0.9
KNOWN_FACT = 0.95

DEFAULT_LIFETIME = 28800
# The MX defaults ("Default" IPsec policy): phase 1 3DES/SHA1/group 2; phase 2 3DES or AES with
# MD5 or SHA1, no PFS. "AES" is taken as AES-128, the key size an unqualified AES means.
DEFAULT_IKE = Proposal(encryption=("3des",), integrity=("sha1",), dh=("modp1024",))
DEFAULT_ESP = Proposal(encryption=("3des", "aes128"), integrity=("md5", "sha1"))

_FIELD_NAMES: dict[tuple[int, Kind], str] = {
    (1, "encryption"): "ikeCipherAlgo",
    (1, "integrity"): "ikeAuthAlgo",
    (1, "prf"): "ikePrfAlgo",
    (1, "dh"): "ikeDiffieHellmanGroup",
    (2, "encryption"): "childCipherAlgo",
    (2, "integrity"): "childAuthAlgo",
}
_PRESET_VENDORS = {"aws": "aws", "azure": "azure"}
_WEAK_ORDER = list(dict.fromkeys(WEAK_NAMES.values()))


@dataclass(frozen=True)
class MxPolicy:
    """The IPsec policy the MX uses for this peer, in strongSwan keywords; None where unknown."""

    source: str
    ike: Proposal | None
    esp: Proposal | None
    pfs: str | None
    ike_lifetime: int | None
    esp_lifetime: int | None


def _strings(value: object) -> list[str]:
    """A Dashboard array field read leniently: a list, a lone string, or nothing."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, Sequence):
        return [str(item) for item in value if str(item).strip()]
    return []


def _keyword(value: str) -> str:
    """A Dashboard enum value in strongSwan spelling; an unknown value is kept as written."""
    try:
        return classify(value)[1]
    except UnknownAlgorithm:
        return value.strip().lower()


def _lifetime(value: object) -> int | None:
    try:
        seconds = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _pfs(values: list[str]) -> str:
    if not values:
        return NO_PFS
    try:
        return dh_keyword(values[0])
    except UnknownAlgorithm:
        return values[0].strip().lower()


def mx_policy(peer: Mapping[str, Any]) -> MxPolicy:
    """The effective policy: the preset wins over ipsecPolicies, as the Dashboard documents."""
    preset = str(peer.get("ipsecPoliciesPreset") or "").strip().lower()
    custom = peer.get("ipsecPolicies")
    if preset not in ("", "custom", "default"):
        return MxPolicy(preset, None, None, None, None, None)
    if preset == "default" or not isinstance(custom, Mapping) or not custom:
        return MxPolicy("default", DEFAULT_IKE, DEFAULT_ESP, NO_PFS, DEFAULT_LIFETIME, DEFAULT_LIFETIME)

    def pick(field: str, default: tuple[str, ...]) -> tuple[str, ...]:
        values = [_keyword(v) for v in _strings(custom.get(field))]
        return tuple(dict.fromkeys(values)) or default

    prf = tuple(p for p in pick("ikePrfAlgo", ()) if p != "default")
    ike = Proposal(
        encryption=pick("ikeCipherAlgo", DEFAULT_IKE.encryption),
        integrity=pick("ikeAuthAlgo", DEFAULT_IKE.integrity),
        prf=prf,
        dh=pick("ikeDiffieHellmanGroup", DEFAULT_IKE.dh),
    )
    esp = Proposal(
        encryption=pick("childCipherAlgo", DEFAULT_ESP.encryption),
        integrity=pick("childAuthAlgo", DEFAULT_ESP.integrity),
    )
    return MxPolicy(
        "custom",
        ike,
        esp,
        _pfs(_strings(custom.get("childPfsGroup"))),
        _lifetime(custom.get("ikeLifetime")) or DEFAULT_LIFETIME,
        _lifetime(custom.get("childLifetime")) or DEFAULT_LIFETIME,
    )


def peer_address(peer: Mapping[str, Any]) -> str:
    """How the peer is named in the report: its public IP, else hostname, else name."""
    for field in ("publicIp", "publicHostname", "name"):
        value = peer.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "?"


def peer_vendors(peer: Mapping[str, Any]) -> set[str]:
    """Clouds the peer's names (and an aws/azure preset) point to."""
    names = " ".join(str(peer.get(field) or "") for field in ("name", "publicHostname"))
    vendors = guess_vendors(names)
    preset = str(peer.get("ipsecPoliciesPreset") or "").strip().lower()
    if preset in _PRESET_VENDORS:
        vendors.add(_PRESET_VENDORS[preset])
    return vendors


def ike_version(peer: Mapping[str, Any]) -> int:
    """The peer entry's IKE version; the Dashboard default "1" when absent or unreadable."""
    return 2 if str(peer.get("ikeVersion", "1")).strip().lower() in ("2", "ikev2", "v2") else 1


@dataclass
class _Check:
    """What every check needs, so each one stays a short function."""

    catalog: Catalog
    lang: Lang
    peer: Mapping[str, Any]
    address: str
    vendors: set[str]
    policy: MxPolicy
    version: int
    firmware: tuple[int, ...] | None

    def finding(
        self,
        finding_id: str,
        facts: Mapping[str, str],
        *,
        phase: int | None = None,
        confidence: float = COMPARED,
    ) -> Finding:
        return self.catalog.build(
            finding_id,
            self.lang,
            peer=self.address,
            phase=phase,
            confidence=confidence,
            basis=Basis.CONFIG,
            facts=facts,
            vendors=self.vendors,
        )

    def mismatch(
        self,
        finding_id: str,
        parameter: str,
        mx_value: str,
        remote_value: str,
        *,
        phase: int | None = None,
        **extra: str,
    ) -> Finding:
        facts = {"parameter": parameter, "mx_value": mx_value, "remote_value": remote_value, **extra}
        return self.finding(finding_id, facts, phase=phase)


def _check_firmware(c: _Check) -> list[Finding]:
    if c.version != 2 or c.firmware is None or supports_ikev2(c.firmware):
        return []
    facts = {"firmware": format_firmware(c.firmware)}
    return [c.finding("ikev2-unsupported-firmware", facts, confidence=KNOWN_FACT)]


def _check_weak_crypto(c: _Check) -> list[Finding]:
    proposals = [p for p in (c.policy.ike, c.policy.esp) if p]
    if c.policy.pfs and c.policy.pfs != NO_PFS:
        proposals.append(Proposal(dh=(c.policy.pfs,)))
    weak = sorted(weak_algorithms(proposals), key=_WEAK_ORDER.index)
    if not weak:
        return []
    facts = {"weak": ", ".join(weak), "policy": c.policy.source}
    return [c.finding("weak-crypto", facts, confidence=KNOWN_FACT)]


def _field_names(phase: int, kinds: Sequence[Kind]) -> str:
    return " / ".join(_FIELD_NAMES[(phase, kind)] for kind in kinds)


def _check_phase1(c: _Check, remote: RemoteParams) -> list[Finding]:
    if not remote.ike or c.policy.ike is None:
        return []
    # IKEv1 has no separate PRF; in IKEv2 it only matters when one end names it instead of
    # deriving it from the integrity algorithm.
    named_prf = bool(c.policy.ike.prf) or any(p.prf for p in remote.ike_proposals)
    compare_prf = (remote.version or c.version) == 2 and named_prf
    kinds: list[Kind] = ["encryption", "integrity", "dh"] + (["prf"] if compare_prf else [])
    failing = mismatched_kinds(c.policy.ike, remote.ike_proposals, kinds)
    if not failing:
        return []
    return [
        c.mismatch(
            "phase1-proposal-mismatch",
            _field_names(1, failing),
            str(c.policy.ike),
            format_proposals(remote.ike_proposals),
        )
    ]


def _check_phase2(c: _Check, remote: RemoteParams) -> list[Finding]:
    if not remote.esp or c.policy.esp is None:
        return []
    failing = mismatched_kinds(c.policy.esp, remote.esp_proposals, ["encryption", "integrity"])
    if not failing:
        return []
    remote_value = format_proposals(
        Proposal(encryption=p.encryption, integrity=p.integrity) for p in remote.esp_proposals
    )
    return [c.mismatch("phase2-proposal-mismatch", _field_names(2, failing), str(c.policy.esp), remote_value)]


def _check_pfs(c: _Check, remote: RemoteParams) -> list[Finding]:
    groups = remote.pfs_groups()
    if groups is None or c.policy.pfs is None or c.policy.pfs in groups:
        return []
    return [c.mismatch("pfs-mismatch", "childPfsGroup", c.policy.pfs, ",".join(sorted(groups)))]


def _bytes_label(amount: int) -> str:
    return f"{amount // 1024} KB" if amount % 1024 == 0 else f"{amount} bytes"


def _check_lifetimes(c: _Check, remote: RemoteParams) -> list[Finding]:
    found: list[Finding] = []
    pairs = (
        (1, "ikeLifetime", c.policy.ike_lifetime, remote.ike_lifetime),
        (2, "childLifetime", c.policy.esp_lifetime, remote.esp_lifetime),
    )
    for phase, field, mine, theirs in pairs:
        if mine is not None and theirs is not None and mine != theirs:
            found.append(c.mismatch("lifetime-mismatch", field, f"{mine}s", f"{theirs}s", phase=phase))
    if remote.esp_lifebytes is not None and c.policy.esp_lifetime is not None:
        found.append(
            c.mismatch(
                "lifetime-mismatch",
                "childLifetime",
                f"{c.policy.esp_lifetime}s",
                _bytes_label(remote.esp_lifebytes),
                phase=2,
            )
        )
    return found


def _check_version(c: _Check, remote: RemoteParams) -> list[Finding]:
    if remote.version is None or remote.version == c.version:
        return []
    extra = {"firmware": format_firmware(c.firmware)} if c.firmware else {}
    mine, theirs = f"IKEv{c.version}", f"IKEv{remote.version}"
    return [c.mismatch("ike-version-mismatch", "ikeVersion", mine, theirs, **extra)]


def _check_aggressive(c: _Check, remote: RemoteParams) -> list[Finding]:
    if not remote.aggressive or (remote.version or c.version) != 1:
        return []
    return [c.mismatch("aggressive-mode", "ikeVersion", "IKEv1 main mode", "IKEv1 aggressive mode")]


def _check_subnets(c: _Check, remote: RemoteParams) -> list[Finding]:
    dashboard = _networks(c.peer.get("privateSubnets"))
    if not remote.local_ts or dashboard is None or same_networks(dashboard, remote.local_ts):
        return []
    extra: dict[str, str] = {}
    if remote.remote_ts:
        extra |= {"local_ts": ", ".join(remote.local_ts), "remote_ts": ", ".join(remote.remote_ts)}
    if "azure" in c.vendors and dashboard:
        summary = _supernet([*dashboard, *remote.local_ts])
        if summary and not same_networks([summary], dashboard):
            extra |= {"supernet": summary, "subnets": ", ".join(dashboard)}
    mine, theirs = ", ".join(dashboard) or "-", ", ".join(remote.local_ts)
    return [c.mismatch("subnet-mismatch", "privateSubnets", mine, theirs, **extra)]


def _networks(value: object) -> list[str] | None:
    """The peer's private subnets as CIDR text, or None if any entry is not a network."""
    try:
        return [str(parse_network(item)) for item in _strings(value)]
    except ValueError:
        return None


def _supernet(cidrs: list[str]) -> str | None:
    try:
        return supernet(cidrs)
    except ValueError:
        return None


_CONFIG_CHECKS: tuple[Callable[[_Check], list[Finding]], ...] = (_check_firmware, _check_weak_crypto)
_REMOTE_CHECKS: tuple[Callable[[_Check, RemoteParams], list[Finding]], ...] = (
    _check_version,
    _check_aggressive,
    _check_phase1,
    _check_phase2,
    _check_pfs,
    _check_lifetimes,
    _check_subnets,
)


def verdict_for(findings: Sequence[Finding]) -> Verdict:
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return Verdict.FAILING
    if Severity.WARNING in severities:
        return Verdict.DEGRADED
    return Verdict.HEALTHY


def check_peer(
    peer: Mapping[str, Any],
    *,
    firmware: str | None = None,
    remote: RemoteParams | str | None = None,
    lang: Lang = "en",
) -> Diagnosis:
    """Diagnose a peer definition.

    Raises ValueError (RemoteParamsError for the `remote` text) when the input cannot be read.
    """
    if not isinstance(peer, Mapping):
        raise ValueError("a peer definition must be one JSON object from the thirdPartyVPNPeers list")
    params = parse_remote(remote) if isinstance(remote, str) else remote
    catalog = load_catalog()
    address = peer_address(peer)
    check = _Check(
        catalog=catalog,
        lang=lang,
        peer=peer,
        address=address,
        vendors=peer_vendors(peer),
        policy=mx_policy(peer),
        version=ike_version(peer),
        firmware=parse_firmware(firmware),
    )
    findings = [f for run in _CONFIG_CHECKS for f in run(check)]
    if params is not None:
        findings += [f for run in _REMOTE_CHECKS for f in run(check, params)]
    verdict = verdict_for(findings)
    # A configuration says nothing about a live tunnel: its sentences speak of the configuration, and
    # count every finding listed below them that needs doing something about.
    count = sum(f.severity is not Severity.INFO for f in findings)
    key = "verdict.config_ok" if verdict is Verdict.HEALTHY else f"verdict.config_{verdict.value}"
    summary = catalog.message(key, lang, peers=address, count=count)
    return Diagnosis(
        verdict=verdict,
        summary=summary,
        lang=lang,
        peers=[PeerReport(address=address, state=PeerState.UNKNOWN, ike_version=check.version)],
        findings=findings,
    )
