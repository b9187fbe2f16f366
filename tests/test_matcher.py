"""The matcher remembers the answer for short message bodies it has seen; that must never change an answer."""

from __future__ import annotations

from knowledge import diagnose_text
from knowledge.library import load_catalog
from knowledge.matcher import REMEMBER_BODIES, REMEMBER_CHARS, Matcher

BODY = "phase1 negotiation failed due to time up 7a5bc0d3e1f29a44:0000000000000000"
LOG = """\
Jan 1 06:50:01 VPN msg: initiate new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.9[500]
Jan 1 06:50:05 VPN msg: phase1 negotiation failed due to time up 7a5bc0d3e1f29a44:0000000000000000
Jan 1 06:51:01 VPN msg: initiate new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.9[500]
Jan 1 06:51:05 VPN msg: phase1 negotiation failed due to time up 7a5bc0d3e1f29a44:0000000000000000
"""


def test_a_repeated_body_gets_the_same_answer_as_the_first_time() -> None:
    matcher = Matcher(load_catalog())
    first = matcher.match(BODY)
    again = matcher.match(BODY)
    assert first is not None and first.sig.id == "racoon.ph1-time-up"
    assert again is first
    assert Matcher(load_catalog()).match(BODY) == first


def test_long_bodies_are_not_remembered_and_the_memory_is_bounded() -> None:
    matcher = Matcher(load_catalog())
    long_body = BODY + " " + "x" * REMEMBER_CHARS
    matcher.match(long_body)
    assert not any(body == long_body for _, body in matcher._seen)
    for i in range(REMEMBER_BODIES + 10):
        matcher.match(f"failed to get sainfo {i}")
    assert 0 < len(matcher._seen) <= REMEMBER_BODIES


def test_diagnosing_the_same_log_twice_gives_the_same_diagnosis() -> None:
    first = diagnose_text(LOG).model_dump(mode="json")
    assert any(f["id"] == "peer-unresponsive" for f in first["findings"])
    assert diagnose_text(LOG).model_dump(mode="json") == first
