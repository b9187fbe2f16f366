"""Finds the lines worth parsing in large inputs without touching every line in Python.

A syslog export can hold a million lines of which one in a hundred is about VPN. Every
catalog signature names literal keywords; a line without any of them cannot match, so the
scanner only hands such lines on. Hyperscan does the multi-keyword search in C where it is
available; elsewhere a per-line check gives the same answer more slowly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

try:
    import hyperscan
except ImportError:  # pragma: no cover - depends on the platform's wheels
    hyperscan = None

CHUNK_BYTES = 4 << 20
MAX_LINE_BYTES = 64 << 10
WRAP_MIN = 50  # a line shorter than this was not cut by a terminal, a mail or a page's width
WRAP_MARK = "\x1f"  # joins a long line to the lines that may be its rest (see events.extract)
# Up to this size (a paste, not a log file) a cut line whose keyword sits in its rest, or across
# the cut, is looked for too: every long line is tried with what follows it.
WRAP_SEARCH_BYTES = 256 << 10
# What a new line, rather than the rest of a cut one, starts with: a time stamp, a status code, a
# quote or list mark, indentation, or a sentence (capital letter, then lower case).
_NEW_LINE = re.compile(
    rb"^(?:\s|[<\[{\"'#|>*`(!-]|\d{4}-\d\d-\d\d|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2}:\d\d"
    rb"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) |\d{3} |[A-Z][a-z]|$)"
)


# Keyword hits are a bit set: bit i is set when keyword i occurs in the line.
Line = tuple[int, str, int | None]


@dataclass
class ScanStats:
    lines: int = 0
    bytes: int = 0
    long_lines: list[int] = field(default_factory=list)
    invalid_utf8: bool = False
    nul_bytes: int = 0


class KeywordScanner:
    """Yields the lines of a byte stream that contain any keyword (case-insensitive)."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords = sorted({k.lower() for k in keywords if k})
        self._needles = [k.encode("utf-8") for k in self.keywords]
        self._db = self._compile() if hyperscan is not None else None
        self._local = threading.local()  # Hyperscan scratch space may serve one scan at a time

    def _scratch(self) -> object:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = hyperscan.Scratch(self._db)
            self._local.scratch = scratch
        return scratch

    def _compile(self) -> object | None:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        flags = hyperscan.HS_FLAG_CASELESS
        try:
            db.compile(
                expressions=[re.escape(n.decode("utf-8")).encode("utf-8") for n in self._needles],
                ids=list(range(len(self._needles))),
                elements=len(self._needles),
                flags=[flags] * len(self._needles),
            )
        except hyperscan.error:  # pragma: no cover - falls back to the slow path
            return None
        return db

    def scan(self, chunks: Iterable[bytes], stats: ScanStats) -> Iterator[Line]:
        """(line number, text, keyword indexes or None when unknown) for each line worth parsing."""
        carry = b""
        base = 0  # lines before the current block
        skipping = False  # inside an over-long line whose head was already kept
        for chunk in chunks:
            stats.bytes += len(chunk)
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b"\n")
            if cut < 0:
                if skipping:
                    carry = b""
                elif len(buf) > MAX_LINE_BYTES:
                    yield from self._emit_long(buf, base, stats)
                    skipping = True
                    carry = b""
                else:
                    carry = buf
                continue
            block, carry = buf[: cut + 1], buf[cut + 1 :]
            if skipping:
                first_nl = block.find(b"\n")
                block = block[first_nl + 1 :]
                base += 1
                skipping = False
            yield from self._scan_block(block, base, stats)
            base += block.count(b"\n")
            if len(carry) > MAX_LINE_BYTES:
                yield from self._emit_long(carry, base, stats)
                skipping = True
                carry = b""
        if carry and not skipping:
            yield from self._scan_block(carry, base, stats)
            base += 1
        elif skipping:
            base += 1
        stats.lines = base

    def _emit_long(self, head: bytes, base: int, stats: ScanStats) -> Iterator[Line]:
        stats.long_lines.append(base + 1)
        part = head[:MAX_LINE_BYTES]
        if self._line_has_keyword(part):
            text = part.decode("utf-8", "replace")
            stats.invalid_utf8 = stats.invalid_utf8 or "\ufffd" in text
            yield base + 1, text, None

    def _scan_block(self, block: bytes, base: int, stats: ScanStats) -> Iterator[Line]:
        if not block:
            return
        stats.nul_bytes += block.count(b"\0")
        # Offsets into an ASCII block are offsets into its text too: decode once, slice the text.
        text = block.decode("ascii") if block.isascii() else None
        line_no = base
        pos = 0
        starts = self._hit_line_starts(block)
        if len(block) <= WRAP_SEARCH_BYTES:
            starts = self._with_cut_heads(block, starts)
        for start, hits in starts:
            line_no += block.count(b"\n", pos, start)
            pos = start
            end = block.find(b"\n", start)
            if end < 0:
                end = len(block)
            if end - start > MAX_LINE_BYTES:
                stats.long_lines.append(line_no + 1)
                end = start + MAX_LINE_BYTES
            wrapped = _wrapped_end(block, start, end)
            if text is not None:
                line = text[start:wrapped]
            else:
                line = block[start:wrapped].decode("utf-8", "replace")
                if "\ufffd" in line:
                    stats.invalid_utf8 = True
            if wrapped != end:
                # The reader decides whether the next lines are the rest of this one.
                line = line.replace("\r\n", "\n").replace("\n", WRAP_MARK)
            yield line_no + 1, line.rstrip("\r"), hits

    def _hit_line_starts(self, block: bytes) -> list[tuple[int, int | None]]:
        if self._db is not None:
            found: dict[int, int] = {}
            get, rfind = found.get, block.rfind

            def on_match(kw: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                start = rfind(b"\n", 0, end) + 1
                found[start] = get(start, 0) | 1 << kw

            self._db.scan(block, match_event_handler=on_match, scratch=self._scratch())
            # Matches arrive by end offset: a keyword ending late in a long line may come after
            # the next line's, so the lines are put back in order.
            return sorted(found.items())
        starts_list: list[tuple[int, int | None]] = []
        start = 0
        size = len(block)
        while start < size:
            end = block.find(b"\n", start)
            if end < 0:
                end = size
            if self._line_has_keyword(block[start:end]):
                starts_list.append((start, None))
            start = end + 1
        return starts_list

    def _with_cut_heads(self, block: bytes, starts: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
        """Add the long lines that read as nothing alone but carry a keyword once their rest is joined.

        A page or terminal may cut `…oakley_skeyid(): couldn't find ` / `the pskey for B.B.B.B.`
        so that neither piece holds the keyword; the head is then handed on to be read whole.
        """
        known = {start for start, _ in starts}
        added: list[tuple[int, int | None]] = []
        start = 0
        size = len(block)
        while start < size:
            end = block.find(b"\n", start)
            if end < 0:
                end = size
            if end - start >= WRAP_MIN and start not in known:
                wrapped = _wrapped_end(block, start, end)
                if wrapped != end:
                    joined = block[start:wrapped].replace(b"\r\n", b"\n").replace(b"\n", b"")
                    hits = self.hits_of(joined.decode("utf-8", "replace"))
                    if hits:
                        added.append((start, hits))
            start = end + 1
        return sorted([*starts, *added]) if added else starts

    def hits_of(self, text: str) -> int:
        """The keyword bit set of `text` (for lines that did not come through a scan)."""
        data = text.encode("utf-8", "replace")
        found = 0
        if self._db is not None:

            def on_match(kw: int, *_: object) -> None:
                nonlocal found
                found |= 1 << kw

            self._db.scan(data, match_event_handler=on_match, scratch=self._scratch())
            return found
        low = data.lower()
        for i, needle in enumerate(self._needles):
            if needle in low:
                found |= 1 << i
        return found

    def _line_has_keyword(self, line: bytes) -> bool:
        low = line.lower()
        return any(n in low for n in self._needles)


def iter_chunks(data: bytes, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def _wrapped_end(block: bytes, start: int, end: int) -> int:
    """The end of a line, taking in the lines a terminal or web page cut it into.

    A long line that stops inside a word or after a space and is followed by a line that does
    not start like a new one (`…the same polic` / `y for reqid 1 exists`) continues there.
    """
    while end - start >= WRAP_MIN and end < len(block) and block[end] == 10 and end - start < MAX_LINE_BYTES:
        tail = end - 2 if block[end - 1] == 13 else end - 1  # a CRLF line ends before its CR
        last = block[tail : tail + 1]
        if not last or not (last.isalnum() or last in b"_+=;:,.-/ "):
            break
        nxt = block.find(b"\n", end + 1)
        if nxt < 0:
            nxt = len(block)
        head = block[end + 1 : min(nxt, end + 24)]
        if not head.strip() or _NEW_LINE.match(head) or nxt - end - 1 > end - start:
            break
        end = nxt
    return end
