"""Loads and validates the catalog, and turns an entry into a localised Finding."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import TypeAdapter

from knowledge.models import Basis, Evidence, Finding, Hint, Lang
from knowledge.schema import FindingEntry, MessageText, NotifyRule, Precedence, Signature

CATALOG_DIR = Path(__file__).parent / "catalog"


class CatalogError(ValueError):
    """A catalog file is missing, malformed or inconsistent."""


class _Facts(dict[str, str]):
    """Leaves an unknown placeholder visible instead of raising mid-reply."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# `{count|problem|problems}`: the singular when the fact is 1, else the plural (English texts;
# Japanese has no plural and does not use it).
_PLURAL = re.compile(r"\{(\w+)\|([^|{}]*)\|([^|{}]*)\}")


def fill(text: str, facts: Mapping[str, str]) -> str:
    if "|" in text:
        text = _PLURAL.sub(lambda m: m[2] if str(facts.get(m[1], "")).strip() == "1" else m[3], text)
    return text.format_map(_Facts(facts))


def duration_text(seconds: float, lang: Lang) -> str:
    """`8 h (28,800 s)`, `1 h 5 min (3,900 s)`; in Japanese `8時間（28,800秒）`."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if lang == "ja":
        parts = [f"{hours}時間" if hours else "", f"{minutes}分" if minutes else "", f"{secs}秒" if secs else ""]
        return f"{''.join(parts) or '0秒'}（{total:,}秒）"
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return f"{' '.join(p for p in parts if p) or '0 s'} ({total:,} s)"


def _in_language(facts: Mapping[str, str], lang: Lang) -> dict[str, str]:
    """Facts as a sentence in `lang` shows them: a measured interval is worded in that language
    (the Finding keeps the values as measured)."""
    said = dict(facts)
    if lang != "en" and "interval" in said and said.get("interval_s", "").isdigit():
        said["interval"] = duration_text(int(said["interval_s"]), lang)
    return said


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path.name}: {exc}") from exc


@dataclass(frozen=True)
class Catalog:
    findings: dict[str, FindingEntry]
    signatures: tuple[Signature, ...]
    notify_rules: tuple[NotifyRule, ...]
    precedence: tuple[Precedence, ...]
    messages: dict[str, MessageText]

    def entry(self, finding_id: str) -> FindingEntry:
        try:
            return self.findings[finding_id]
        except KeyError as exc:
            raise CatalogError(f"unknown finding id {finding_id!r}") from exc

    def message(self, key: str, lang: Lang, **facts: object) -> str:
        try:
            text = getattr(self.messages[key], lang)
        except KeyError as exc:
            raise CatalogError(f"unknown message key {key!r}") from exc
        return fill(text, {k: str(v) for k, v in facts.items()})

    def build(
        self,
        finding_id: str,
        lang: Lang,
        *,
        peer: str | None = None,
        phase: int | None = None,
        evidence: Iterable[Evidence] = (),
        confidence: float = 0.8,
        basis: Basis | None = None,
        facts: Mapping[str, str] | None = None,
        vendors: Iterable[str] = (),
    ) -> Finding:
        """A Finding in `lang`, its texts filled with the measured `facts`."""
        entry = self.entry(finding_id)
        local = getattr(entry, lang)
        known = {k: str(v) for k, v in (facts or {}).items()}
        if peer:
            known.setdefault("peer", peer)
        wanted = set(vendors) | {"any"}
        said = _in_language(known, lang)
        hints = [
            Hint(vendor=h.vendor, text=fill(getattr(h, lang), said))
            for h in entry.hints
            if h.vendor in wanted and all(n in known for n in h.needs)
        ]
        return Finding(
            id=entry.id,
            severity=entry.severity,
            phase=phase if phase is not None else entry.phase,
            peer=peer,
            title=fill(local.title, said),
            cause=fill(local.cause, said),
            steps=[fill(s, said) for s in local.steps],
            evidence=list(evidence),
            confidence=round(confidence, 2),
            basis=basis or entry.basis,
            hints=hints,
            facts=known,
        )


def load_catalog_from(directory: Path) -> Catalog:
    findings: dict[str, FindingEntry] = {}
    for path in sorted((directory / "findings").glob("*.yaml")):
        entry = FindingEntry.model_validate(_read_yaml(path))
        if entry.id != path.stem:
            raise CatalogError(f"{path.name}: id {entry.id!r} does not match the file name")
        findings[entry.id] = entry

    signatures: list[Signature] = []
    sig_list = TypeAdapter(list[Signature])
    for path in sorted((directory / "signatures").glob("*.yaml")):
        signatures.extend(sig_list.validate_python(_read_yaml(path) or []))
    seen: set[str] = set()
    for sig in signatures:
        if sig.id in seen:
            raise CatalogError(f"duplicate signature id {sig.id!r}")
        seen.add(sig.id)
        for target in (*sig.targets(), *sig.also):
            if target not in findings:
                raise CatalogError(f"signature {sig.id!r} names unknown finding {target!r}")

    notify_rules = tuple(TypeAdapter(list[NotifyRule]).validate_python(_read_yaml(directory / "notify.yaml")))
    for rule in notify_rules:
        for target in (rule.before_phase1, rule.after_phase1, rule.when_aggressive, rule.when_certificate,
                       *rule.also_before_phase1):
            if target and target not in findings:
                raise CatalogError(f"notify rule {rule.names} names unknown finding {target!r}")

    precedence_list = TypeAdapter(list[Precedence])
    precedence = tuple(precedence_list.validate_python(_read_yaml(directory / "precedence.yaml")))
    for rule in precedence:
        for target in (rule.finding, *rule.suppresses):
            if target not in findings:
                raise CatalogError(f"precedence rule names unknown finding {target!r}")

    messages = TypeAdapter(dict[str, MessageText]).validate_python(_read_yaml(directory / "messages.yaml"))
    return Catalog(findings, tuple(signatures), notify_rules, precedence, messages)


@cache
def load_catalog() -> Catalog:
    return load_catalog_from(CATALOG_DIR)
