"""The bot's own texts exist in both languages with the same placeholders."""

from __future__ import annotations

import pytest

from bot.locale import human_size, load_locale, ui
from knowledge.schema import placeholders


@pytest.mark.parametrize("key", load_locale().keys)
def test_every_text_has_both_languages_with_the_same_placeholders(key: str) -> None:
    locale = load_locale()
    en, ja = locale.raw(key, "en"), locale.raw(key, "ja")
    assert en.strip() and ja.strip()
    assert placeholders(en) == placeholders(ja)


def test_japanese_texts_are_japanese() -> None:
    locale = load_locale()
    for key in locale.keys:
        if key in ("shell_prompt",) or key.startswith("report_filename"):
            continue
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in locale.raw(key, "ja")), key


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_filled_texts(lang) -> None:
    text = ui("file_too_large", lang, name="big.log", size="5 MB", limit="2 MB")
    assert "big.log" in text and "5 MB" in text and "2 MB" in text
    assert "abc123" in ui("apology", lang, correlation_id="abc123")


@pytest.mark.parametrize(
    ("size", "text"), [(999, "999 B"), (2_000_000, "2 MB"), (2_500_000, "2.5 MB"), (15_300_000, "15 MB")]
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text
