"""The bot's own bilingual texts (usage, refusals, apologies, shell), loaded from YAML.

Diagnosis wording comes from the knowledge catalog; this file covers only what the
bot says about itself, so both front ends (Slack and the shell) word it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter

from knowledge.library import fill
from knowledge.models import Lang

MESSAGES_FILE = Path(__file__).with_name("messages.yaml")


class UiText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    en: str
    ja: str


class Locale:
    def __init__(self, texts: Mapping[str, UiText]) -> None:
        self._texts = dict(texts)

    @property
    def keys(self) -> list[str]:
        return sorted(self._texts)

    def text(self, key: str, lang: Lang, **facts: object) -> str:
        return fill(getattr(self._texts[key], lang), {k: str(v) for k, v in facts.items()})

    def raw(self, key: str, lang: Lang) -> str:
        return getattr(self._texts[key], lang)


def load_locale_from(path: Path) -> Locale:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Locale(TypeAdapter(dict[str, UiText]).validate_python(data))


@cache
def load_locale() -> Locale:
    return load_locale_from(MESSAGES_FILE)


def ui(key: str, lang: Lang, **facts: object) -> str:
    return load_locale().text(key, lang, **facts)


def human_size(size: int) -> str:
    """Decimal units, as file managers and Slack show them."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value >= 10 or value.is_integer() else f"{value:.1f} {unit}"
    return f"{size} B"
