"""Engine behaviour that the fixture corpus does not pin down line by line."""

from __future__ import annotations

import io
import json

import pytest

from knowledge import diagnose_bytes, diagnose_events, diagnose_lines, diagnose_stream, diagnose_text
from knowledge.models import PeerState, Verdict
from knowledge.ordering import segment_order
from knowledge.parse import parse_line

HEALTHY_NEWEST_FIRST = """\
Jan 1 06:50:05 VPN msg: IPsec-SA established: ESP/Tunnel 1.1.1.1[4500]->2.2.2.2[4500] spi=122738512(0x750d750)
Jan 1 06:50:04 VPN msg: initiate new phase 2 negotiation: 1.1.1.1[4500]<=>2.2.2.2[4500]
Jan 1 06:50:04 VPN msg: ISAKMP-SA established 1.1.1.1[4500]-2.2.2.2[4500] spi:91f7c94b98a41ce8:85abf36d937b096f
Jan 1 06:50:03 VPN msg: initiate new phase 1 negotiation: 1.1.1.1[500]<=>2.2.2.2[500]
"""

NOTIFY = "notification NO-PROPOSAL-CHOSEN received in informational exchange."


def ids(text: str) -> list[str]:
    return [f.id for f in diagnose_text(text).findings]


def test_seed_healthy_negotiation_is_read_newest_first() -> None:
    d = diagnose_text(HEALTHY_NEWEST_FIRST)
    assert d.order == "newest-first"
    assert d.verdict is Verdict.HEALTHY
    assert [(p.address, p.state) for p in d.peers] == [("2.2.2.2", PeerState.UP)]
    assert d.findings[0].id == "tunnel-established"


@pytest.mark.parametrize("established_first", [True, False])
def test_same_notify_is_phase_one_or_two_by_what_came_before(established_first: bool) -> None:
    """Chronological lines: the notify after ISAKMP-SA established is phase 2, before it phase 1."""
    lines = [
        "<134>1 1700000000.1 MX events VPN: initiate new phase 1 negotiation: 10.0.0.1[500]<=>10.0.0.2[500]",
    ]
    est = "<134>1 1700000001.1 MX events Site-to-site VPN: ISAKMP-SA established 10.0.0.1[500]-10.0.0.2[500] spi:ab:cd"
    note = f"<134>1 1700000002.1 MX events Site-to-site VPN: {NOTIFY}"
    lines += [est, note] if established_first else [note]
    d = diagnose_text("\n".join(lines))
    wanted = "phase2-proposal-mismatch" if established_first else "phase1-proposal-mismatch"
    finding = next(f for f in d.findings if f.id == wanted)
    assert finding.phase == (2 if established_first else 1)
    assert finding.peer == "10.0.0.2"


def test_order_matters_for_the_phase_when_lines_are_reversed() -> None:
    """The same three Dashboard rows reversed: the timestamps, not the input order, decide."""
    rows = [
        "May 8 07:23:50 VPN msg: initiate new phase 1 negotiation: 10.0.0.1[500]<=>10.0.0.2[500]",
        "May 8 07:23:51 VPN msg: ISAKMP-SA established 10.0.0.1[500]-10.0.0.2[500] spi:ab:cd",
        f"May 8 07:23:52 VPN msg: {NOTIFY}",
    ]
    chrono = diagnose_text("\n".join(rows))
    newest = diagnose_text("\n".join(reversed(rows)))
    assert chrono.order == "chronological" and newest.order == "newest-first"
    assert [f.id for f in chrono.findings] == [f.id for f in newest.findings]
    assert "phase2-proposal-mismatch" in [f.id for f in newest.findings]


def test_evidence_cites_input_line_numbers_and_text() -> None:
    text = "hello team, here is the log:\n```\n" + HEALTHY_NEWEST_FIRST + "```\nthanks"
    d = diagnose_text(text)
    lines = text.splitlines()
    for finding in d.findings:
        for ev in finding.evidence:
            assert lines[ev.line - 1].strip() == ev.text


def test_stream_bytes_lines_and_text_agree() -> None:
    data = HEALTHY_NEWEST_FIRST.encode()
    results = [
        diagnose_text(HEALTHY_NEWEST_FIRST),
        diagnose_bytes(data),
        diagnose_stream(io.BytesIO(data), chunk_size=17),
        diagnose_lines(HEALTHY_NEWEST_FIRST.splitlines()),
    ]
    dumps = [r.model_dump(mode="json") for r in results]
    assert all(d == dumps[0] for d in dumps[1:])


def test_api_events_cite_the_json_line_of_each_message() -> None:
    doc = {
        "message": None,
        "events": [
            {"occurredAt": "2025-05-08T10:00:55Z", "eventData": {"msg": NOTIFY}},
            {"occurredAt": "2025-05-08T10:00:54Z", "eventData": {
                "msg": "initiate new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]"}},
        ],
    }
    text = json.dumps(doc, indent=2)
    d = diagnose_text(text)
    assert d.order == "newest-first"
    finding = next(f for f in d.findings if f.id == "phase1-proposal-mismatch")
    assert finding.peer == "203.0.113.10"
    lines = text.splitlines()
    for ev in finding.evidence:
        assert "NO-PROPOSAL-CHOSEN" in lines[ev.line - 1] or "initiate" in lines[ev.line - 1]
    assert diagnose_events(doc).model_dump() == diagnose_events(doc["events"]).model_dump()


def test_two_peers_get_their_own_states() -> None:
    text = "\n".join([
        "<134>1 1700000000.1 MX events VPN: initiate new phase 1 negotiation: 10.0.0.1[500]<=>10.0.0.9[500]",
        "<134>1 1700000001.1 MX events Site-to-site VPN: ISAKMP-SA established 10.0.0.1[500]-10.0.0.9[500] spi:ab:cd",
        "<134>1 1700000001.5 MX events Site-to-site VPN: IPsec-SA established: ESP/Tunnel 10.0.0.1[500]->10.0.0.9[500] "
        "spi=1(0x1)",
        "<134>1 1700000002.1 MX events VPN: initiate new phase 1 negotiation: 10.0.0.1[500]<=>10.0.0.2[500]",
        "<134>1 1700000032.1 MX events Site-to-site VPN: phase1 negotiation failed due to time up "
        "7a5bc0d3e1f29a44:0000000000000000",
    ])
    d = diagnose_text(text)
    states = {p.address: p.state for p in d.peers}
    assert states == {"10.0.0.9": PeerState.UP, "10.0.0.2": PeerState.DOWN}
    unresponsive = next(f for f in d.findings if f.id == "peer-unresponsive")
    assert unresponsive.peer == "10.0.0.2"
    assert d.verdict is Verdict.FAILING


def test_charon_connection_is_tied_to_its_address() -> None:
    text = "\n".join([
        "VPN: <remote-peer-2|12> IKE_SA remote-peer-2[12] established between "
        "192.168.13.5[192.168.13.5]...192.168.13.2[192.168.13.2]",
        "VPN: <remote-peer-2|12> deleting IKE_SA remote-peer-2[12] between "
        "192.168.13.5[192.168.13.5]...192.168.13.2[192.168.13.2]",
    ])
    d = diagnose_text(text)
    assert [p.connections for p in d.peers] == [["remote-peer-2"]]
    finding = next(f for f in d.findings if f.id == "phase2-not-established")
    assert finding.peer == "192.168.13.2" and finding.basis.value == "inferred"


def test_regular_drops_report_the_measured_interval() -> None:
    rows = []
    for i in range(4):
        t = 1_700_000_000 + i * 3600
        rows.append(f"<134>1 {t}.5 MX events VPN: <remote-peer-1|{i}> IKE_SA remote-peer-1[{i}] established "
                    f"between 198.51.100.2[198.51.100.2]...203.0.113.10[203.0.113.10]")
        rows.append(f"<134>1 {t}.6 MX events VPN: <remote-peer-1|{i}> CHILD_SA net-1{{{i}}} established with SPIs "
                    f"c1a3e5f7(inbound) c2b4d6f8(outbound) and TS 10.0.0.0/24 === 10.1.0.0/24")
    d = diagnose_text("\n".join(rows))
    finding = next(f for f in d.findings if f.id == "lifetime-mismatch")
    assert finding.facts["interval_s"] == "3600"
    assert any("3,600" in h.text for h in finding.hints)


def test_japanese_output_and_symptom_sentence() -> None:
    d = diagnose_text("VPNが数時間ごとに切断されます", lang="ja")
    assert d.lang == "ja"
    finding = next(f for f in d.findings if f.id == "lifetime-mismatch")
    assert finding.basis.value == "symptom"
    assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in finding.title)


def test_nothing_recognised_says_how_to_copy_the_log() -> None:
    d = diagnose_text("the printer on floor 3 is jammed again")
    assert d.verdict is Verdict.UNKNOWN and not d.findings
    assert any("Event log" in note for note in d.notes)


def test_parse_line_peels_every_wrapper() -> None:
    p = parse_line("May 9 12:30:12      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: May 9 19:30:12 10[IKE] "
                   "<remote-peer-2|1400> inbound CHILD_SA net-2{2048} established with SPIs c075fb18(inbound) "
                   "ca176942(outbound) and TS 172.16.0.0/24 === 172.17.0.0/24")
    assert p.body.startswith("inbound CHILD_SA net-2{2048}")
    assert (p.conn, p.uid, p.shape) == ("remote-peer-2", "1400", "dashboard")
    asa = parse_line("Jun  3 10:12:55 203.0.113.45 %ASA-5-713904: IP = 198.51.100.2, "
                     "All SA proposals found unacceptable")
    assert (asa.body, asa.addr, asa.shape) == ("All SA proposals found unacceptable", "198.51.100.2", "asa")


def test_segment_order_defaults() -> None:
    d = diagnose_text("msg: phase1 negotiation failed.\nmsg: no suitable proposal found.")
    assert d.findings[0].id == "phase1-proposal-mismatch"
    assert segment_order([]) == "unknown"


@pytest.mark.parametrize("line", [
    "05:29:27 14[IKE] <lab|1> received no-proposal-chosen notify error",
    "Jan 1 06:50:05 VPN msg: notification no proposal chosen received in unencrypted informational exchange",
    "Jan 1 06:50:05 VPN msg: Notification No_Proposal-Chosen Received In Informational Exchange",
    "Jan 1 06:50:05 VPN msg: NO SUITABLE PROPOSAL FOUND",
])
def test_notify_names_and_case_variants_are_tolerated(line: str) -> None:
    assert ids(line) == ["phase1-proposal-mismatch"]


def _mx_charon(t: int, uid: int, what: str) -> str:
    """An MX 15.12+ syslog row (the shape of the Meraki syslog documentation's samples)."""
    text = (f"IKE_SA remote-peer-2[{uid}] established between" if what == "up"
            else f"deleting IKE_SA remote-peer-2[{uid}] between")
    return (f"<134>1 {t}.1 MX84 events Site-to-site VPN: <remote-peer-2|{uid}> {text} "
            "192.168.13.5[192.168.13.5]...203.0.113.2[203.0.113.2]")


def test_an_ike_sa_replaced_every_eight_hours_is_a_healthy_tunnel_with_a_rekey_note() -> None:
    start = 1_700_000_000
    lines = [
        _mx_charon(start, 1, "up"),
        _mx_charon(start + 28_790, 1, "down"), _mx_charon(start + 28_793, 2, "up"),
        _mx_charon(start + 57_580, 2, "down"), _mx_charon(start + 57_584, 3, "up"),
    ]
    diagnosis = diagnose_text("\n".join(lines))
    assert diagnosis.verdict.value == "healthy"
    assert [f.id for f in diagnosis.findings] == ["tunnel-established"]
    assert any("8-hour" in note for note in diagnosis.notes)


def test_an_ike_sa_that_goes_down_for_minutes_is_not_a_rekey() -> None:
    start = 1_700_000_000
    lines = [_mx_charon(start, 1, "up"), _mx_charon(start + 28_790, 1, "down"), _mx_charon(start + 29_400, 2, "up")]
    diagnosis = diagnose_text("\n".join(lines))
    assert not any("8-hour" in note for note in diagnosis.notes)
    assert diagnosis.verdict.value != "healthy"


# strongSwan's own log of a retried IKE_SA_INIT, as quoted in a public IKEv2 implementation's
# source (public addresses swapped for documentation ones, a few vendor-ID lines left out): the
# peer asked for MODP_2048, the retry with it was accepted and authentication succeeded.
GROUP_RETRY = """parsed IKE_SA_INIT response 0 [ N(INVAL_KE) ]
peer didn't accept DH group CURVE_25519, it requested MODP_2048
initiating IKE_SA mpesa[9] to 203.0.113.132
generating IKE_SA_INIT request 0 [ SA KE No N(NATD_S_IP) N(NATD_D_IP) N(FRAG_SUP) N(HASH_ALG) N(REDIR_SUP) ]
sending packet: from 198.51.100.126[500] to 203.0.113.132[500] (1128 bytes)
received packet: from 203.0.113.132[500] to 198.51.100.126[500] (619 bytes)
parsed IKE_SA_INIT response 0 [ SA KE No V V N(NATD_S_IP) N(NATD_D_IP) CERTREQ N(FRAG_SUP) V ]
selected proposal: IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048
authentication of '198.51.100.126' (myself) with pre-shared key
establishing CHILD_SA mpesa{5}
generating IKE_AUTH request 1 [ IDi N(INIT_CONTACT) CERTREQ IDr AUTH SA TSi TSr N(MOBIKE_SUP) ]
parsed IKE_AUTH response 1 [ V IDr AUTH SA TSi TSr N(ESP_TFC_PAD_N) N(NON_FIRST_FRAG) N(MOBIKE_SUP) ]
authentication of '203.0.113.132' with pre-shared key successful"""


def test_a_group_retry_after_invalid_ke_that_comes_up_is_not_a_proposal_mismatch() -> None:
    diagnosis = diagnose_text(GROUP_RETRY)
    assert "phase1-proposal-mismatch" not in [f.id for f in diagnosis.findings]
    refused = diagnose_text(GROUP_RETRY.split("\ninitiating", 1)[0])
    assert "phase1-proposal-mismatch" in [f.id for f in refused.findings], "a refusal with no retry still counts"


def test_a_row_cut_off_mid_phrase_gets_a_hint_instead_of_nothing() -> None:
    row = "Jul 22 10:15:04      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: HASH mism…"
    diagnosis = diagnose_text(row)
    assert diagnosis.findings == []
    assert "Line 1 looks cut off (“HASH mism”)" in diagnosis.notes[0]
    assert "hash mismatched" in diagnosis.notes[0] and "Pre-shared key mismatch" in diagnosis.notes[0]
    assert "行目は途中で切れている" in diagnose_text(row, "ja").notes[0]
    assert not any("cut off" in note for note in diagnose_text("hello there, the tunnel is down").notes)


def test_a_measured_interval_reads_in_the_answer_language() -> None:
    hint = next(h.text for f in diagnose_text("VPNが2時間ごとに切断されます", lang="ja").findings for h in f.hints
                if "実測" in h.text)
    assert "2時間（7,200秒）ごとに" in hint and " h " not in hint
    english = next(h.text for f in diagnose_text("the VPN drops every 2 hours").findings for h in f.hints
                   if "Measured" in h.text)
    assert "every 2 h (7,200 s)" in english
