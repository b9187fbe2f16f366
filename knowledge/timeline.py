"""Reads one peer's events in time order and says what they mean.

This is where "the same message means phase 1 or phase 2 depending on what came before"
lives: a notify or proposal failure is judged against whether that IKE_SA (or, for racoon,
that peer) had finished phase 1 when it arrived. It is also where absences are read: attempts
that never complete, an IKE_SA with no CHILD_SA, tunnels rebuilt at a steady interval.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from knowledge.events import Event
from knowledge.library import Catalog, duration_text
from knowledge.models import Basis, PeerState

MX_DEFAULT_LIFETIME = 28_800
REKEY_WINDOW = 5.0  # seconds around a CHILD_SA closing in which a new one means "rekey"
IDLE_CHILD_MIN_AGE = 120.0  # younger CHILD_SAs closing with 0 bytes say nothing about traffic
OUTAGE_MIN = 30.0
ALTERNATIVE_WEIGHT = 0.6  # a less likely reading of an ambiguous line ranks below the likely one


@dataclass
class Claim:
    finding: str
    peer: str | None
    phase: int | None
    lines: list[Event]  # the evidence; turned into citations once the claims are merged
    confidence: float
    basis: Basis
    facts: dict[str, str] = field(default_factory=dict)
    alternative_to: str | None = None  # a less likely reading of the same line as that finding
    ambiguous: bool = False  # the line that made this claim is printed for other causes too
    caution: bool = False  # the tunnel works as it is; the finding is a risk (e.g. towards an MX)


@dataclass
class Attempt:
    """One phase-1 negotiation, from its first line to its outcome."""

    uid: str | None
    established: bool = False
    heard: bool = False
    nat: bool = False
    aggressive: bool = False
    retransmits: int = 0


@dataclass
class PeerAnalysis:
    key: str
    peer: str | None
    claims: list[Claim] = field(default_factory=list)
    state: PeerState = PeerState.UNKNOWN
    conns: set[str] = field(default_factory=set)
    ike_version: int | None = None
    last_ts: float | None = None
    last_ts_kind: str | None = None
    remote_subnets: list[str] = field(default_factory=list)
    peer_side: bool = False
    dialects: set[str] = field(default_factory=set)
    details: list[Event] = field(default_factory=list)
    reauth_s: float | None = None  # the IKE_SA was replaced on schedule (the MX's 8-hour default)
    recovered: bool = False  # a Child SA came up after the last failure: the tunnel works now


@lru_cache(maxsize=1024)
def normalise_notify(name: str) -> str:
    up = name.strip().upper().replace("-", "_").replace(" ", "_")
    return up.removeprefix("V2N_")


REAUTH_GAP_S = 60.0
UNANSWERED_RETRANSMITS = 3  # fewer may be a slow peer; three unanswered requests in a row are not


def _accepted_init(e: Event) -> bool:
    """An IKE_SA_INIT response that carries SA and KE: the peer accepted the offered group."""
    payloads = e.groups.get("payloads", "").split()
    return e.groups.get("exchange", "").upper() == "IKE_SA_INIT" and "SA" in payloads and "KE" in payloads


class PeerTimeline:
    def __init__(self, key: str, events: Sequence[Event], catalog: Catalog) -> None:
        self.events = events
        self.catalog = catalog
        first_peer = next((e.peer for e in events if e.peer), None)
        self.out = PeerAnalysis(key=key, peer=first_peer)
        self._notify_rules = {
            normalise_notify(name): rule for rule in catalog.notify_rules for name in rule.names
        }
        self.attempts: list[Attempt] = []
        self._by_uid: dict[str, Attempt] = {}
        self.p1_up_peer = False  # racoon: phase 1 complete for this peer right now
        self.p1_ups: list[Event] = []
        self.p2_ups: list[Event] = []
        self.p2_downs: list[Event] = []
        self.child_up_ts: dict[str, float] = {}
        self.transitions: list[tuple[str, Event]] = []
        self.locals: list[tuple[str, Event]] = []  # the MX address each negotiation used, in order
        self._position = {id(e): i for i, e in enumerate(events)}
        self._uid_phase_hint = _phase_hints(events)
        self._said_phase: int | None = None  # the phase the last line that names one was about
        self._certificates = False  # a line showed certificate authentication
        self._rekey_with_ke: set[str] = set()  # IKE_SAs whose CHILD_SA rekey offered a KE payload

    # --- phase bookkeeping ---------------------------------------------------------------
    def _attempt(self, e: Event, new: bool = False) -> Attempt:
        uid = e.uid
        if uid and not new and uid in self._by_uid:
            return self._by_uid[uid]
        if not new and not uid and self.attempts:
            return self.attempts[-1]
        att = Attempt(uid=uid)
        self.attempts.append(att)
        if uid:
            self._by_uid[uid] = att
        return att

    def _phase1_done(self, e: Event) -> bool:
        uid = e.uid
        if uid and uid in self._by_uid:
            return self._by_uid[uid].established
        return self.p1_up_peer

    def _context_phase(self, e: Event) -> int:
        if self.p1_ups or self.p1_up_peer or self.attempts:
            return 2 if self._phase1_done(e) else 1
        hint = self._uid_phase_hint.get(e.uid or "")
        if hint:
            return hint
        exchange = e.groups.get("exchange", "").lower()
        if exchange.startswith(("phase2", "quick")):
            return 2
        # Vendors without SA ids say the phase on a line of its own (`IKE phase-2 negotiation failed`).
        return self._said_phase or 1

    # --- the walk ------------------------------------------------------------------------
    def run(self) -> PeerAnalysis:
        note = self._note
        for e in self.events:
            note(e)
            handler = _HANDLERS.get(e.kind)
            if handler:
                handler(self, e)
        self._infer()
        return self.out

    def _note(self, e: Event) -> None:
        out = self.out
        said = e.sig.phase if e.sig.phase in (1, 2) else _exchange_phase(e) or _KIND_PHASE.get(e.kind)
        if said:
            self._said_phase = said
        if "certificate" in e.tags:
            self._certificates = True
        out.dialects.add(e.sig.dialect)
        out.peer_side = out.peer_side or e.parsed.peer_side
        conn = e.conn
        if conn:
            out.conns.add(conn)
        if e.ts is not None:
            out.last_ts, out.last_ts_kind = e.ts, e.parsed.ts_kind
        if "ikev1" in e.tags:
            out.ike_version = 1
        elif "ikev2" in e.tags and out.ike_version is None:
            out.ike_version = 2
        for key in ("ts_remote", "remote_ts"):
            if key in e.groups:
                for part in e.groups[key].split():
                    if "/" in part and part not in out.remote_subnets:
                        out.remote_subnets.append(part.split("[")[0])
        if "heard" in e.tags and self.attempts:
            self._attempt(e).heard = True
        if e.groups.get("exchange", "").lower() in _PHASE2_EXCHANGES:
            self._attempt(e).established = True
            self.p1_up_peer = True
            payloads = e.groups.get("payloads", "").split()
            if e.sig.id == "charon.generated-message" and "N(REKEY_SA)" in payloads and "KE" in payloads:
                self._rekey_with_ke.add(e.uid or "")
        local = e.groups.get("local")
        if local and (not self.locals or self.locals[-1][0] != local):
            self.locals.append((local, e))

    def _claim(self, finding: str | None, e: Event, phase: int | None, confidence: float,
               basis: Basis, also: Sequence[str] = (), **facts: str) -> None:
        if not finding:
            return
        groups = {k: v for k, v in e.groups.items() if k in _FACT_GROUPS}
        groups.update({k: v for k, v in facts.items() if v})
        peer = e.peer or self.out.peer
        self.out.claims.append(Claim(finding, peer, phase, [e], confidence, basis, groups, ambiguous=bool(also),
                                     caution="caution" in e.tags))
        for other in also:
            if other != finding:
                self.out.claims.append(Claim(other, peer, phase, [e], confidence * ALTERNATIVE_WEIGHT,
                                             Basis.INFERRED, {**groups, "alternative_to": finding},
                                             alternative_to=finding))

    def _on_p1_start(self, e: Event) -> None:
        att = self._attempt(e, new="rekey" not in e.tags)
        att.aggressive = att.aggressive or "aggressive" in e.tags
        att.heard = att.heard or "heard" in e.tags
        if "rekey" not in e.tags and not (e.uid):
            self.p1_up_peer = False

    def _on_p1_up(self, e: Event) -> None:
        att = self._attempt(e)
        att.established = att.heard = True
        self.p1_up_peer = True
        if "rekey" not in e.tags:
            self.p1_ups.append(e)
            self.transitions.append(("p1_up", e))
        if "remote_id" in e.groups and "remote" in e.groups and e.groups["remote_id"] != e.groups["remote"]:
            self.out.details.append(e)

    def _on_p1_down(self, e: Event) -> None:
        if "rekey" not in e.tags:
            self.transitions.append(("p1_down", e))
        uid = e.uid
        if not uid:
            self.p1_up_peer = False

    def _on_p2_up(self, e: Event) -> None:
        self.p2_ups.append(e)
        cuid = e.groups.get("cuid")
        if cuid and e.ts is not None:
            self.child_up_ts.setdefault(cuid, e.ts)
        if "rekey" not in e.tags:
            self.transitions.append(("p2_up", e))

    def _on_p2_down(self, e: Event) -> None:
        self.p2_downs.append(e)

    def _infer_idle_children(self) -> None:
        """A CHILD_SA that lived a while and closed having carried nothing: no traffic used the tunnel."""
        for e in self.p2_downs:
            if e.groups.get("bytes_in") != "0" or e.groups.get("bytes_out") != "0" or self._is_rekey(e):
                continue
            born = self.child_up_ts.get(e.groups.get("cuid", ""))
            if born is None or e.ts is None or e.ts - born >= IDLE_CHILD_MIN_AGE:
                self._claim("no-traffic-through-tunnel", e, 2, 0.6, Basis.INFERRED)

    def _is_rekey(self, e: Event) -> bool:
        """A new CHILD_SA within seconds of this one closing (before or after) makes it a rekey."""
        if e.ts is None:
            idx = self.events.index(e)
            return any("rekey" in x.tags for x in self.events[max(idx - 3, 0) : idx + 4] if x.kind == "p2_up")
        return any(
            other.ts is not None and abs(other.ts - e.ts) <= REKEY_WINDOW for other in self.p2_ups
        )

    def _on_fail(self, e: Event) -> None:
        sig = e.sig
        phase = sig.phase if sig.phase in (1, 2) else self._context_phase(e)
        finding = sig.finding or (sig.finding_by_phase or {}).get(phase)
        self._claim(finding, e, phase, sig.confidence, Basis.OBSERVED, also=sig.also)

    def _on_symptom(self, e: Event) -> None:
        facts: dict[str, str] = {}
        g = e.groups
        n = g.get("every_n") or g.get("every_n2") or g.get("after_n")
        unit = (g.get("every_unit") or g.get("every_unit2") or g.get("after_unit") or "").lower()
        if n and unit:
            seconds = int(n) * (60 if unit.startswith(("m", "分")) else 3600)
            facts.update(interval=duration_text(seconds, "en"), interval_s=str(seconds))
        self._claim(e.sig.finding, e, self.catalog.entry(e.sig.finding or "").phase, e.sig.confidence,
                    Basis.SYMPTOM, **facts)

    def _on_notify(self, e: Event) -> None:
        names = [e.groups["notify"]] if "notify" in e.groups else _payload_notifies(e.groups.get("payloads", ""))
        for raw in names:
            rule = self._notify_rules.get(normalise_notify(raw))
            if rule is None:
                continue
            phase = 2 if e.sig.phase == 2 else (_exchange_phase(e) or self._context_phase(e))
            if phase == 2:
                finding = rule.after_phase1
                uid = e.uid or ""
                if finding == "phase2-proposal-mismatch" and uid in self._rekey_with_ke and self.p2_ups:
                    # The first CHILD_SA was accepted; its rekey differs only by the KE payload.
                    finding = "pfs-mismatch"
            elif rule.when_aggressive and self.attempts and self._attempt(e).aggressive:
                finding = rule.when_aggressive
            else:
                finding = rule.before_phase1
            if rule.when_certificate and self._certificates:
                finding = rule.when_certificate
            also = rule.also_before_phase1 if phase != 2 and _ikev2_exchange(e, self.out.ike_version) else ()
            confidence = rule.confidence if (self.attempts or self.p1_ups) else rule.confidence - 0.15
            self._claim(finding, e, phase, confidence, Basis.OBSERVED, also, notify=normalise_notify(raw))

    def _on_nat(self, e: Event) -> None:
        if self.attempts:
            self._attempt(e).nat = True

    def _on_retransmit(self, e: Event) -> None:
        if self.attempts:
            self._attempt(e).retransmits += 1

    def _on_giveup(self, e: Event) -> None:
        att = self._attempt(e) if self.attempts else Attempt(uid=None)
        retransmits = e.groups.get("retransmits") or (str(att.retransmits) if att.retransmits else "")
        phase = e.sig.phase if e.sig.phase in (1, 2) else None
        if phase == 2:
            self._claim("phase2-not-established", e, 2, 0.7, Basis.INFERRED)
            return
        if e.sig.id == "racoon.ph2-waiting-ph1":
            self._claim("phase1-not-established", e, 1, 0.7, Basis.INFERRED)
            return
        rcookie = e.groups.get("rcookie")
        if rcookie is not None:
            if set(rcookie) == {"0"}:
                self._claim("peer-unresponsive", e, 1, 0.9, Basis.OBSERVED, retransmits=retransmits)
            elif att.nat:
                self._claim("nat-t-blocked", e, 1, 0.7, Basis.INFERRED)
            else:
                self._claim("phase1-not-established", e, 1, 0.65, Basis.INFERRED)
            return
        if att.established:
            self._claim("dead-peer", e, None, 0.75, Basis.INFERRED, retransmits=retransmits)
        elif att.nat:
            self._claim("nat-t-blocked", e, 1, 0.65, Basis.INFERRED)
        elif att.heard:
            self._claim("phase1-not-established", e, 1, 0.6, Basis.INFERRED)
        else:
            self._claim("peer-unresponsive", e, 1, 0.85, Basis.OBSERVED, retransmits=retransmits)

    def _on_dpd(self, e: Event) -> None:
        self._claim("dead-peer", e, None, 0.9, Basis.OBSERVED)

    def _on_detail(self, e: Event) -> None:
        self.out.details.append(e)

    # --- what the sequence says ----------------------------------------------------------
    def _infer(self) -> None:
        self._infer_unanswered()
        self._infer_phase1()
        self._infer_phase2()
        self._infer_interval()
        self._infer_uplink()
        self._infer_idle_children()
        self._infer_state()
        self._mark_partial_children()
        self.out.recovered = self._recovered()
        self._drop_recovered_group_retry()
        self._drop_answered_waits()
        self._drop_benign_stale()
        # A listing, or a summary line that says nothing of the Child SA (`IKE negotiation … completed`).
        snapshot_up = [e for e in self.p1_ups if "snapshot" in e.tags or "heard" not in e.tags]
        if snapshot_up and not self.p2_ups and not any(e.kind in _FAILURE_KINDS for e in self.events):
            # A state listing that shows phase 1 up and nothing wrong: what people check first.
            self.out.claims.append(
                Claim("tunnel-established", self.out.peer, None, snapshot_up[-1:], 0.7, Basis.OBSERVED)
            )
        if self.p2_ups:
            first = self.p1_ups[-1] if self.p1_ups else None
            lines = [x for x in (first, self.p2_ups[-1]) if x is not None]
            self.out.claims.append(
                Claim("tunnel-established", self.out.peer, None, lines, 0.95, Basis.OBSERVED)
            )

    def _recovered(self) -> bool:
        if self.out.state is not PeerState.UP or not self.p2_ups:
            return False
        failed = [i for i, e in enumerate(self.events) if e.kind in _FAILURE_KINDS]
        last_up = max(i for i, e in enumerate(self.events) if e.kind == "p2_up")
        return not failed or last_up > failed[-1] or bool(self._refused_children())

    def _refused_children(self) -> list[Claim]:
        """Subnet pairs refused while other connections' Child SAs with the same peer are up.

        Only a connection other than the refused ones counts: a rekey refused on the same
        connection takes that tunnel down.
        """
        refused = [c for c in self.out.claims if c.finding == "subnet-mismatch" and c.lines and c.lines[-1].conn]
        if not refused:
            return []
        refused_conns = {c.lines[-1].conn for c in refused}
        last_p1_down = max((i for i, (kind, _) in enumerate(self.transitions) if kind == "p1_down"), default=-1)
        working = [e for i, (kind, e) in enumerate(self.transitions)
                   if kind == "p2_up" and i > last_p1_down and e.conn not in refused_conns]
        return refused if working else []

    def _mark_partial_children(self) -> None:
        """The tunnel works for some subnet pairs only: say so rather than call it down."""
        for claim in self._refused_children():
            claim.caution = True
            self.out.claims.append(Claim("partial-host-reachability", claim.peer, 2, list(claim.lines),
                                         claim.confidence, claim.basis, dict(claim.facts)))

    def _infer_uplink(self) -> None:
        """The MX negotiating from a new address for the same peer means its uplink changed."""
        if len(self.locals) < 2:
            return
        first_addr, _ = self.locals[0]
        latest_addr, latest = self.locals[-1]
        if latest_addr == first_addr:
            return
        lines = [self.locals[0][1], latest]
        self.out.claims.append(
            Claim("uplink-failover", self.out.peer, None, lines, 0.7, Basis.INFERRED,
                  {"uplink": latest_addr, "previous_uplink": first_addr})
        )

    def _drop_recovered_group_retry(self) -> None:
        """INVALID_KE_PAYLOAD names the group the peer wants; when the retry that follows comes up,
        the two ends agreed on a common group and nothing is wrong."""
        group_rule = self._notify_rules.get("INVALID_KE_PAYLOAD")
        for claim in list(self.out.claims):
            if not claim.lines:
                continue
            asked = "group-retry" in claim.lines[-1].tags
            if not asked and self._notify_rules.get(claim.facts.get("notify", "")) is not group_rule:
                continue
            wanted = "p1_up" if claim.phase != 2 else "p2_up"
            if any(e.kind == wanted or _accepted_init(e) for e in self._after(claim.lines[-1])):
                self.out.claims.remove(claim)

    def _drop_answered_waits(self) -> None:
        """A daemon waiting for the next message says nothing wrong once the exchange went on."""
        for claim in list(self.out.claims):
            if not claim.lines or "waiting" not in claim.lines[-1].tags:
                continue
            if any(e.kind in ("p1_up", "p2_up", "p2_start") for e in self._after(claim.lines[-1])):
                self.out.claims.remove(claim)

    def _after(self, e: Event) -> Sequence[Event]:
        """This peer's events after `e`, in time order."""
        return self.events[self._position.get(id(e), len(self.events)) + 1:]

    def _drop_benign_stale(self) -> None:
        """One stray informational after a peer's DELETE is routine when the tunnel came back."""
        stale = [c for c in self.out.claims if c.finding == "stale-sa"]
        if stale and self.out.state is PeerState.UP and len(stale) == 1 and stale[0].confidence < 0.6:
            self.out.claims.remove(stale[0])

    def _infer_phase1(self) -> None:
        indexed = [(i, e) for i, e in enumerate(self.events) if e.kind == "p1_start" and "rekey" not in e.tags]
        starts = [e for _, e in indexed]
        aggressive_up = [e for e in (*starts, *self.p1_ups) if "aggressive" in e.tags]
        if aggressive_up and self.p1_ups:
            # It works with this peer, but an MX answers main mode only: a risk, not a failure here.
            self.out.claims.append(Claim("aggressive-mode", self.out.peer, 1, aggressive_up[-3:], 0.7, Basis.OBSERVED,
                                         caution=True))
        if self.p1_ups or self.p2_ups:
            # Up before: only a run of fresh attempts after the last success says it is down now.
            last_up = max(i for i, e in enumerate(self.events) if e.kind in ("p1_up", "p2_up"))
            starts = [e for i, e in indexed if i > last_up]
            if len(starts) < 2:
                return
        if not starts:
            return
        aggressive = [e for e in starts if "aggressive" in e.tags and "heard" in e.tags]
        if aggressive:
            lines = aggressive[-6:]
            self.out.claims.append(
                Claim("aggressive-mode", self.out.peer, 1, lines, min(0.6 + 0.05 * len(aggressive), 0.8),
                      Basis.INFERRED)
            )
        confidence = min(0.5 + 0.1 * (len(starts) - 1), 0.85)
        lines = starts[-6:]
        self.out.claims.append(
            Claim("phase1-not-established", self.out.peer, 1, lines, confidence, Basis.INFERRED,
                  {"attempts": str(len(starts))})
        )

    def _infer_unanswered(self) -> None:
        """Requests sent again and again with no answer, and the paste ends before the daemon gives up."""
        if self.out.claims:
            return
        resent = [e for e in self.events if e.kind == "retransmit"]
        quick = [e for e in resent if e.groups.get("state", "").lower().startswith("quick_")]
        if len(quick) >= UNANSWERED_RETRANSMITS and not self.p2_ups:
            # Phase 1 is up (quick mode is under way); the peer does not answer the phase 2 proposal.
            self.out.claims.append(Claim("phase2-not-established", self.out.peer, 2, quick[-6:], 0.55,
                                         Basis.INFERRED, {"retransmits": str(len(quick))}))
            return
        if self.p1_ups:
            return
        if self.attempts:
            last = self.attempts[-1]
            if last.heard or last.established or last.retransmits < UNANSWERED_RETRANSMITS:
                return
            count = last.retransmits
        elif len(resent) >= UNANSWERED_RETRANSMITS and not any("heard" in e.tags for e in self.events):
            count = len(resent)  # the paste starts after the first request
        else:
            return
        lines = [e for e in self.events if e.kind in ("p1_start", "retransmit")][-6:]
        self.out.claims.append(
            Claim("peer-unresponsive", self.out.peer, 1, lines, 0.6, Basis.INFERRED, {"retransmits": str(count)})
        )

    def _infer_phase2(self) -> None:
        """An IKE_SA / ISAKMP-SA that came up without any CHILD_SA / IPsec-SA after it."""
        p2_active = False
        pending: Event | None = None  # a phase-1 success still waiting for its phase 2
        failed: list[tuple[Event, Event]] = []
        for e in self.events:
            kind = e.kind
            if kind == "p2_up":
                p2_active, pending = True, None
            elif kind == "p2_down" and "rekey" not in e.tags:
                p2_active = False
            elif kind == "p1_up" and "rekey" not in e.tags and "snapshot" not in e.tags:
                if pending is not None:
                    failed.append((pending, e))
                pending = None if p2_active else e
            elif kind == "p1_down" and pending is not None and self._scheduled_reauth(pending, e):
                self.out.reauth_s = e.ts - pending.ts  # type: ignore[operator]
                pending = None
            elif kind in ("p1_down", "p2_start") and pending is not None and (
                kind == "p1_down" or self._p2_starts_after(pending, e)
            ):
                failed.append((pending, e))
                pending = None
        if not failed and self.out.reauth_s is not None:
            # IKE_SAs replaced on the lifetime, each back within seconds: a working tunnel whose
            # log (MX 15.12+ charon) shows the IKE_SA and not each CHILD_SA.
            if not self.p2_ups and self.p1_ups:
                self.out.claims.append(
                    Claim("tunnel-established", self.out.peer, None, [self.p1_ups[-1]], 0.8, Basis.INFERRED)
                )
            return
        if not failed:
            if pending is not None and not self.p2_ups and "heard" in pending.tags:
                # Phase 1 completed and no phase 2 ever followed in these lines; on an MX running
                # 15.12+ with IKEv1 that is all the log ever shows of a refused quick mode.
                lines = [pending]
                self.out.claims.append(
                    Claim("phase2-not-established", self.out.peer, 2, lines, 0.55, Basis.INFERRED)
                )
            return
        up, closing = failed[-1]
        if any(e.kind == "p2_up" for e in self.events[self.events.index(closing):]):
            return
        lines = [up, closing]
        self.out.claims.append(Claim("phase2-not-established", self.out.peer, 2, lines, 0.7, Basis.INFERRED))

    def _scheduled_reauth(self, up: Event, down: Event) -> bool:
        """Deleted after about the MX's default lifetime and established again within a minute."""
        if up.ts is None or down.ts is None:
            return False
        if not 0.8 * MX_DEFAULT_LIFETIME <= down.ts - up.ts <= 1.1 * MX_DEFAULT_LIFETIME:
            return False
        after = self.events[self.events.index(down) + 1:]
        return any(e.kind == "p1_up" and e.ts is not None and 0 <= e.ts - down.ts <= REAUTH_GAP_S for e in after)

    def _p2_starts_after(self, up: Event, start: Event) -> bool:
        """Quick mode tried twice after phase 1 without success counts as a failed phase 2."""
        idx = self.events.index(up)
        tries = [e for e in self.events[idx:] if e.kind == "p2_start"]
        return len(tries) >= 2 and start is tries[-1]

    def _infer_interval(self) -> None:
        for series in (_episodes(self.p1_ups), _episodes([e for e in self.p2_ups if "rekey" not in e.tags])):
            times = [e.ts for e in series if e.ts is not None]
            if len(times) < 3:
                continue
            gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
            if len(gaps) < 2:
                continue
            median = statistics.median(gaps)
            if median <= 0 or max(gaps) > 1.25 * min(gaps):
                continue
            if 0.8 * MX_DEFAULT_LIFETIME <= median <= 1.1 * MX_DEFAULT_LIFETIME:
                continue
            lines = list(series[-3:])
            self.out.claims.append(
                Claim("lifetime-mismatch", self.out.peer, 2, lines, 0.7, Basis.INFERRED,
                      {"interval": duration_text(median, "en"), "interval_s": str(round(median))})
            )
            return

    def _infer_state(self) -> None:
        ups = downs = 0
        outages = 0
        state = PeerState.UNKNOWN
        down_at: float | None = None
        for kind, e in self.transitions:
            if kind in ("p1_up", "p2_up"):
                if state is not PeerState.UP and down_at is not None and e.ts is not None:
                    outages += e.ts - down_at >= OUTAGE_MIN
                state = PeerState.UP
                ups += 1
            else:
                if state is PeerState.UP:
                    downs += 1
                state = PeerState.DOWN
                down_at = e.ts
        has_error = any(c.finding != "tunnel-established" for c in self.out.claims)
        failing_tail = self.events and self.events[-1].kind in ("fail", "giveup", "dpd", "notify", "p1_start")
        if state is PeerState.UP and failing_tail and not self._refused_children():
            state = PeerState.DOWN
        if state is PeerState.UNKNOWN and (has_error or self.attempts):
            state = PeerState.DOWN if any(e.kind != "symptom" for e in self.events) else PeerState.UNKNOWN
        if downs >= 2 and (outages >= 1 or any(c.finding == "lifetime-mismatch" for c in self.out.claims)):
            state = PeerState.FLAPPING
        self.out.state = state


_HANDLERS = {name.removeprefix("_on_"): fn for name, fn in vars(PeerTimeline).items() if name.startswith("_on_")}
_PHASE2_EXCHANGES = {"quick_mode", "create_child_sa"}
_FAILURE_KINDS = frozenset({"fail", "notify", "giveup", "dpd"})
_KIND_PHASE = {"p2_start": 2, "p2_up": 2, "p2_down": 2}  # a quick mode / Child SA line says phase 1 is done

_FACT_GROUPS = {
    "local_ts", "remote_ts", "ts_local", "ts_remote", "remote_id", "source_ip", "my", "peer_value",
    "parameter", "selectors", "notify", "retransmits", "flag", "proposals_received", "proposals_configured", "uplink",
    "working_host", "failing_host",
}


_IKEV2_MARKS = ("ike_sa_init", "ike_auth", "parent_i1", "parent_r1", "parent_i2", "v2n_")


def _ikev2_exchange(e: Event, version: int | None) -> bool:
    """An IKEv2 exchange: a responder with no connection for the sender (or for its IDs) refuses
    it with the same notify as a real mismatch; IKEv1 responders stay silent instead."""
    if "ikev2" in e.tags or version == 2 or e.groups.get("exchange", "").lower() in ("ike_sa_init", "ike_auth"):
        return True
    text = e.parsed.body.lower()
    return any(mark in text for mark in _IKEV2_MARKS)


def _phase_hints(events: Sequence[Event]) -> dict[str, int]:
    """Per IKE_SA id, the phase its lines reveal anywhere (ESP proposals, quick mode, …)."""
    hints: dict[str, int] = {}
    for e in events:
        uid = e.uid
        if not uid or uid in hints or ("exchange" not in e.groups and e.kind != "detail"):
            continue
        phase = _exchange_phase(e)
        if phase is None and e.kind == "detail" and e.sig.phase in (1, 2):
            phase = e.sig.phase
        if phase:
            hints[uid] = phase
    return hints


def _exchange_phase(e: Event) -> int | None:
    """Which phase a charon message belongs to, from its exchange and payloads, when that says."""
    exchange = e.groups.get("exchange", "").lower()
    if exchange in _PHASE2_EXCHANGES:
        return 2
    if exchange in ("ike_sa_init", "id_prot", "aggressive"):
        return 1
    if exchange == "ike_auth":
        return 2 if "AUTH" in e.groups.get("payloads", "").split() else 1
    # pluto's state: a notify answering IKE_AUTH (PARENT_I2) refuses the Child SA, not the IKE SA
    state = e.groups.get("state", "").lower()
    if state.startswith("parent_"):
        return 2 if state.endswith("2") else 1
    return None


def _episodes(events: Sequence[Event]) -> list[Event]:
    """Collapse establishments seconds apart (both directions of one SA pair) into one."""
    out: list[Event] = []
    for e in events:
        if out and e.ts is not None and out[-1].ts is not None and e.ts - out[-1].ts <= REKEY_WINDOW:
            continue
        out.append(e)
    return out


def _payload_notifies(payloads: str) -> list[str]:
    names = []
    for token in payloads.split():
        if token.startswith("N(") and token.endswith(")"):
            names.append(token[2:-1])
    return names
