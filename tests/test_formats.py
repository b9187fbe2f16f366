"""The catalog's line wrappers (knowledge/catalog/formats.yaml): each reads the real line it cites."""

from __future__ import annotations

import pytest

from knowledge import diagnose_text
from knowledge.formats import first_match, wrappers
from knowledge.parse import parse_line

ALL = [w for stage in ("line", "after-time", "after-program", "after-tag") for w in wrappers(stage)]


@pytest.mark.parametrize("wrapper", ALL, ids=lambda w: w.spec.id)
def test_each_wrapper_reads_its_example(wrapper) -> None:
    found = first_match(wrapper.spec.stage, wrapper.spec.example)
    assert found is not None and found[0] is wrapper, "an earlier wrapper of the stage takes the example"
    assert found[1].end() > 0


@pytest.mark.parametrize(
    ("line", "body", "shape"),
    [
        ('104 "westnet-eastnet" #1: STATE_MAIN_I1: initiate', "STATE_MAIN_I1: initiate", "pluto"),
        ("2006-07-22 08:19:43: ERROR: rejected hashtype: DB(prop#1:trns#1):Peer (prop#1:trns#4) = SHA:MD5",
         "rejected hashtype: DB(prop#1:trns#1):Peer (prop#1:trns#4) = SHA:MD5", "racoon"),
        ("| events (post MX 15.12) | Establishing Phase 2 (Child_SA) tunnel | VPN: <remote-peer-2\\|12> CHILD_SA "
         "net-2{1478} established with SPIs cd94e190(inbound) c2b06071(outbound) and TS 192.168.12.0/24 === "
         "192.168.13.0/24 | ",
         "CHILD_SA net-2{1478} established with SPIs cd94e190(inbound) c2b06071(outbound) and TS 192.168.12.0/24 "
         "=== 192.168.13.0/24", "syslog"),
    ],
)
def test_wrapped_lines_give_the_daemon_message(line: str, body: str, shape: str) -> None:
    parsed = parse_line(line)
    assert (parsed.body, parsed.shape) == (body, shape)


def test_a_line_no_wrapper_starts_pays_for_no_regex() -> None:
    assert first_match("line", "Jan  1 06:50:05 VPN msg: anything") is None


# The Dashboard event log's CSV download as the issue describes it: quoted cells, doubled quotes,
# month-first dates and HTML entities in the message cell.
CSV_ROWS = [
    '"10/20/2022 11:26","Tokyo MX","Non-Meraki VPN negotiation",'
    '"msg: phase1 negotiation failed due to time up. 4ee5cbd332e816a7:96546bbd6ce8c535"',
    '"10/20/2022 11:25","Tokyo MX","Non-Meraki VPN negotiation","msg: HASH mismatched"',
    '"10/20/2022 11:24","Tokyo MX","Non-Meraki VPN ""negotiation""",'
    '"msg: respond new phase 1 negotiation: 198.51.100.2[500]&lt;=&gt;203.0.113.10[500]"',
]


def test_a_dashboard_csv_export_reads_like_the_event_log() -> None:
    parsed = [parse_line(row) for row in CSV_ROWS]
    assert [p.shape for p in parsed] == ["dashboard"] * 3
    assert parsed[2].body == "respond new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]"
    assert parsed[0].ts is not None and parsed[0].ts - parsed[2].ts == 120
    diagnosis = diagnose_text("\n".join(CSV_ROWS))
    assert [f.id for f in diagnosis.findings] == ["psk-mismatch"]
    assert diagnosis.order == "newest-first"


def test_us_dates_with_seconds_and_pm() -> None:
    early = parse_line('"10/20/2022 1:24:05 PM","MX","msg: HASH mismatched"')
    late = parse_line('"10/20/2022 13:24:06","MX","msg: HASH mismatched"')
    assert late.ts - early.ts == 1


def test_a_json_line_of_an_aws_tunnel_log_reads_its_details_and_time() -> None:
    """AWS Site-to-Site VPN tunnel logs: one JSON object a line, message in `details` (AWS docs, log contents)."""
    line = ('{"event_timestamp": 1671140000, "details": "Peer is not responsive - Declaring peer dead", '
            '"dpd_enabled": true, "nat_t_detected": false, "ike_phase1_state": "down", "ike_phase2_state": "down"}')
    parsed = parse_line(line)
    assert (parsed.body, parsed.ts) == ("Peer is not responsive - Declaring peer dead", 1671140000.0)
    assert [f.id for f in diagnose_text(line).findings] == ["dead-peer"]
    assert parse_line('{"foo": "bar"}').body == '{"foo": "bar"}'


# FortiGate's IKE debug output as a public GCP HA VPN troubleshooting guide quotes it (addresses masked there).
FORTIGATE_DEBUG = """ike 0:gcp-havpn-tunnel1: sent IKE msg (SA_INIT): x.x.x.x:500->y.y.y.y:500
ike 0:gcp-havpn-tunnel1: recv IKE msg (SA_INIT): y.y.y.y:500->x.x.x.x:500
ike 0:gcp-havpn-tunnel1: proposal did not match
ike 0:gcp-havpn-tunnel1: no SA proposal chosen"""


def test_fortigate_ike_debug_reads_as_a_proposal_mismatch() -> None:
    parsed = parse_line("ike 0:VPN_AWS:44: peer responded with error: NO_PROPOSAL_CHOSEN")
    assert (parsed.body, parsed.conn, parsed.shape) == (
        "peer responded with error: NO_PROPOSAL_CHOSEN", "VPN_AWS", "fortigate")
    diagnosis = diagnose_text(FORTIGATE_DEBUG)
    assert [f.id for f in diagnosis.findings] == ["phase1-proposal-mismatch"]
    assert diagnosis.dialects == ["fortigate"]
