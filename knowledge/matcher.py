"""Applies the catalog's signatures to message bodies.

Each signature names literal keywords; only the signatures whose keywords occur in a line
are tried, so a line costs one or two anchored regex attempts instead of a pass over the
whole catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.library import Catalog
from knowledge.scan import KeywordScanner
from knowledge.schema import Signature

# Lines naming a cloud are kept so vendor hints can be chosen; they match no signature.
VENDOR_KEYWORDS = ("azure", "microsoft", "google", "gcp", "aws", "amazon")
MATCH_WINDOW = 4096  # characters of a body that signatures look at
REMEMBER_CHARS = 512  # bodies up to this long have their match remembered …
REMEMBER_BODIES = 20_000  # … this many at a time
_UNSEEN = object()


@dataclass(frozen=True, slots=True)
class CompiledSignature:
    sig: Signature
    order: int
    tags: frozenset[str]
    apply: Callable[[str], re.Match[str] | None]  # the regex's search() for `search` signatures, else match()


@dataclass(frozen=True, slots=True)
class Match:
    sig: Signature
    groups: dict[str, str]
    tags: frozenset[str]
    kind: str  # the signature's event, read once per line: a plain attribute is cheaper than the model's


class Matcher:
    def __init__(self, catalog: Catalog) -> None:
        ordered = sorted(catalog.signatures, key=lambda s: s.search)
        self._compiled = [
            CompiledSignature(sig, i, frozenset(sig.tags), _apply(re.compile(sig.pattern, re.IGNORECASE), sig.search))
            for i, sig in enumerate(ordered)
        ]
        keywords = sorted({kw for sig in ordered for kw in sig.keywords} | set(VENDOR_KEYWORDS))
        self.scanner = KeywordScanner(keywords)
        index = {kw: i for i, kw in enumerate(self.scanner.keywords)}
        self._by_keyword: dict[int, list[CompiledSignature]] = {}
        for comp in self._compiled:
            for kw in comp.sig.keywords:
                self._by_keyword.setdefault(index[kw], []).append(comp)
        self._plans: dict[int, tuple[CompiledSignature, ...]] = {}
        self._seen: dict[tuple[int, str], Match | None] = {}

    def _plan(self, hits: int) -> tuple[CompiledSignature, ...]:
        """The signatures to try for a keyword bit set, in priority order (memoised: sets repeat)."""
        plan = self._plans.get(hits)
        if plan is None:
            present = [kw for kw in range(hits.bit_length()) if hits >> kw & 1]
            chosen = {comp.order: comp for kw in present for comp in self._by_keyword.get(kw, ())}
            plan = tuple(chosen[o] for o in sorted(chosen))
            if len(self._plans) < 10_000:
                self._plans[hits] = plan
        return plan

    def match(self, body: str, hits: int | None = None) -> Match | None:
        """The first signature, in priority order, that the body matches.

        Logs repeat the same message many times (a failure every few seconds), so short bodies
        are remembered; the groups dict of a remembered match is shared and must not be changed.
        """
        if hits is None:
            hits = self.scanner.hits_of(body)
        key = (hits, body)
        found = self._seen.get(key, _UNSEEN)
        if found is not _UNSEEN:
            return found  # type: ignore[return-value]
        found = None
        window = body[:MATCH_WINDOW]
        for comp in self._plan(hits):
            m = comp.apply(window)
            if m:
                groups = m.groupdict()
                if None in groups.values():
                    groups = {k: v for k, v in groups.items() if v is not None}
                found = Match(comp.sig, groups, comp.tags, comp.sig.event)
                break
        if len(body) <= REMEMBER_CHARS:
            if len(self._seen) >= REMEMBER_BODIES:
                self._seen.clear()
            self._seen[key] = found
        return found


def _apply(regex: re.Pattern[str], search: bool) -> Callable[[str], re.Match[str] | None]:
    return regex.search if search else regex.match
