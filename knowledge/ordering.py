"""Puts events in time order. The Dashboard lists newest first, syslog and peer logs oldest first,
and people paste both; each run of lines from one source is judged on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Literal

from knowledge.events import Event

Order = Literal["newest-first", "chronological", "unknown"]

# Pairs of event kinds that happen in this order within one negotiation.
_CAUSAL = {
    ("p1_start", "p1_up"),
    ("p1_up", "p2_start"),
    ("p1_up", "p2_up"),
    ("p2_start", "p2_up"),
    ("p1_start", "giveup"),
    ("retransmit", "giveup"),
    ("p1_start", "retransmit"),
    ("p2_up", "p2_down"),
    ("p1_up", "p1_down"),
}


def _vote_by_time(events: Sequence[Event]) -> int:
    times = [e.ts for e in events if e.ts is not None]
    return sum((b > a) - (b < a) for a, b in pairwise(times))


def _vote_by_uid(events: Sequence[Event]) -> int:
    uids = [int(e.parsed.uid) for e in events if e.parsed.uid and e.parsed.uid.isdigit()]
    return sum((b > a) - (b < a) for a, b in pairwise(uids))


def _vote_by_causality(events: Sequence[Event]) -> int:
    vote = 0
    last_kind_by_key: dict[str, str] = {}
    for e in events:
        prev = last_kind_by_key.get(e.key)
        if prev is not None and prev != e.kind:
            if (prev, e.kind) in _CAUSAL:
                vote += 1
            elif (e.kind, prev) in _CAUSAL:
                vote -= 1
        last_kind_by_key[e.key] = e.kind
    return vote


def segment_order(events: Sequence[Event]) -> Order:
    for voter in (_vote_by_time, _vote_by_uid, _vote_by_causality):  # the first that can tell decides
        vote = voter(events)
        if vote > 0:
            return "chronological"
        if vote < 0:
            return "newest-first"
    if events and events[0].parsed.shape == "dashboard":
        return "newest-first"
    if events and events[0].parsed.shape in ("charon", "asa", "racoon", "pluto"):
        return "chronological"
    return "unknown"


def chronological(events: Sequence[Event]) -> tuple[list[Event], Order]:
    """Events oldest first, segment by segment; the overall order is the most common verdict."""
    segments: dict[int, list[Event]] = {}
    for e in events:
        segments.setdefault(e.segment, []).append(e)
    ordered: list[Event] = []
    verdicts: list[Order] = []
    for seg in sorted(segments):
        run = segments[seg]
        order = segment_order(run)
        verdicts.append(order)
        ordered.extend(reversed(run) if order == "newest-first" else run)
    decided = [v for v in verdicts if v != "unknown"]
    if not decided:
        return ordered, "unknown"
    overall: Order = max(set(decided), key=decided.count)
    return ordered, overall
