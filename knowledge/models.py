"""The diagnosis object: what every front end (CLI, shell, Slack, alerts) renders.

These models are the contract between the engine and its callers; field names are
part of the JSON output (`vpn-doctor diagnose --format json`) and must only grow.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["en", "ja"]
LANGS: tuple[Lang, ...] = ("en", "ja")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Basis(StrEnum):
    """Whether a finding rests on a line that names the problem or on a pattern of lines."""

    OBSERVED = "observed"
    INFERRED = "inferred"
    CONFIG = "config"
    SYMPTOM = "symptom"


class PeerState(StrEnum):
    UP = "up"
    DOWN = "down"
    FLAPPING = "flapping"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"
    DEGRADED = "degraded"
    UNKNOWN = "unknown"


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int = Field(description="1-based line number in the input")
    text: str


class Hint(BaseModel):
    vendor: str
    text: str


class Finding(BaseModel):
    id: str
    severity: Severity
    phase: int | None = None
    peer: str | None = None
    title: str
    cause: str
    steps: list[str]
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)
    basis: Basis
    hints: list[Hint] = Field(default_factory=list)
    facts: dict[str, str] = Field(
        default_factory=dict, description="measured values the text refers to (interval, supernet, …)"
    )


class PeerReport(BaseModel):
    address: str
    state: PeerState
    connections: list[str] = Field(default_factory=list)
    ike_version: int | None = None
    dialect: str | None = None
    last_seen: str | None = None


class Diagnosis(BaseModel):
    verdict: Verdict
    summary: str = Field(description="one sentence in the requested language")
    lang: Lang = "en"
    peers: list[PeerReport] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    lines_read: int = 0
    vpn_lines: int = 0
    dialects: list[str] = Field(default_factory=list)
    order: Literal["newest-first", "chronological", "unknown"] = "unknown"
    notes: list[str] = Field(default_factory=list, description="what the reader should know about the input")

    @property
    def finding_ids(self) -> list[str]:
        return [f.id for f in self.findings]

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]
