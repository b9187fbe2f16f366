"""Every Japanese text uses one term per concept, as knowledge/catalog/glossary.yaml lists them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import live
from bot.dashboard import errors

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = yaml.safe_load((ROOT / "knowledge" / "catalog" / "glossary.yaml").read_text(encoding="utf-8"))
TEXT_FILES = sorted((ROOT / "knowledge" / "catalog").rglob("*.yaml")) + sorted((ROOT / "bot" / "locale").glob("*.yaml"))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _japanese(node: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string under a `ja` key, however deep (a finding's ja holds title, cause and steps)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "ja":
                yield from ((f"{where}.ja", text) for text in _strings(value))
            else:
                yield from _japanese(value, f"{where}.{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _japanese(value, f"{where}[{n}]")


def japanese_texts() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in TEXT_FILES:
        if path.name == "glossary.yaml":
            continue
        found += _japanese(yaml.safe_load(path.read_text(encoding="utf-8")), str(path.relative_to(ROOT)))
    found += [(f"errors.{reason.value}", texts["ja"]) for reason, texts in errors._SENTENCES.items()]
    found.append(("live._NO_NETWORK", live._NO_NETWORK["ja"]))
    return found


def test_the_scan_sees_the_japanese_texts() -> None:
    assert len(japanese_texts()) > 300


@pytest.mark.parametrize("entry", GLOSSARY, ids=lambda e: e["term"])
def test_one_term_per_concept(entry: dict[str, Any]) -> None:
    wrong = [(where, banned) for where, text in japanese_texts() for banned in entry["not"] if banned in text]
    assert wrong == [], f"use {entry['term']} ({entry['concept']}): {wrong[:5]}"
