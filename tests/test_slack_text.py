"""Undoing Slack's formatting before a paste is diagnosed."""

from __future__ import annotations

from bot.slack_text import message_text, rich_text, unformat


def test_entities_links_mentions_and_fences_are_undone() -> None:
    text = (
        "<@W111> please look\n```2024-05-08 ISAKMP-SA established 198.51.100.2[500]-&gt;203.0.113.10[500]\n"
        "charon: 09[IKE] &lt;peer-1|3&gt; sending DPD request to <http://203.0.113.10|203.0.113.10>\n"
        "racoon: 198.51.100.2[500]&lt;=&gt;203.0.113.10[500] &amp;lt; kept```\n"
        "cc <@U999|alice> <#C123|netops> <!here> <mailto:a@b.example|a@b.example> <https://example.com/x>"
    )
    assert unformat(text, bot_user_id="W111").splitlines() == [
        "please look",
        "2024-05-08 ISAKMP-SA established 198.51.100.2[500]->203.0.113.10[500]",
        "charon: 09[IKE] <peer-1|3> sending DPD request to 203.0.113.10",
        "racoon: 198.51.100.2[500]<=>203.0.113.10[500] &lt; kept",
        "cc @alice #netops @here a@b.example https://example.com/x",
    ]


def test_quotes_inline_code_and_smart_quotes() -> None:
    assert unformat("&gt; quoted `code` \u201cid\u201d") == 'quoted code "id"'


def test_rich_text_blocks_rebuild_the_typed_lines() -> None:
    blocks = [
        {"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": [
                {"type": "user", "user_id": "W111"}, {"type": "text", "text": " check this\n"},
            ]},
            {"type": "rich_text_preformatted", "elements": [
                {"type": "text", "text": "peer "},
                {"type": "link", "url": "http://203.0.113.10", "text": "203.0.113.10"},
                {"type": "text", "text": " <=> me\nline two"},
            ]},
            {"type": "rich_text_list", "style": "bullet", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "emoji", "name": "fire"}]},
            ]},
        ]}
    ]
    assert rich_text(blocks, "W111") == "check this\n\npeer 203.0.113.10 <=> me\nline two\n:fire:"


def test_message_text_prefers_blocks_and_falls_back_to_text() -> None:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": "a<b"}]}
    with_blocks = {"text": "&lt;garbled&gt;", "blocks": [{"type": "rich_text", "elements": [section]}]}
    assert message_text(with_blocks) == "a<b"
    assert message_text({"text": "a &lt;b&gt;", "blocks": [{"type": "section"}]}) == "a <b>"
    assert message_text({}) == ""
