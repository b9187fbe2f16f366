"""MX firmware strings in every spelling the Dashboard uses, and garbage."""

from __future__ import annotations

import pytest

from knowledge.firmware import format_firmware, parse_firmware, supports_ikev2


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("MX 18.107.4", (18, 107, 4)),
        ("wired-18-107", (18, 107)),
        ("wired-18-107-2", (18, 107, 2)),
        ("MX 15.12", (15, 12)),
        ("MX 14.56", (14, 56)),
        ("wired-14-56", (14, 56)),
        ("mx15.8", (15, 8)),
        ("  MX 18.211.2 (stable) ", (18, 211, 2)),
        ("15.44", (15, 44)),
    ],
)
def test_parses_dashboard_spellings(text: str, version: tuple[int, ...]) -> None:
    assert parse_firmware(text) == version


@pytest.mark.parametrize(
    "text",
    ["Not running configured version", "", "MX", "MX 18", "wireless-25-14", "switch-16-4", None, 1.5],
)
def test_garbage_gives_none(text: object) -> None:
    assert parse_firmware(text) is None  # type: ignore[arg-type]


def test_versions_compare_numerically_not_as_text() -> None:
    ordered = ["MX 14.56", "MX 15.8", "MX 15.12", "MX 15.44", "MX 18.107"]
    parsed = [parse_firmware(v) for v in ordered]
    assert parsed == sorted(parsed)  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("firmware", "expected"),
    [
        ("MX 15.8", False),
        ("wired-14-56", False),
        ("MX 15.11.9", False),
        ("MX 15.12", True),
        ("wired-15-12-1", True),
        ("MX 18.107.4", True),
        ((16, 16), True),
        ("Not running configured version", None),
        (None, None),
    ],
)
def test_supports_ikev2(firmware: str | tuple[int, ...] | None, expected: bool | None) -> None:
    assert supports_ikev2(firmware) is expected


def test_format_firmware_uses_the_short_name_form() -> None:
    assert format_firmware((15, 8)) == "MX 15.8"
    assert format_firmware(parse_firmware("wired-18-107-2") or ()) == "MX 18.107.2"
