"""Pydantic schema of the catalog files under `knowledge/catalog/`.

The catalog is data: finding texts (English and Japanese), log signatures and the
notify map. Loading validates every file, so a typo fails at start-up and in tests,
never in front of a user.
"""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge.models import Basis, Severity

EventKind = Literal[
    "p1_start",  # a phase-1 / IKE_SA negotiation begins
    "p1_up",  # ISAKMP-SA / IKE_SA established
    "p1_down",  # ISAKMP-SA / IKE_SA deleted, expired or purged
    "p2_start",  # quick mode / CHILD_SA negotiation begins
    "p2_up",  # IPsec-SA / CHILD_SA established
    "p2_down",  # IPsec-SA / CHILD_SA closed or expired
    "notify",  # the peer sent an error notify; meaning depends on the phase reached
    "fail",  # a line that names a cause
    "response",  # proof that the peer answered (NAT-D, parsed response, …)
    "nat",  # NAT detected / floated to UDP 4500
    "retransmit",  # a request was sent again
    "giveup",  # retransmits exhausted or negotiation timed out
    "dpd",  # dead peer detection declared the peer dead
    "symptom",  # a sentence describing what the user sees
    "detail",  # supports a finding raised by another line of the same peer; raises nothing alone
    "info",  # a VPN line that carries no diagnosis by itself
]

Dialect = Literal[
    "racoon", "charon", "libreswan", "asa", "cloud", "text",
    "f5", "paloalto", "fortigate", "watchguard", "srx", "sonicwall", "checkpoint", "clavister",
    "meraki", "yamaha", "zyxel",
]

Tag = Literal[
    "heard",  # the line proves the peer answered or initiated
    "aggressive",  # the negotiation uses aggressive mode
    "rekey",  # part of a rekey, not a new tunnel
    "ikev1",
    "ikev2",
    "partial",  # recognised by a word it carries, not by the whole line: the answer says so
    "certificate",  # the negotiation authenticates with certificates, not a pre-shared key
    "group-retry",  # the peer names the DH group it wants; a retry with it may well agree
    "caution",  # a risk on a tunnel that carries on: its finding is a warning, not a failure
    "waiting",  # the daemon waits for the peer's next message: a cause only if nothing follows
    "snapshot",  # a state listing: what is up now, not an exchange that happened in these lines
]

# Shorthands usable in signature patterns as %NAME%; kept linear (no nested quantifiers).
PATTERN_MACROS: dict[str, str] = {
    # An IPv4 or IPv6 address, or the placeholder people paste instead of one (x.x.x.x, a.b.c.d,
    # 203.0.xxx.xxx, SERVER_IP, <CLIENT IP ADDRESS>, -snip-): it still names the peer, as a label.
    "ADDR": r"(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}"
    r"|(?:\d{1,3}|[a-z]{1,3}|\*{1,3})(?:\.(?:\d{1,3}|[a-z]{1,3}|\*{1,3})){3}(?!\w|\.\w)"
    r"|(?-i:[A-Z][A-Z0-9]{0,15}_IP(?:_ADDR(?:ESS)?)?)|<[a-z][a-z_-]{0,20}(?: [a-z_-]{1,15}){0,4}>"
    r"|\[(?:[a-z]{1,12}[_-])?(?:ip|addr|address|snip|redacted)\]|-snip-"
    r"|(?-i:\{[A-Z][A-Z0-9]{0,15}(?: [A-Z0-9]{1,15}){0,4}\}))",
    "PORT": r"\[\d{1,5}\]",
    "IKEID": r"\[[^\]]{0,255}\]",
    "NOTIFY": r"[a-z0-9_ -]{2,60}?",
}


def expand_macros(pattern: str) -> str:
    for name, body in PATTERN_MACROS.items():
        pattern = pattern.replace(f"%{name}%", body)
    return pattern


def placeholders(text: str) -> set[str]:
    """The facts a text uses; `{n|one|many}` (a plural choice) uses `n`."""
    return {name.split("|", 1)[0] for _, name, _, _ in string.Formatter().parse(text) if name}


class LocalText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3)
    cause: str = Field(min_length=10)
    steps: list[str] = Field(min_length=1)


class VendorHint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vendor: Literal["azure", "gcp", "aws", "asa", "strongswan", "any"]
    en: str = Field(min_length=10)
    ja: str = Field(min_length=5)
    needs: list[str] = Field(default_factory=list, description="facts that must be known to show it")


class FindingEntry(BaseModel):
    """One finding as the user reads it, in both languages."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    severity: Severity
    phase: Literal[1, 2] | None = None
    basis: Basis
    facts: list[str] = Field(
        default_factory=list, description="placeholders the engine always supplies for this finding"
    )
    en: LocalText
    ja: LocalText
    hints: list[VendorHint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _placeholders_declared(self) -> FindingEntry:
        always = set(self.facts)
        texts = [self.en.title, self.en.cause, *self.en.steps, self.ja.title, self.ja.cause, *self.ja.steps]
        for text in texts:
            unknown = placeholders(text) - always
            if unknown:
                raise ValueError(f"{self.id}: undeclared placeholder(s) {sorted(unknown)} in {text!r}")
        for hint in self.hints:
            for text in (hint.en, hint.ja):
                unknown = placeholders(text) - always - set(hint.needs) - {"peer"}
                if unknown:
                    raise ValueError(f"{self.id}: hint placeholder(s) {sorted(unknown)} not in needs")
        if len(self.en.steps) != len(self.ja.steps):
            raise ValueError(f"{self.id}: English and Japanese step lists differ in length")
        return self


class Signature(BaseModel):
    """A log line shape and what it tells the timeline."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")
    dialect: Dialect
    keywords: list[str] = Field(min_length=1, description="lower-case literals; a line must hold one")
    pattern: str
    event: EventKind
    finding: str | None = None
    finding_by_phase: dict[Literal[1, 2], str] | None = Field(
        default=None, description="the finding depends on whether phase 1 completed before this line"
    )
    phase: Literal[1, 2, "context"] | None = None
    confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    tags: list[Tag] = Field(default_factory=list)
    search: bool = Field(default=False, description="match anywhere in the line (sentences, stuck states)")
    also: list[str] = Field(
        default_factory=list,
        description="other findings the daemon prints this same line for; offered as less likely causes",
    )

    @field_validator("keywords")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        for kw in value:
            if kw != kw.lower() or not kw.strip():
                raise ValueError(f"keyword {kw!r} must be non-blank lower-case")
        return value

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        value = expand_macros(value)
        if "%" in value and re.search(r"%[A-Z]+%", value):
            raise ValueError(f"unknown macro in {value!r}")
        re.compile(value, re.IGNORECASE)
        return value

    @model_validator(mode="after")
    def _shape(self) -> Signature:
        if not self.search and not self.pattern.startswith("^"):
            raise ValueError(f"{self.id}: line patterns must be anchored with ^")
        if self.event in ("fail", "symptom") and not (self.finding or self.finding_by_phase):
            raise ValueError(f"{self.id}: a {self.event} signature must name its finding")
        if self.finding_by_phase and self.phase != "context":
            raise ValueError(f"{self.id}: finding_by_phase needs phase: context")
        return self

    def targets(self) -> list[str]:
        return [f for f in [self.finding, *(self.finding_by_phase or {}).values()] if f]


class LineFormat(BaseModel):
    """A wrapper a daemon, console or copy path puts before the message (catalog/formats.yaml)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    stage: Literal["line", "after-time", "after-program", "after-tag"]
    starts: str = Field(min_length=1, description="the characters such a line can begin with")
    pattern: str
    shape: str | None = Field(default=None, description="what the line is, for ordering and peer side")
    peer_side: bool | None = None
    fields: bool = Field(default=False, description="ASA-style `Group = …, IP = …,` fields follow")
    # A `message` group names the part of the line that is the message (key=value logs); without
    # it the message is what follows the match.
    example: str = Field(min_length=5, description="a real line this format reads")
    source: str = Field(min_length=5)

    @field_validator("pattern")
    @classmethod
    def _anchored_and_compiles(cls, value: str) -> str:
        value = expand_macros(value)
        value = value if value.startswith("^") else "^" + value
        unknown = set(re.compile(value).groupindex) - {"conn", "addr", "message"}
        if unknown:
            raise ValueError(f"unknown group(s) {sorted(unknown)} in {value!r}")
        return value


class NotifyRule(BaseModel):
    """What a notify means before and after phase 1 completed."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(min_length=1, description="normalised: upper case, underscores")
    before_phase1: str | None
    after_phase1: str | None
    when_aggressive: str | None = Field(default=None, description="replaces before_phase1 in aggressive mode")
    when_certificate: str | None = Field(default=None, description="replaces the finding under certificate auth")
    also_before_phase1: list[str] = Field(
        default_factory=list, description="other causes IKEv2 responders send this notify for before phase 1",
    )
    confidence: float = Field(default=0.85, ge=0.0, le=1.0)


class Precedence(BaseModel):
    """When `finding` is raised for a peer, the weaker explanations in `suppresses` are folded into it."""

    model_config = ConfigDict(extra="forbid")

    finding: str
    suppresses: list[str] = Field(min_length=1)


class MessageText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    en: str
    ja: str
