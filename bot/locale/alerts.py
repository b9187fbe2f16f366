"""The channel alert texts, kept in their own YAML next to the bot's other texts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.locale import Locale, load_locale_from
from knowledge.models import Lang

ALERT_MESSAGES_FILE = Path(__file__).with_name("alerts.yaml")


@cache
def load_alert_locale() -> Locale:
    return load_locale_from(ALERT_MESSAGES_FILE)


def alert_ui(key: str, lang: Lang, **facts: object) -> str:
    return load_alert_locale().text(key, lang, **facts)


def has_alert_text(key: str) -> bool:
    return key in load_alert_locale().keys
