"""Turn one run's charon logs into the three texts a user would hand VPN Doctor.

* peer views: a daemon's detailed log, verbatim, from the moment the lab initiated
  to the moment it began stopping the daemons (start-up and shutdown are lab noise);
* the MX Dashboard view: the MX-role daemon's audit (level 0) lines of that same
  window, rendered like the "Non-Meraki VPN negotiation" rows of an MX on 15.12+:
  newest first, thread/group prefix dropped, `<conn|id>` kept, SPIs spelled
  `xxxxxxxx(inbound)` / `yyyyyyyy(outbound)` as the MX prints them.
"""

from __future__ import annotations

import re

# `Nov 27 07:40:01 09[IKE0] <remote-peer-1|1> message` (time_format "%b %e %H:%M:%S", log_level = yes)
LEVELLED_LINE = re.compile(
    r"^(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) "
    r"(?P<thread>\d+)\[(?P<group>[A-Z]+)(?P<level>-?\d)\] (?P<body>.*)$"
)
IKE_CONTEXT = re.compile(r"^<[^>]+> ")
SPI_IN = re.compile(r"\b([0-9a-f]{8})_i\b")
SPI_OUT = re.compile(r"\b([0-9a-f]{8})_o\b")

DASHBOARD_GAP = "      "
DASHBOARD_SOURCE = "Non-Meraki VPN"
DASHBOARD_EVENT = "Non-Meraki VPN negotiation"


def meraki_spis(body: str) -> str:
    """charon's `cd94e190_i c2b06071_o` as the MX prints it: `cd94e190(inbound) c2b06071(outbound)`."""
    return SPI_OUT.sub(r"\1(outbound)", SPI_IN.sub(r"\1(inbound)", body))


def audit_rows(levelled_log: str) -> list[tuple[str, str]]:
    """(Dashboard time, message) for each level-0 line bound to an IKE_SA, in log order."""
    rows: list[tuple[str, str]] = []
    for line in levelled_log.splitlines():
        m = LEVELLED_LINE.match(line)
        if m is None or m["level"] != "0" or not IKE_CONTEXT.match(m["body"]):
            continue
        rows.append((f"{m['month']} {int(m['day'])} {m['time']}", meraki_spis(m["body"])))
    return rows


def mx_dashboard(levelled_log: str) -> str:
    """The MX-role daemon's audit lines as Dashboard event-log rows, newest first."""
    rows = [
        f"{when}{DASHBOARD_GAP}{DASHBOARD_SOURCE}  {DASHBOARD_EVENT}  msg: {body}"
        for when, body in audit_rows(levelled_log)
    ]
    return "".join(f"{row}\n" for row in reversed(rows))
