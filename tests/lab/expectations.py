"""What VPN Doctor must conclude from each view of each lab scenario.

Decided from the lines the real daemons printed (see tests/lab/captured/), not from
what the engine happens to say. Where one view cannot tell two causes apart, both
are accepted and neither counts as a stray error: e.g. an initiator that only
receives NO_PROPOSAL_CHOSEN in its first exchange cannot know whether the peer's
proposals or its IKE version differ; an MX whose Dashboard shows only audit lines
sees "initiating…" and never "established", nothing more.

Views: `initiator` / `responder` are the daemons' detailed logs pasted as they are;
`mx_dashboard` is the MX-role daemon's audit lines as Dashboard rows (views.py). The
MX plays the initiator except in `aggressive-peer-initiates`, where the peer starts
aggressive mode towards a main-mode MX (scenarios.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.models import Diagnosis, Severity, Verdict

VIEWS = ("initiator", "responder", "mx_dashboard")


@dataclass(frozen=True)
class Expect:
    any_of: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    also_allowed_errors: tuple[str, ...] = ()

    def problems(self, diagnosis: Diagnosis) -> list[str]:
        """Everything in `diagnosis` that contradicts this expectation (empty = as expected)."""
        found = diagnosis.finding_ids
        problems: list[str] = []
        if self.any_of and not set(self.any_of) & set(found):
            problems.append(f"expected one of {list(self.any_of)}, found {found}")
        allowed = set(self.any_of) | set(self.also_allowed_errors)
        stray = [f.id for f in diagnosis.findings if f.severity is Severity.ERROR and f.id not in allowed]
        if stray:
            problems.append(f"unexpected error findings {stray}")
        if diagnosis.verdict not in self.verdicts:
            wanted = [v.value for v in self.verdicts]
            problems.append(f"verdict {diagnosis.verdict.value}, expected one of {wanted}")
        return problems


FAILING = (Verdict.FAILING,)
UP = (Verdict.HEALTHY,)
UP_OR_DEGRADED = (Verdict.HEALTHY, Verdict.DEGRADED)


def _same(expect: Expect) -> dict[str, Expect]:
    return dict.fromkeys(VIEWS, expect)


def _fail(initiator: tuple[str, ...], responder: tuple[str, ...], mx: tuple[str, ...],
          initiator_extra: tuple[str, ...] = (), responder_extra: tuple[str, ...] = ()) -> dict[str, Expect]:
    return {
        "initiator": Expect(initiator, FAILING, initiator_extra),
        "responder": Expect(responder, FAILING, responder_extra),
        "mx_dashboard": Expect(mx, FAILING),
    }


_UP = _same(Expect(("tunnel-established",), UP))
_UP_LIFETIME = _same(Expect(("tunnel-established",), UP_OR_DEGRADED))
P1_DOWN = ("phase1-not-established",)
P2_DOWN = ("phase2-not-established",)
# initiator side of a first-exchange NO_PROPOSAL_CHOSEN: proposals or IKE version
_FIRST_EXCHANGE_REFUSED = ("ike-version-mismatch", "phase1-proposal-mismatch")
_PFS = ("pfs-mismatch", "phase2-proposal-mismatch")

EXPECTED: dict[str, dict[str, Expect]] = {
    "baseline-v1": _UP,
    "baseline-v2": _UP,
    "ike-proposal-v1": _fail(("phase1-proposal-mismatch",), ("phase1-proposal-mismatch",), P1_DOWN),
    "ike-proposal-v2": _fail(("phase1-proposal-mismatch",), ("phase1-proposal-mismatch",), P1_DOWN),
    "psk-v1": _fail(("psk-mismatch",), ("psk-mismatch",), P1_DOWN),
    "psk-v2": _fail(("psk-mismatch",), ("psk-mismatch",), P1_DOWN),
    "esp-proposal-v1": _fail(("phase2-proposal-mismatch",), ("phase2-proposal-mismatch",), P2_DOWN),
    "esp-proposal-v2": _fail(("phase2-proposal-mismatch",), ("phase2-proposal-mismatch",), P2_DOWN),
    "subnet-disjoint-v1": _fail(("subnet-mismatch",), ("subnet-mismatch",), P2_DOWN),
    "subnet-disjoint-v2": _fail(("subnet-mismatch",), ("subnet-mismatch",), P2_DOWN),
    "subnet-narrowed-v1": _UP,
    "subnet-narrowed-v2": _UP,
    "version-v1-to-v2": _fail(_FIRST_EXCHANGE_REFUSED, ("ike-version-mismatch",), P1_DOWN),
    "version-v2-to-v1": _fail(_FIRST_EXCHANGE_REFUSED, ("ike-version-mismatch",), P1_DOWN),
    # the peer (initiator) logs that it started aggressive mode and got AUTHENTICATION_FAILED;
    # the MX (responder) names the refused mode; its audit line still shows "Aggressive Mode"
    "aggressive-peer-initiates": _fail(
        ("aggressive-mode",), ("aggressive-mode",), ("aggressive-mode", *P1_DOWN),
        initiator_extra=("psk-mismatch",),
    ),
    # the MX (initiator) only sees AUTHENTICATION_FAILED after main mode: from its side
    # that is indistinguishable from a PSK mismatch; the peer names the mode
    "aggressive-mx-initiates": _fail(("aggressive-mode", "psk-mismatch"), ("aggressive-mode",), P1_DOWN),
    # the deaf responder logged nothing at all: no VPN lines, no finding, unknown
    "unreachable-v1": {
        "initiator": Expect(("peer-unresponsive",), FAILING),
        "responder": Expect((), (Verdict.UNKNOWN,)),
        "mx_dashboard": Expect(("peer-unresponsive", *P1_DOWN), FAILING),
    },
    "unreachable-v2": {
        "initiator": Expect(("peer-unresponsive",), FAILING),
        "responder": Expect((), (Verdict.UNKNOWN,)),
        "mx_dashboard": Expect(("peer-unresponsive", *P1_DOWN), FAILING),
    },
    # IKEv1 checks PFS in quick mode; the responder names the missing key exchange
    "pfs-v1": _fail(_PFS, ("pfs-mismatch",), P2_DOWN, responder_extra=("phase2-proposal-mismatch",)),
    # IKEv2: the first CHILD_SA (in IKE_AUTH, no KE) comes up; only the rekey fails, the
    # old CHILD_SA stays. The MX's audit lines show an up tunnel and a rekey that starts.
    "pfs-v2": {
        "initiator": Expect(_PFS, (Verdict.DEGRADED, Verdict.FAILING)),
        "responder": Expect(
            ("pfs-mismatch",), (Verdict.DEGRADED, Verdict.FAILING), ("phase2-proposal-mismatch",)
        ),
        "mx_dashboard": Expect(("tunnel-established",), UP_OR_DEGRADED),
    },
    "lifetime-v1": _UP_LIFETIME,
    "lifetime-v2": _UP_LIFETIME,
}
