"""parse_line's one-regex path for the common wrappers gives exactly what the general peeler gives.

The fast path must never change an answer, only its cost: every line of the fixture corpus and
of the lab's captured views, and generated lines that put every wrapper and every awkward
prefix after the Dashboard and syslog wrappers, are parsed both ways and compared.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.parse import _COMMON, parse_line, parse_wrapped

HERE = Path(__file__).parent
CORPUS = sorted(p for d in (HERE / "fixtures", HERE / "lab" / "captured") for p in d.rglob("*") if p.is_file())

WRAPPERS = (
    "Nov 14 22:13:20  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: ",
    "Nov 14 22:13:20\tNon-Meraki VPN\tNon-Meraki VPN negotiation\tmsg: ",
    "Jan  1 06:50:05 VPN msg: ",
    "Jan 1 2026 06:50:05.25 vpn MSG:",
    "sep 1 06:50:05 VPN Msg: ",
    "ſep 1 06:50:05 VPN msg: ",
    "Mar 3 01:02:03 Non-Meraki / Client VPN negotiation msg: ",
    "<134>1 1578424549.917669303 MX84 events Site-to-site VPN: ",
    "<134>1 1578424549.917669303 MX84 events VPN: ",
    "<134>1578424549.917669303 MX84 events Site-to-Site VPN:",
    "<134>1 1578424549.917669303 MX84\tevents\tSite-to-site VPN: ",
    "<134>1 collector 1 1578424549.917669303 MX84 events Site-to-site VPN: ",
    "<134>1 Nov 14 22:13:20 1578424549.9 MX84 events ",
    "<134>1 2026-11-14T22:13:20Z MX84 events ",
    "",
    "  ",
)
PREFIXES = (
    "", "<remote-peer-3|12> ", "<12> ", "<conn|12>", "<bad conn|1> ", "VPN: ", "site-to-site vpn: ",
    "ſite-to-site vpn: ",
    "charon: ", "charon[123]: ", "host ipsec: ", "14[IKE] ", "Nov 14 22:13:21 ", "2026-11-14T22:13:21Z ", "10:00:00 ",
    "ERROR: ", "error: ", "packet from 198.51.100.2:500: ", '"peer" #3: ', ": ", "[203.0.113.9] ", "WARNING: ",
    "INFO: ", "%ASA-4-713903: ", "ISAKMP: ", "ısakmp: ", " ", "\u3000", "`", "> ",
)
BODIES = (
    "IKE_SA remote-peer-3[12] established between 198.51.100.2[198.51.100.2]...203.0.113.9[203.0.113.9]",
    "initiate new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.9[500]",
    "phase1 negotiation failed due to time up 7a5bc0d3e1f29a44:0000000000000000",
    "failed to get sainfo", "received NO_PROPOSAL_CHOSEN notify", "a  b", "a\tb", "100% lost", "x`", "tail ", "x:y", "",
)


def both(line: str) -> tuple[tuple[object, ...], tuple[object, ...]]:
    fast, general = parse_line(line), parse_wrapped(line)
    fields = ("body", "ts", "ts_kind", "conn", "uid", "addr", "shape", "peer_side")
    return tuple(getattr(fast, f) for f in fields), tuple(getattr(general, f) for f in fields)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(HERE)))
def test_corpus_lines_parse_the_same_both_ways(path: Path) -> None:
    for line in path.read_text(encoding="utf-8", errors="replace").split("\n"):
        fast, general = both(line)
        assert fast == general, line


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(WRAPPERS),
    st.lists(st.sampled_from(PREFIXES), max_size=3),
    st.sampled_from(BODIES),
    st.sampled_from(("", " ", "  ", "`", "\t", "\u3000")),
)
def test_generated_lines_parse_the_same_both_ways(wrapper: str, prefixes: list[str], body: str, tail: str) -> None:
    line = wrapper + "".join(prefixes) + body + tail
    fast, general = both(line)
    assert fast == general, line


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(WRAPPERS), st.text(max_size=80))
def test_any_text_after_a_wrapper_parses_the_same_both_ways(wrapper: str, rest: str) -> None:
    fast, general = both(wrapper + rest)
    assert fast == general, wrapper + rest


@pytest.mark.parametrize("line", [
    "Nov 14 22:13:20  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: <remote-peer-3|12> IKE_SA remote-peer-3[12] "
    "established between 198.51.100.2[198.51.100.2]...203.0.113.9[203.0.113.9]",
    "Jan 1 06:50:05 VPN msg: failed to get sainfo",
    "<134>1 1578424549.917669303 MX84 events Site-to-site VPN: failed to get sainfo",
])
def test_the_usual_lines_take_the_one_regex_path(line: str) -> None:
    assert _COMMON.match(line) is not None
