"""Lines daemons print for more than one cause, status listings, and tunnels that work despite a fault.

The inputs are lines as the daemons print them, most taken from the real-world corpus
(tests/fixtures/realworld) with the source named beside them.
"""

from __future__ import annotations

from knowledge import diagnose_text
from knowledge.models import Severity, Verdict

# libreswan as initiator, IKEv2 (xelerance/Openswan testing, ikev2-strongswan-noconn)
V2_NO_PROPOSAL = '214 "westnet--eastnet-ikev2" #1: STATE_PARENT_I1: NO_PROPOSAL_CHOSEN\n'
# strongSwan as initiator, with the proposals both ends offered (strongswan#51 in the corpus)
SETTLED = (
    "05[IKE] <con|1> received NO_PROPOSAL_CHOSEN notify error\n"
    "05[CFG] <con|1> received proposals: IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048\n"
    "05[CFG] <con|1> configured proposals: IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024\n"
)


def _by_id(text: str) -> dict[str, object]:
    return {f.id: f for f in diagnose_text(text).findings}


def test_an_ikev2_refusal_offers_the_unconfigured_peer_as_a_less_likely_cause() -> None:
    found = _by_id(V2_NO_PROPOSAL)
    assert found["phase1-proposal-mismatch"].severity is Severity.ERROR
    alternative = found["peer-not-configured"]
    assert alternative.severity is Severity.WARNING
    assert alternative.confidence < found["phase1-proposal-mismatch"].confidence
    assert alternative.facts["alternative_to"] == "phase1-proposal-mismatch"
    assert any("less likely" in h.text for h in alternative.hints)


def test_lines_that_show_the_proposals_settle_it() -> None:
    found = _by_id(SETTLED)
    assert "phase1-proposal-mismatch" in found
    assert "peer-not-configured" not in found


def test_an_ikev1_refusal_offers_no_alternative() -> None:
    line = ("Jul 22 10:15:34      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: "
            "notification NO-PROPOSAL-CHOSEN received in informational exchange.\n")
    assert "peer-not-configured" not in _by_id(line)


def test_a_status_listing_is_not_a_phase_2_that_never_came() -> None:
    # swanctl --list-sas of a working host-to-host tunnel (strongswan#2086)
    listing = (
        "host-host: #2, ESTABLISHED, IKEv2, 5ec3b2110cf79245_i* 7cfb30548a970e64_r\n"
        "  udpTunnel: #5, reqid 1, INSTALLED, TUNNEL, ESP:AES_GCM_16-256\n"
        "bypassConn: #1, ESTABLISHED, IKEv2, 74a6c598bb862706_i* aa84409eaf14cd33_r\n"
    )
    d = diagnose_text(listing)
    assert d.verdict is Verdict.HEALTHY
    assert "phase2-not-established" not in {f.id for f in d.findings}


def test_a_listing_that_shows_phase_1_stuck_says_so() -> None:
    # ipsec auto --status on an initiator the peer never answers (a blog post in the corpus)
    row = ('000 #1: "AWSVPN":500 STATE_MAIN_I1 (sent MI1, expecting MR1); EVENT_RETRANSMIT in 8s; '
           "nodpd; idle; import:admin initiate\n")
    assert "peer-unresponsive" in _by_id(row)


def test_aggressive_mode_that_came_up_is_a_warning() -> None:
    # swanctl --initiate of an aggressive-mode PSK tunnel (libreswan interop test)
    text = (
        "[IKE] initiating Aggressive Mode IKE_SA psk[1] to 192.1.2.23\n"
        "[IKE] IKE_SA psk[1] established between 192.1.2.45[vpnclient]...192.1.2.23[vpnserver]\n"
        "[IKE] CHILD_SA psk{1} established with SPIs SPISPI_i SPISPI_o and TS 192.1.2.45/32 === 192.1.2.23/32\n"
    )
    d = diagnose_text(text)
    assert d.verdict is Verdict.DEGRADED
    assert {f.id: f.severity for f in d.findings}["aggressive-mode"] is Severity.WARNING


def test_authentication_failed_under_certificates_is_a_certificate_problem() -> None:
    text = (
        '"west" #1: sent IKE_AUTH request to 192.1.2.23:UDP/500 with digital-signature RSASSA-PSS with '
        "SHA2_512 and IPV4_ADDR '192.1.2.45'; Child SA #2 {ESP <0xESPESP} [192.0.1.0/24===192.0.2.0/24]\n"
        '"west" #1: IKE SA authentication request rejected by peer: AUTHENTICATION_FAILED\n'
    )
    found = _by_id(text)
    assert "certificate-auth" in found
    assert "psk-mismatch" not in found


def test_a_responder_waiting_for_the_second_message_is_a_cause_only_if_nothing_follows() -> None:
    waiting = (
        'Feb 27 04:30:58 ip-172-31-26-228 pluto[3455]: "l2tp-psk"[2] 203.0.113.103 #21: '
        "STATE_MAIN_R1: sent MR1, expecting MI2\n"
    )
    assert "peer-unresponsive" in _by_id(waiting * 3)
    answered = waiting + (
        'Feb 27 04:30:59 ip-172-31-26-228 pluto[3455]: "l2tp-psk"[2] 203.0.113.103 #21: '
        "STATE_MAIN_R3: sent MR3, ISAKMP SA established {auth=PRESHARED_KEY cipher=aes_256 integ=sha group=MODP2048}\n"
    )
    assert "peer-unresponsive" not in _by_id(answered)


def test_errors_on_a_tunnel_that_came_back_degrade_rather_than_fail() -> None:
    # DPD declared the peer dead, then the tunnel was negotiated again (a racoon doc in the corpus)
    text = (
        "2019-01-01 10:00:00: INFO: DPD: remote (ISAKMP-SA spi=1a2b3c4d5e6f7a8b:9c0d1e2f3a4b5c6d) seems to be dead.\n"
        "2019-01-01 10:00:30: INFO: IPsec-SA established: ESP/Tunnel 203.0.113.5[500]->198.51.100.7[500] "
        "spi=12345(0x3039)\n"
    )
    d = diagnose_text(text)
    assert "dead-peer" in {f.id for f in d.findings}
    assert d.verdict is Verdict.DEGRADED
