"""Text that looks the same as a log line is read as that line.

Pastes arrive with terminal colours, zero-width spaces a chat client slipped into words,
bidirectional overrides, NULs and other controls, a byte-order mark, or full-width digits
and colons from a Japanese input method. Each would hide a line from the catalog, and a
control character echoed back into Slack is worse than useless, so all of it is removed
(or, for the full-width forms, folded to ASCII) before anything reads the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Bytes that can only belong to something this module changes: a cheap test that leaves
# ordinary logs untouched (they are the large ones).
_SUSPECT = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # C0 controls (not tab, LF, CR) and DEL, ESC among them
    rb"|\xc2[\x80-\x9f]"  # C1 controls
    rb"|\xe2\x80[\x8b-\x8f\xaa-\xae]"  # zero-width space/joiners, LRM/RLM, bidi embeddings and overrides
    rb"|\xe2\x81[\xa0-\xaf]"  # word joiner, invisible operators, bidi isolates, deprecated format chars
    rb"|\xef\xbb\xbf"  # byte-order mark / zero-width no-break space
    rb"|\xef\xbc[\x81-\xbf]|\xef\xbd[\x80-\x9e]"  # full-width ASCII forms
    rb"|\xe3\x80\x80"  # ideographic space
)
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
)
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


# First bytes of everything _SUSPECT matches, marked 0 in a translation table: `translate`
# and a search for one byte run at memory speed, where the regex alone costs a second per 100 MB.
_LEADS = frozenset([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xC2, 0xE2, 0xE3, 0xEF])
_MARK_LEADS = bytes(0 if b in _LEADS else 1 for b in range(256))


def needs_cleaning(data: bytes) -> bool:
    if b"\x00" not in data.translate(_MARK_LEADS):
        return False
    return _SUSPECT.search(data) is not None


def clean_text(text: str) -> str:
    """`text` without escape sequences and invisible characters, full-width ASCII folded to ASCII."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    return _INVISIBLE.sub("", text).translate(_FULL_WIDTH)


def clean_bytes(data: bytes) -> bytes:
    """UTF-8 `data` cleaned as `clean_text` does; unchanged (same object) when nothing needs it.

    Mostly-NUL data is left alone: it is binary or UTF-16, and callers recognise those by their NULs.
    """
    if not needs_cleaning(data) or data.count(0) * 20 > len(data):
        return data
    return clean_text(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def clean_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Chunks of a stream cleaned whole lines at a time, so no character is cut at a chunk boundary."""
    carry = b""
    for chunk in chunks:
        if carry:
            chunk = carry + chunk
            carry = b""
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            carry = chunk
            continue
        if cut < len(chunk):
            chunk, carry = chunk[:cut], chunk[cut:]
        yield clean_bytes(chunk)
    if carry:
        yield clean_bytes(carry)
