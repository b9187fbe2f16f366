"""Terminal wrapping: lines break where a reader expects, never inside a number, address or path."""

from __future__ import annotations

from bot.render.wrap import columns, wrap

STEP_JA = (
    "到達性: 「セキュリティ & SD-WAN > 設定 > サイト間VPN」の「Meraki以外のVPNピア」のパブリックIPが対向機器の"
    "現在のアドレスであること、UDP 500/4500 が双方向に通ることを確認してください。"
)


def test_lines_fit_their_width_in_display_columns() -> None:
    for width in range(24, 100, 7):
        for line in wrap(STEP_JA, width, "  1. ", "     "):
            hanging = 2 if line[-1:] in "、。）」" else 0  # closing punctuation may hang past the width
            assert columns(line) <= width + hanging, (width, line)


def test_no_break_inside_a_number_or_address_and_no_line_starts_with_closing_punctuation() -> None:
    for width in range(20, 90):
        lines = wrap(STEP_JA + " 203.0.113.10[500]", width, "", "")
        joined = "\n".join(lines)
        assert "500/4500" in joined and "203.0.113.10[500]" in joined
        assert not any(line.lstrip()[:1] in "、。）」" for line in lines[1:])


def test_english_breaks_at_spaces_and_keeps_hyphenated_words() -> None:
    lines = wrap("Open Security & SD-WAN > Configure > Site-to-site VPN > Non-Meraki VPN peers now", 30, "", "")
    assert all(len(line) <= 30 for line in lines)
    assert "Non-Meraki" in "\n".join(lines) and "Site-to-site" in "\n".join(lines)
