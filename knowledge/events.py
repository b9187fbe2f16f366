"""Turns candidate lines into events: matched signature, peer, time and connection."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from knowledge.matcher import VENDOR_KEYWORDS, Match, Matcher
from knowledge.parse import ParsedLine, parse_line
from knowledge.scan import WRAP_MARK
from knowledge.schema import Signature

EVIDENCE_CHARS = 300


@dataclass(slots=True, eq=False)
class Event:
    """One matched line. What later stages ask of every line is resolved once, here."""

    line: int
    text: str
    sig: Signature
    groups: dict[str, str]
    parsed: ParsedLine
    segment: int = 0
    peer: str | None = None
    key: str = "?"  # timeline key: the peer address, else the connection name
    kind: str = ""
    tags: frozenset[str] = frozenset()
    ts: float | None = None
    uid: str | None = None  # the IKE_SA id, from the message or charon's <conn|id> prefix
    conn: str | None = None

    def __post_init__(self) -> None:
        self.ts = self.parsed.ts
        self.uid = self.groups.get("uid") or self.parsed.uid
        self.conn = self.groups.get("conn") or self.parsed.conn


@dataclass
class Extraction:
    events: list[Event] = field(default_factory=list)
    vendor_text: list[str] = field(default_factory=list)


def evidence_text(raw: str) -> str:
    text = raw.strip()
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 1] + "…"


_INNER_START = re.compile(r"(?:`{1,3}|\bmsg:|\b(?:ERROR|WARNING|NOTIFY|INFO):)\s{0,4}", re.I)
INNER_TRIES = 4
INNER_CHARS = 1000  # a message inside a line is short; the rest of a huge line is not read again


def _inner_message(body: str, match: Callable[[str], Match | None]) -> Match | None:
    """A message inside a sentence, a code span or after a second `msg:`: the text from each such
    start (up to a closing backtick) is read as a line of its own. Only lines with a keyword and no
    match pay for it, at most a few tries each."""
    for n, m in enumerate(_INNER_START.finditer(body, 1, 2000)):
        if n == INNER_TRIES:
            break
        tail = body[m.end(): m.end() + INNER_CHARS]
        close = tail.find("`")
        inner = parse_line(tail[:close] if close > 0 else tail).body
        found = match(inner) if inner else None
        if found is not None:
            return found
    return None


Read = tuple[str, ParsedLine, Match | None]  # a line's text, what its wrappers said, the signature it matched


def _read(text: str, match: Callable[[str], Match | None]) -> Read:
    parsed = parse_line(text)
    return text, parsed, match(parsed.body) if parsed.body else None


def _whole(found: Match | None) -> bool:
    """A full signature read the line (not only a word it carries)."""
    return found is not None and "partial" not in found.tags


def _rejoined(head: str, rest: str, match: Callable[[str], Match | None]) -> Read | None:
    """A long line a terminal or page cut in pieces, read whole: kept only when it then matches fully."""
    read = _read(head + rest.replace(WRAP_MARK, ""), match)
    return read if _whole(read[2]) else None


def extract(lines: Iterable[tuple[int, str, int | None]], matcher: Matcher) -> Extraction:
    """Match every line; group consecutive lines of one shape into segments (one log source each)."""
    out = Extraction()
    events = out.events
    match = matcher.match
    segment = -1
    last_shape: str | None = None
    for no, text, hits in lines:
        text, cut, rest = text.partition(WRAP_MARK)
        parsed = parse_line(text)
        found = match(parsed.body, hits) if parsed.body else None
        if cut and not _whole(found):
            text, parsed, found = _rejoined(text, rest, match) or (text, parsed, found)
        if not _whole(found) and hits and parsed.body:
            found = _inner_message(parsed.body, match) or found
        pieces = [(text, parsed, found)]
        if not _whole(found) and len(text) >= GLUED_MIN_CHARS:
            pieces = _unglued(text, match) or pieces
        for piece, parsed, found in pieces:
            if found is None:
                lowered = piece.lower()
                if any(v in lowered for v in VENDOR_KEYWORDS):
                    out.vendor_text.append(piece[:500])
                continue
            if parsed.shape != last_shape:
                segment += 1
                last_shape = parsed.shape
            events.append(Event(no, evidence_text(piece), found.sig, found.groups, parsed, segment,
                                kind=found.kind, tags=found.tags))
            if found.sig.dialect == "text":
                out.vendor_text.append(piece[:500])
    return out


GLUED_MIN_CHARS = 160  # a line this long that reads as nothing may be several lines that lost their breaks
GLUED_MAX_PIECES = 200
# A clock time followed by a word, inside a line: where a lost line break was (`…cd5221:46:23 ipsec, …`).
_GLUED_TIME = re.compile(r"(?<!:)\d{2}:\d{2}:\d{2}(?:\.\d{1,6})? (?=[A-Za-z])")


def _unglued(text: str, match: Callable[[str], Match | None]) -> list[Read]:
    """Log lines a forum or chat joined into one (their breaks lost), read one by one.

    Only when at least two time stamps sit inside the text and one of the pieces then reads fully.
    """
    starts = [m.start() for m in _GLUED_TIME.finditer(text)][:GLUED_MAX_PIECES]
    if len(starts) < 2:
        return []
    bounds = [0, *starts[1:]] if starts[0] < 20 else [0, *starts]
    ends = [*bounds[1:], len(text)]
    pieces = [_read(text[begin:end].strip(), match) for begin, end in zip(bounds, ends, strict=True)]
    return pieces if any(_whole(found) for _, _, found in pieces) else []
