"""One JSON log line per live command: who, where, what, which peer, what was found, at what cost.

Written to the `bot.audit` logger so operators can route it apart from the service log.
Only identifiers and counts go in: no query text beyond the peer asked for, no keys, no PSKs.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

audit_log = logging.getLogger("bot.audit")
MAX_QUERY_CHARS = 80


@dataclass
class Audit:
    source: str
    command: str
    user: str | None
    channel: str | None
    demo: bool = False
    peer: str | None = None
    finding_ids: list[str] = field(default_factory=list)
    verdict: str | None = None
    dashboard_calls: int = 0
    outcome: str = "answered"
    started: float = field(default_factory=time.monotonic)

    def ask(self, peer: str) -> None:
        self.peer = peer[:MAX_QUERY_CHARS]

    def write(self, outcome: str | None = None) -> dict[str, object]:
        """Log the record once the command is answered; returns what was logged (tests read it)."""
        if outcome is not None:
            self.outcome = outcome
        record: dict[str, object] = {
            "event": "vpn_live_command",
            "source": self.source,
            "command": self.command,
            "user": self.user,
            "channel": self.channel,
            "peer": self.peer,
            "finding_ids": self.finding_ids,
            "verdict": self.verdict,
            "dashboard_calls": self.dashboard_calls,
            "duration_ms": round((time.monotonic() - self.started) * 1000),
            "outcome": self.outcome,
            "demo": self.demo,
        }
        audit_log.info(json.dumps(record, ensure_ascii=False, sort_keys=True))
        return record
