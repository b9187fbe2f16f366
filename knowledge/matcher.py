"""Applies the catalog's signatures to message bodies.

Each signature names literal keywords; only the signatures whose keywords occur in a line
are tried, so a line costs one or two anchored regex attempts instead of a pass over the
whole catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.library import Catalog
from knowledge.scan import KeywordScanner
from knowledge.schema import Signature

# Lines naming a cloud are kept so vendor hints can be chosen; they match no signature.
VENDOR_KEYWORDS = ("azure", "microsoft", "google", "gcp", "aws", "amazon")
MATCH_WINDOW = 4096  # characters of a body that signatures look at


@dataclass(frozen=True, slots=True)
class CompiledSignature:
    sig: Signature
    regex: re.Pattern[str]
    order: int
    tags: frozenset[str]


@dataclass(frozen=True, slots=True)
class Match:
    sig: Signature
    groups: dict[str, str]
    tags: frozenset[str]


class Matcher:
    def __init__(self, catalog: Catalog) -> None:
        ordered = sorted(catalog.signatures, key=lambda s: s.search)
        self._compiled = [
            CompiledSignature(sig, re.compile(sig.pattern, re.IGNORECASE), i, frozenset(sig.tags))
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
        if hits is None:
            hits = self.scanner.hits_of(body)
        window = body[:MATCH_WINDOW]
        for comp in self._plan(hits):
            m = comp.regex.search(window) if comp.sig.search else comp.regex.match(window)
            if m:
                return Match(comp.sig, {k: v for k, v in m.groupdict().items() if v is not None}, comp.tags)
        return None
