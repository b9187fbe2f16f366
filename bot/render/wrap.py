"""Wrapping terminal text by display columns, at places a reader expects a line to break.

A line breaks at spaces, and in Japanese between characters, but never inside a run of
ASCII letters, digits and the marks numbers, addresses and paths are made of
(`UDP 500/4500`, `203.0.113.10[500]`, `> 設定 >` keeps its `>` with the word after it), and
never before closing punctuation (`、。）」`, which may hang one character past the width, as in
Japanese typesetting) or after opening punctuation (`（「`, which moves down with its text).
"""

from __future__ import annotations

import re
import unicodedata

# One unit: an unbreakable ASCII run, a space run, or a single other character.
_UNITS = re.compile(r"[!-~]+|\s+|.", re.S)
_NO_LINE_START = frozenset("、。，．）」』】〕〉》・：；？！ー…")
_NO_LINE_END = frozenset("（「『【〔〈《")


def columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap(text: str, width: int, first: str, indent: str) -> list[str]:
    """Lines of at most `width` columns (a unit wider than a line stands alone on its own)."""
    lines: list[str] = []
    line, used = first, columns(first)
    start = len(first)
    for unit in _UNITS.findall(text):
        if unit.isspace():
            if len(line) > start:
                line, used = line + " ", used + 1
            continue
        size = columns(unit)
        if used + size > width and len(line.rstrip()) > start and unit[0] not in _NO_LINE_START:
            # An opening bracket at the end of the line moves down with the text it opens.
            carried = line.rstrip()[-1] if line.rstrip()[-1:] in _NO_LINE_END else ""
            lines.append(line.rstrip().removesuffix(carried).rstrip())
            line, start = indent + carried, len(indent)
            used = columns(line)
        line, used = line + unit, used + size
    if len(line.rstrip()) > start or not lines:
        lines.append(line.rstrip())
    return lines

