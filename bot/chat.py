"""What the bot answers to a message, independent of where the message came from.

Slack handlers and the local shell both call `parse_request` and `build_reply`, so a
paste gets the same diagnosis, help or refusal everywhere; only the rendering differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from bot.locale import human_size, ui
from knowledge import diagnose_text
from knowledge.models import Diagnosis, Lang

_LANG_DIRECTIVE = re.compile(r"(?<!\S)lang\s*[:=]\s*(en|ja)(?!\S)", re.IGNORECASE)
JAPANESE_HELP_WORDS = frozenset({"ヘルプ", "使い方", "？"})
HELP_WORDS = frozenset({"help", "usage", "?"}) | JAPANESE_HELP_WORDS


class ReplyKind(StrEnum):
    HELP = "help"
    DIAGNOSIS = "diagnosis"
    UNKNOWN = "unknown"
    NOTICE = "notice"


@dataclass(frozen=True)
class Request:
    """A message with the bot's own directives taken out."""

    text: str
    lang: Lang | None = None

    @property
    def wants_help(self) -> bool:
        return not self.text.strip() or self.text.strip().lower() in HELP_WORDS


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    lang: Lang
    diagnosis: Diagnosis | None = None
    notices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def finding_ids(self) -> list[str]:
        return self.diagnosis.finding_ids if self.diagnosis else []


def parse_request(text: str) -> Request:
    """The last `lang:xx` wins; asking for help in Japanese implies Japanese; directives are not log lines."""
    found = _LANG_DIRECTIVE.findall(text)
    rest = _LANG_DIRECTIVE.sub("", text).strip()
    lang: Lang | None = None
    if found:
        lang = "ja" if found[-1].lower() == "ja" else "en"
    elif rest in JAPANESE_HELP_WORDS:
        lang = "ja"
    return Request(text=rest, lang=lang)


def help_reply(lang: Lang, max_file_bytes: int) -> Reply:
    return Reply(ReplyKind.HELP, lang, notices=(ui("help", lang, limit=human_size(max_file_bytes)),))


def notice_reply(lang: Lang, notices: tuple[str, ...]) -> Reply:
    return Reply(ReplyKind.NOTICE, lang, notices=notices)


def diagnosis_reply(diagnosis: Diagnosis, notices: tuple[str, ...] = ()) -> Reply:
    """No finding at all means no known signature: the reply says what was read instead."""
    kind = ReplyKind.DIAGNOSIS if diagnosis.findings else ReplyKind.UNKNOWN
    return Reply(kind, diagnosis.lang, diagnosis=diagnosis, notices=notices)


def build_reply(text: str, lang: Lang, *, max_file_bytes: int, notices: tuple[str, ...] = ()) -> Reply:
    """Help for an empty or `help` message, else the diagnosis of the text (CPU-bound, no I/O)."""
    if not text.strip():
        return notice_reply(lang, notices) if notices else help_reply(lang, max_file_bytes)
    return diagnosis_reply(diagnose_text(text, lang), notices)


def warm_up() -> None:
    """Load and compile the catalog before the first user waits for it."""
    diagnose_text("May 8 07:23:43 VPN msg: phase1 negotiation failed.", "en")
