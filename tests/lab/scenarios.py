"""The lab's misconfigurations: one `Scenario` per real negotiation the lab provokes.

Left (10.99.0.1) always initiates, right (10.99.0.2) always responds. Each scenario
changes the baseline on one side only, so a failure has exactly one cause, and says
which daemon plays the Meraki MX for the Dashboard view (see views.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Role = Literal["initiator", "responder"]
Action = Literal["none", "rekey"]

LEFT_OUTSIDE = "10.99.0.1"
RIGHT_OUTSIDE = "10.99.0.2"
LEFT_INSIDE = "192.168.10.0/24"
RIGHT_INSIDE = "192.168.20.0/24"


@dataclass(frozen=True)
class Side:
    """One daemon's connection settings (rendered by configs.py)."""

    conn: str
    child: str
    version: int = 2
    aggressive: bool = False
    ike_proposals: str = "aes256-sha256-modp2048"
    esp_proposals: str = "aes256-sha256"
    psk: str = "lab-shared-secret-1"
    local_ts: str = LEFT_INSIDE
    remote_ts: str = RIGHT_INSIDE
    ike_rekey: str = "4h"
    child_rekey: str = "1h"
    child_life: str = "66m"
    allow_aggressive_psk: bool = False


@dataclass(frozen=True)
class Marker:
    """A line (regex) that must appear in one side's detailed log before the run counts as finished."""

    side: Literal["left", "right"]
    pattern: str


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    left: Side
    right: Side
    mx_role: Role = "initiator"
    deaf_responder: bool = False
    action: Action = "none"
    markers: tuple[Marker, ...] = ()
    establishes: bool = False
    # rough duration, only used to start the slow scenarios first
    expected_s: float = 1.0
    bound_s: float = 30.0
    # a failed initiation is repeated once, as an MX keeps retrying while traffic waits
    retries: int = 1


MX_SIDE = Side(conn="remote-peer-1", child="net-1")
PEER_SIDE = Side(conn="to-mx", child="lan", local_ts=RIGHT_INSIDE, remote_ts=LEFT_INSIDE)


def _v(side: Side, version: int) -> Side:
    return replace(side, version=version)


def _pair(name: str, what: str, version: int, left: dict | None = None, right: dict | None = None,
          **extra: object) -> Scenario:
    return Scenario(
        name=f"{name}-v{version}",
        what=what,
        left=replace(_v(MX_SIDE, version), **(left or {})),
        right=replace(_v(PEER_SIDE, version), **(right or {})),
        **extra,  # type: ignore[arg-type]
    )


def _both(name: str, what: str, **kw: object) -> list[Scenario]:
    return [_pair(name, what, v, **kw) for v in (1, 2)]  # type: ignore[arg-type]


_ESTABLISHED_BOTH = (
    Marker("left", r"CHILD_SA \S+\{1\} established"),
    Marker("right", r"CHILD_SA \S+\{1\} established"),
)

_ALL: list[Scenario] = [
    *_both("baseline", "identical settings on both sides", markers=_ESTABLISHED_BOTH, establishes=True),
    *_both(
        "ike-proposal",
        "phase-1 proposal differs: left aes128-sha1-modp1024, right aes256-sha256-modp2048",
        left={"ike_proposals": "aes128-sha1-modp1024"},
    ),
    _pair("psk", "pre-shared keys differ", 1, right={"psk": "another-secret-2"}, expected_s=15.0),
    _pair("psk", "pre-shared keys differ", 2, right={"psk": "another-secret-2"}),
    *_both(
        "esp-proposal",
        "phase-2 (ESP) proposal differs: left aes128-sha1, right aes256-sha256",
        left={"esp_proposals": "aes128-sha1"},
    ),
    *_both(
        "subnet-disjoint",
        "right expects the left's subnet to be 192.168.30.0/24 (left offers 192.168.10.0/24)",
        right={"remote_ts": "192.168.30.0/24"},
    ),
    *_both(
        "subnet-narrowed",
        "left offers 192.168.0.0/16, right expects 192.168.10.0/24: narrowed, not a failure",
        left={"local_ts": "192.168.0.0/16"},
        markers=_ESTABLISHED_BOTH,
        establishes=True,
    ),
    Scenario(
        name="version-v1-to-v2",
        what="left speaks IKEv1 only, right IKEv2 only",
        left=_v(MX_SIDE, 1),
        right=_v(PEER_SIDE, 2),
    ),
    Scenario(
        name="version-v2-to-v1",
        what="left speaks IKEv2 only, right IKEv1 only",
        left=_v(MX_SIDE, 2),
        right=_v(PEER_SIDE, 1),
    ),
    Scenario(
        name="aggressive-peer-initiates",
        what="the peer (left) initiates IKEv1 aggressive mode; the MX (right) allows main mode only",
        left=replace(_v(PEER_SIDE, 1), aggressive=True, local_ts=LEFT_INSIDE, remote_ts=RIGHT_INSIDE),
        right=replace(_v(MX_SIDE, 1), local_ts=RIGHT_INSIDE, remote_ts=LEFT_INSIDE,
                      allow_aggressive_psk=True),
        mx_role="responder",
    ),
    Scenario(
        name="aggressive-mx-initiates",
        what="the MX (left) initiates IKEv1 main mode; the peer (right) is set to aggressive mode",
        left=_v(MX_SIDE, 1),
        right=replace(_v(PEER_SIDE, 1), aggressive=True, allow_aggressive_psk=True),
    ),
    *_both(
        "unreachable",
        "nft in the right namespace drops UDP 500 and 4500: the responder never hears the initiator",
        deaf_responder=True,
        expected_s=15.0,
        markers=(Marker("left", r"establishing IKE_SA failed, peer not responding"),),
    ),
    _pair(
        "pfs",
        "left adds PFS (modp2048) to phase 2, right has none; IKEv1 checks it in quick mode",
        1,
        left={"esp_proposals": "aes256-sha256-modp2048"},
    ),
    _pair(
        "pfs",
        "left adds PFS (modp2048) to phase 2, right has none; IKEv2 only notices at the first rekey",
        2,
        left={"esp_proposals": "aes256-sha256-modp2048"},
        action="rekey",
        establishes=True,
        markers=(Marker("left", r"CHILD_SA rekeying failed|no CHILD_SA built"),),
    ),
    _pair(
        "lifetime",
        "phase-2 lifetimes differ (shortened): left rekeys after 8 s, right after 30 s",
        2,
        left={"child_rekey": "8s", "child_life": "12s"},
        right={"child_rekey": "30s", "child_life": "40s"},
        markers=(
            Marker("left", r"outbound CHILD_SA \S+\{2\} established"),
            Marker("right", r"outbound CHILD_SA \S+\{2\} established"),
        ),
        establishes=True,
        expected_s=10.0,
        bound_s=25.0,
    ),
    _pair(
        "lifetime",
        "phase-2 lifetimes differ (shortened): left 40 s, right 12 s; the right rekeys first",
        1,
        left={"child_rekey": "30s", "child_life": "40s"},
        right={"child_rekey": "8s", "child_life": "12s"},
        markers=(
            Marker("left", r"CHILD_SA \S+\{2\} established"),
            Marker("right", r"CHILD_SA \S+\{2\} established"),
        ),
        establishes=True,
        expected_s=10.0,
        bound_s=25.0,
    ),
]

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _ALL}
