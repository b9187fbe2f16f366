"""Long lines that a terminal or an issue page cut in two are read whole, and only then."""

from __future__ import annotations

from knowledge import diagnose_text
from knowledge.models import Finding

# As pasted in github:strongswan/strongswan#1150 (the page cut each line at 130 characters).
CUT = (
    "Jul 10 05:09:33 cgdcvpnbr charon-systemd[1058]: unable to install policy 10.12.112.0/21 === "
    "10.0.0.0/8 in for reqid 16, the same polic\n"
    "y for reqid 1 exists\n"
)


def _findings(text: str) -> dict[str, Finding]:
    return {f.id: f for f in diagnose_text(text).findings}


def test_a_line_cut_inside_a_word_is_read_with_its_rest() -> None:
    found = _findings(CUT)
    assert "subnet-mismatch" in found
    assert found["subnet-mismatch"].evidence[0].line == 1
    assert "the same policy for reqid 1 exists" in found["subnet-mismatch"].evidence[0].text


def test_a_cut_line_in_a_windows_paste_is_read_whole_too() -> None:
    assert "subnet-mismatch" in _findings(CUT.replace("\n", "\r\n"))


def test_a_whole_line_is_not_joined_to_what_follows() -> None:
    whole = (
        "Jul 22 10:15:34 192.0.2.1 1 1690000000.1 MX84 events type=vpn_connectivity_change "
        "msg: phase1 negotiation failed due to time up 203.0.113.10[500]<=>198.51.100.2[500]\n"
    )
    for after in ("qq\n", "Otherwise the following error appears:\n", "    indented output\n"):
        d = diagnose_text(whole + after)
        evidence = [e.text for f in d.findings for e in f.evidence]
        assert evidence and all(after.strip() not in text for text in evidence), (after, evidence)


def test_a_cut_line_that_does_not_read_better_whole_stays_as_it_was() -> None:
    head = ("Jul 10 05:09:33 host charon: 05[IKE] received NO_PROPOSAL_CHOSEN notify error "
            "while we tried hard to talk x\n")
    d = diagnose_text(head + "yz and more words here\n")
    evidence = [e.text for f in d.findings for e in f.evidence]
    assert evidence and not any("yz and more" in text for text in evidence)


# As printed in a FreeBSD racoon article (onlamp.com, kept in the corpus as
# meraki-racoon/onlamp-freebsd-racoon-pskey-not-found.log): the page cut the line so that the
# message's key words sit on both sides of the cut, and the paste has no final line break.
CUT_KEYWORD = (
    "2002-12-29 12:48:31: ERROR: oakley.c:2054:oakley_skeyid(): couldn't find \n"
    "the pskey for B.B.B.B."
)


def test_a_cut_line_whose_keyword_spans_the_cut_is_read_whole() -> None:
    found = _findings(CUT_KEYWORD)
    assert "peer-not-configured" in found
    assert found["peer-not-configured"].peer == "B.B.B.B"


def test_a_cisco_comment_after_a_long_line_starts_a_line_of_its_own() -> None:
    text = (
        "May 23 2010 13:15:25: %ASA-7-715046: IP = 203.0.113.22, constructing Fragmentation VID + "
        "extended capabilities payload\n"
        "! Begin state: MM_WAIT_MSG2 (send hash/encrypt/dh info and agree upon them)\n"
    )
    evidence = [e.text for f in diagnose_text(text).findings for e in f.evidence]
    assert not any("Begin state" in line for line in evidence)


# A forum post that lost its line breaks (RouterOS log, forum thread kept in the corpus as
# forums-2/mikrotik-1121395-win11-deletes-sa-after-setup.log).
GLUED = (
    "21:46:23 ipsec IPsec-SA established: ESP/Transport 192.168.1.2[4500]->203.0.113.22[4500] "
    "spi=0x8ef9cd5221:46:23 ipsec, debug pfkey add sent.21:46:23 ipsec, debug ===== received 76 bytes "
    "from 203.0.113.22[4500] to 192.168.1.2[4500]21:46:23 ipsec, debug receive Information.\n"
)


def test_log_lines_joined_into_one_are_read_one_by_one() -> None:
    found = _findings(GLUED)
    assert "tunnel-established" in found
    assert all("debug pfkey" not in e.text for e in found["tunnel-established"].evidence)


def test_a_long_sentence_with_times_in_it_is_not_cut_up() -> None:
    text = ("Between 10:00:00 and 11:30:00 yesterday the tunnel was fine, then at 11:45:12 users said it dropped; "
            "we saw phase1 negotiation failed due to time up in the log but nothing else of note at all.\n")
    d = diagnose_text(text)
    evidence = [e.text for f in d.findings for e in f.evidence]
    assert evidence and all(text.strip().startswith(e.rstrip("…")[:40]) for e in evidence)
