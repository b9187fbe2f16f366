"""VPN Doctor's diagnosis library: pure Python, no network, no Slack.

Callers use `diagnose_text` / `diagnose_lines` / `diagnose_stream` for logs,
`diagnose_events` for Dashboard API events and `check_peer` for a Dashboard peer
definition; all return a `Diagnosis`.
"""

from knowledge.config_check import check_peer
from knowledge.engine import diagnose_bytes, diagnose_events, diagnose_lines, diagnose_stream, diagnose_text
from knowledge.models import Diagnosis, Finding
from knowledge.remote_params import RemoteParams, RemoteParamsError, parse_remote

__all__ = [
    "Diagnosis",
    "Finding",
    "RemoteParams",
    "RemoteParamsError",
    "check_peer",
    "diagnose_bytes",
    "diagnose_events",
    "diagnose_lines",
    "diagnose_stream",
    "diagnose_text",
    "parse_remote",
]
