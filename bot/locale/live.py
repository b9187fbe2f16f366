"""The live lookup texts, kept in their own YAML next to the bot's other texts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.locale import Locale, load_locale_from
from knowledge.models import Lang

LIVE_MESSAGES_FILE = Path(__file__).with_name("live.yaml")


@cache
def load_live_locale() -> Locale:
    return load_locale_from(LIVE_MESSAGES_FILE)


def live_ui(key: str, lang: Lang, **facts: object) -> str:
    return load_live_locale().text(key, lang, **facts)
