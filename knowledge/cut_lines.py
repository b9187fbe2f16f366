"""Lines cut off mid-phrase (a half-copied row): say what they may have said instead of nothing.

Only a paste that read as nothing gets these hints, and only its first lines are looked at:
the end of each line is compared with the starts of the catalog's key phrases.
"""

from __future__ import annotations

from functools import cache

from knowledge.library import Catalog, load_catalog
from knowledge.models import Lang

MIN_CHARS = 4
MAX_LINES = 200
MAX_HINTS = 3
_ELLIPSES = ("…", "...", "..")


@cache
def _phrases() -> tuple[tuple[str, str], ...]:
    """(key phrase, finding ID) for every signature that names one finding, longest phrases first."""
    found: dict[str, str] = {}
    for sig in load_catalog().signatures:
        targets = sig.targets()
        if len(set(targets)) == 1:
            for keyword in sig.keywords:
                if len(keyword) > MIN_CHARS and " " in keyword.strip():
                    found.setdefault(keyword.strip(), targets[0])
    return tuple(sorted(found.items(), key=lambda kv: -len(kv[0])))


def _tail(line: str) -> str:
    """The end of a line as pasted: after its last `msg:`, without a trailing ellipsis."""
    text = line.strip()
    for mark in _ELLIPSES:
        text = text.removesuffix(mark)
    at = text.lower().rfind("msg:")
    return (text[at + 4:] if at >= 0 else text).strip()


def cut_hints(text: str, lang: Lang, catalog: Catalog | None = None) -> list[str]:
    catalog = catalog or load_catalog()
    hints: list[str] = []
    for number, line in enumerate(text.splitlines()[:MAX_LINES], 1):
        tail = _tail(line)
        if len(tail) < MIN_CHARS:
            continue
        lowered = tail.lower()
        for phrase, finding in _phrases():
            if len(phrase) > len(lowered) and phrase.startswith(lowered):
                title = getattr(catalog.entry(finding), lang).title
                hints.append(catalog.message("note.cut_line", lang, line=number, seen=tail, phrase=phrase,
                                             title=title))
                break
        if len(hints) == MAX_HINTS:
            break
    return hints
