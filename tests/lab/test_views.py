"""The Dashboard rendering of charon's levelled log (views.py); needs no root.

The input lines are the shape charon writes with `log_level = yes` and the lab's
time format (copied from a lab run of the lifetime-v2 scenario, shortened).
"""

from __future__ import annotations

from .views import audit_rows, meraki_spis, mx_dashboard

LEVELLED = """\
Nov  7 07:38:06 11[CFG1] vici initiate CHILD_SA 'net-1'
Nov  7 07:38:06 16[IKE0] <remote-peer-1|1> initiating IKE_SA remote-peer-1[1] to 10.99.0.2
Nov  7 07:38:06 16[IKE1] <remote-peer-1|1> remote host is behind NAT
Nov  7 07:38:06 00[DMN0] Starting IKE charon daemon (strongSwan 5.9.8, Linux 6.18.44, x86_64)
Nov  7 07:38:06 16[IKE0] <remote-peer-1|1> CHILD_SA net-1{1} established with SPIs 6fb42da8_i 77718ce9_o and \
TS 192.168.10.0/24 === 192.168.20.0/24
Nov  7 07:38:14 13[IKE0] <remote-peer-1|1> closing CHILD_SA net-1{1} with SPIs 6fb42da8_i (0 bytes) \
77718ce9_o (0 bytes) and TS 192.168.10.0/24 === 192.168.20.0/24
"""


def test_spis_take_the_mx_spelling() -> None:
    assert meraki_spis("SPIs cd94e190_i c2b06071_o and") == "SPIs cd94e190(inbound) c2b06071(outbound) and"
    assert (
        meraki_spis("SPIs 6fb42da8_i (0 bytes) 77718ce9_o (12 bytes) and")
        == "SPIs 6fb42da8(inbound) (0 bytes) 77718ce9(outbound) (12 bytes) and"
    )
    assert meraki_spis("net-1{1} 192.168.10.0/24") == "net-1{1} 192.168.10.0/24"


def test_only_audit_lines_of_an_ike_sa_are_kept() -> None:
    rows = audit_rows(LEVELLED)
    assert [when for when, _ in rows] == ["Nov 7 07:38:06", "Nov 7 07:38:06", "Nov 7 07:38:14"]
    assert [body.split("> ", 1)[1].split(" ", 2)[:2] for _, body in rows] == [
        ["initiating", "IKE_SA"],
        ["CHILD_SA", "net-1{1}"],
        ["closing", "CHILD_SA"],
    ]


def test_dashboard_rows_are_newest_first_without_thread_prefix() -> None:
    rows = mx_dashboard(LEVELLED).splitlines()
    assert rows[0] == (
        "Nov 7 07:38:14      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: <remote-peer-1|1> closing CHILD_SA "
        "net-1{1} with SPIs 6fb42da8(inbound) (0 bytes) 77718ce9(outbound) (0 bytes) and TS 192.168.10.0/24 === "
        "192.168.20.0/24"
    )
    assert rows[-1].endswith("msg: <remote-peer-1|1> initiating IKE_SA remote-peer-1[1] to 10.99.0.2")
    assert len(rows) == 3


def test_no_audit_line_gives_an_empty_view() -> None:
    assert mx_dashboard("Nov  7 07:38:06 16[IKE1] <remote-peer-1|1> remote host is behind NAT\n") == ""
