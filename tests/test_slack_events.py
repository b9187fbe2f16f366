"""The Slack app end to end: signed requests over HTTP in, Web API calls at the emulator out."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from tests.slack_helpers import CHANNEL, USER, BotHarness, mention_body, message_body, running_bot, sign

# Two MX syslog lines as Slack delivers them in `text`: <, > and & arrive as entities.
PSK_TEXT = (
    "&lt;134&gt;1 1753179611.244272509 MX-HQ events Site-to-site VPN: initiate new phase 1 negotiation: "
    "198.51.100.2[500]&lt;=&gt;203.0.113.10[500]\n"
    "&lt;134&gt;1 1753179613.711178002 MX-HQ events Site-to-site VPN: notification "
    "INVALID-HASH-INFORMATION received in unencrypted informational exchange"
)
PSK_RAW = PSK_TEXT.replace("&lt;", "<").replace("&gt;", ">")


@pytest.fixture
async def bot() -> AsyncIterator[BotHarness]:
    async with running_bot() as harness:
        yield harness


def blocks_text(call) -> str:
    blocks = call.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", ())]
    return "\n".join(parts)


async def test_mention_in_channel_gets_diagnosis_in_thread(bot: BotHarness) -> None:
    body = mention_body(f"can you check this?\n```{PSK_TEXT}```")
    status, _ = await bot.send_event(body)
    assert status == 200
    ts = body["event"]["ts"]
    (reply,) = await bot.replies(thread_ts=ts)
    assert reply["channel"] == CHANNEL
    assert reply["metadata"]["event_type"] == "vpn_diagnosis"
    payload = reply["metadata"]["event_payload"]
    assert "psk-mismatch" in payload["finding_ids"]
    assert "203.0.113.10" in payload["peers"]
    blocks = reply["blocks"]
    assert blocks[0]["type"] == "header" and "Failing" in blocks[0]["text"]["text"]
    text = blocks_text(reply)
    assert "What to do" in text and "1. " in text
    assert "```L" in text and "INVALID-HASH-INFORMATION" in text
    assert "Failing" in reply["text"]
    await bot.emulator.wait_for("reactions.add", 2)
    names = [(c.method, c["name"]) for c in bot.emulator.calls if c.method.startswith("reactions.")]
    assert names == [("reactions.add", "eyes"), ("reactions.remove", "eyes"), ("reactions.add", "x")]
    order = [c.method for c in bot.emulator.calls]
    assert order.index("reactions.add") < order.index("chat.postMessage") < order.index("reactions.remove")


async def test_mention_inside_a_thread_answers_in_that_thread(bot: BotHarness) -> None:
    body = mention_body(PSK_TEXT, thread_ts="1700000000.000001")
    await bot.send_event(body)
    (reply,) = await bot.replies()
    assert reply["thread_ts"] == "1700000000.000001"


async def test_direct_message_is_answered_in_the_dm(bot: BotHarness) -> None:
    body = message_body(PSK_RAW, channel="D777")
    status, _ = await bot.send_event(body)
    assert status == 200
    (reply,) = await bot.replies()
    assert reply["channel"] == "D777" and reply["thread_ts"] == body["event"]["ts"]
    assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]


async def test_other_message_events_are_acknowledged_without_reply(bot: BotHarness) -> None:
    edited = message_body("edited", subtype="message_changed")
    channel_chat = message_body(PSK_RAW, channel="C999", channel_type="channel")
    assert (await bot.send_event(edited))[0] == 200
    assert (await bot.send_event(channel_chat))[0] == 200
    await bot.emulator.settle()
    assert bot.emulator.calls_to("chat.postMessage") == []


async def test_rich_text_blocks_are_preferred_over_text(bot: BotHarness) -> None:
    blocks = [
        {"type": "rich_text", "block_id": "r1", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "user", "user_id": "W111"}]},
            {"type": "rich_text_preformatted", "elements": [
                {"type": "text", "text": PSK_RAW.split("203.0.113.10")[0]},
                {"type": "link", "url": "http://203.0.113.10", "text": "203.0.113.10"},
                {"type": "text", "text": PSK_RAW.split("203.0.113.10", 1)[1]},
            ]},
        ]}
    ]
    await bot.send_event(mention_body("garbled", blocks=blocks))
    (reply,) = await bot.replies()
    assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]


async def test_retry_of_a_handled_event_is_acknowledged_and_ignored(bot: BotHarness) -> None:
    body = mention_body(PSK_TEXT)
    assert (await bot.send_event(body))[0] == 200
    await bot.replies()
    for attempt in (1, 2):
        status, _ = await bot.send_event(body, retry_num=attempt)
        assert status == 200
    await bot.emulator.settle()
    assert len(bot.emulator.calls_to("chat.postMessage")) == 1


async def test_concurrent_original_and_retry_give_one_reply(bot: BotHarness) -> None:
    import asyncio

    body = mention_body(PSK_TEXT)
    statuses = await asyncio.gather(bot.send_event(body), bot.send_event(body, retry_num=1))
    assert [s for s, _ in statuses] == [200, 200]
    await bot.replies()
    await bot.emulator.settle()
    assert len(bot.emulator.calls_to("chat.postMessage")) == 1


async def test_mention_delivered_as_app_mention_and_message_gets_one_reply(bot: BotHarness) -> None:
    mention = mention_body(PSK_TEXT, channel="D555")
    ts = mention["event"]["ts"]
    message = message_body(f"<@W111> {PSK_TEXT}", channel="D555", ts=ts)
    assert (await bot.send_event(message))[0] == 200
    assert (await bot.send_event(mention))[0] == 200
    await bot.replies()
    await bot.emulator.settle()
    assert len(bot.emulator.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda raw: {**sign(raw, secret="not-the-secret")}, id="wrong-secret"),
        pytest.param(lambda raw: sign(raw, timestamp=int(time.time()) - 301), id="stale"),
        pytest.param(lambda raw: {}, id="missing"),
        pytest.param(lambda raw: {**sign(raw), "X-Slack-Signature": "v0=" + "0" * 64}, id="tampered"),
    ],
)
async def test_bad_signature_is_rejected_and_nothing_runs(bot: BotHarness, headers) -> None:
    raw = json.dumps(mention_body(PSK_TEXT))
    status, text = await bot.post_raw(raw, {"Content-Type": "application/json", **headers(raw)})
    assert status == 401
    assert json.loads(text) == {"error": "invalid request"}
    await bot.emulator.settle()
    assert bot.emulator.calls == []


async def test_url_verification_challenge_is_echoed(bot: BotHarness) -> None:
    from tests.slack_emulator import fixture

    body = fixture("url_verification.json")
    status, text = await bot.send_event(body)
    assert status == 200 and json.loads(text)["challenge"] == body["challenge"]


async def test_healthz(bot: BotHarness) -> None:
    url = bot.url.replace("/slack/events", "/healthz")
    async with bot.http.get(url) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_unknown_input_says_what_was_read_and_how_to_copy_the_log(bot: BotHarness) -> None:
    await bot.send_event(mention_body("the tunnel to the branch is down since this morning, any idea?"))
    (reply,) = await bot.replies()
    text = blocks_text(reply)
    assert "did not recognise" in text
    assert "Network-wide > Monitor > Event log" in text.replace("&gt;", ">")
    assert "Non-Meraki" in text
    assert reply["metadata"]["event_payload"]["finding_ids"] == []
    await bot.emulator.wait_for("reactions.add", 2)
    assert bot.emulator.calls_to("reactions.add")[-1]["name"] == "grey_question"


async def test_unknown_input_in_japanese(bot: BotHarness) -> None:
    await bot.send_event(mention_body("lang:ja トンネルが落ちています"))
    (reply,) = await bot.replies()
    text = blocks_text(reply)
    assert "特定できませんでした" in text
    assert "イベントログ" in text


async def test_empty_mention_gets_usage_in_thread(bot: BotHarness) -> None:
    body = mention_body("")
    await bot.send_event(body)
    (reply,) = await bot.replies(thread_ts=body["event"]["ts"])
    assert reply["blocks"][0]["text"]["text"] == "How to use VPN Doctor"
    assert "Non-Meraki VPN" in blocks_text(reply)
    assert "2 MB" in blocks_text(reply)
    assert bot.emulator.calls_to("reactions.add") == []


@pytest.mark.parametrize(
    ("text", "locale", "title"),
    [
        ("help", "en-US", "How to use VPN Doctor"),
        ("ヘルプ", "en-US", "VPN Doctor の使い方"),
        ("help", "ja-JP", "VPN Doctor の使い方"),
        ("", "ja-JP", "VPN Doctor の使い方"),
        ("help lang:en", "ja-JP", "How to use VPN Doctor"),
    ],
)
async def test_help_in_the_users_language(bot: BotHarness, text: str, locale: str, title: str) -> None:
    bot.emulator.set_locale(USER, locale)
    await bot.send_event(mention_body(text))
    (reply,) = await bot.replies()
    assert reply["blocks"][0]["text"]["text"] == title
    lookups = bot.emulator.calls_to("users.info")
    if text in ("ヘルプ", "help lang:en"):
        assert lookups == []
    else:
        (lookup,) = lookups
        assert lookup["user"] == USER and lookup["include_locale"] in ("1", "true", True)


async def test_default_language_setting_applies_when_locale_is_neither() -> None:
    async with running_bot(vpn_doctor_lang="ja") as bot:
        bot.emulator.set_locale(USER, "fr-FR")
        await bot.send_event(mention_body(PSK_TEXT))
        (reply,) = await bot.replies()
        assert "異常" in reply["blocks"][0]["text"]["text"]
        assert "対処手順" in blocks_text(reply)


async def test_japanese_locale_gets_a_japanese_diagnosis(bot: BotHarness) -> None:
    bot.emulator.set_locale(USER, "ja-JP")
    await bot.send_event(mention_body(PSK_TEXT))
    (reply,) = await bot.replies()
    assert "根拠となるログ" in blocks_text(reply)


async def test_lang_directive_beats_the_locale(bot: BotHarness) -> None:
    bot.emulator.set_locale(USER, "ja-JP")
    await bot.send_event(mention_body(f"lang:en {PSK_TEXT}"))
    (reply,) = await bot.replies()
    assert "What to do" in blocks_text(reply)
    assert bot.emulator.calls_to("users.info") == []


async def test_locale_is_looked_up_once_per_user(bot: BotHarness) -> None:
    for _ in range(3):
        await bot.send_event(mention_body(PSK_TEXT))
    await bot.replies(3)
    assert len(bot.emulator.calls_to("users.info")) == 1


async def test_rate_limited_reply_is_retried_after_retry_after(bot: BotHarness) -> None:
    bot.emulator.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
    await bot.send_event(mention_body(PSK_TEXT))
    await bot.emulator.wait_for("chat.postMessage", 2, timeout=15)
    first, second = bot.emulator.calls_to("chat.postMessage")
    assert second.at - first.at >= 1.0
    assert second["metadata"]["event_type"] == "vpn_diagnosis"
