"""The `diagnose_message` message shortcut: someone else's paste, answered in its thread."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import pytest

from tests.slack_helpers import CHANNEL, BotHarness, running_bot, shortcut_body
from tests.test_slack_events import PSK_RAW, blocks_text


@pytest.fixture
async def bot() -> AsyncIterator[BotHarness]:
    async with running_bot() as harness:
        yield harness


async def test_shortcut_diagnoses_the_message_in_its_thread(bot: BotHarness) -> None:
    body = shortcut_body(PSK_RAW, bot.emulator.response_url())
    status, text = await bot.send_interactive(body)
    assert status == 200 and text == ""
    (reply,) = await bot.replies()
    assert reply["channel"] == CHANNEL
    assert reply["thread_ts"] == body["message"]["ts"]
    assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]
    (lookup,) = bot.emulator.calls_to("users.info")
    assert lookup["user"] == body["user"]["id"]


async def test_shortcut_on_a_threaded_message_answers_in_that_thread(bot: BotHarness) -> None:
    body = shortcut_body(PSK_RAW, bot.emulator.response_url(), thread_ts="1700000000.000009")
    await bot.send_interactive(body)
    (reply,) = await bot.replies()
    assert reply["thread_ts"] == "1700000000.000009"


async def test_shortcut_where_the_bot_is_not_a_member_tells_the_user_privately(bot: BotHarness) -> None:
    bot.emulator.not_member_of.add(CHANNEL)
    await bot.send_interactive(shortcut_body(PSK_RAW, bot.emulator.response_url()))
    (private,) = await bot.emulator.wait_for("response_url")
    assert private["response_type"] == "ephemeral"
    assert "/invite" in private["text"]


async def test_shortcut_with_another_callback_id_is_not_ours(bot: BotHarness) -> None:
    body = shortcut_body(PSK_RAW, bot.emulator.response_url())
    body["callback_id"] = "something_else"
    status, _ = await bot.send_interactive(body)
    assert status == 404
    await bot.emulator.settle()
    assert bot.emulator.calls_to("chat.postMessage") == []


async def test_shortcut_on_a_message_without_logs(bot: BotHarness) -> None:
    await bot.send_interactive(shortcut_body("lunch at noon?", bot.emulator.response_url()))
    (reply,) = await bot.replies()
    assert "did not recognise" in blocks_text(reply)


async def test_the_same_shortcut_click_delivered_twice_is_answered_once(bot: BotHarness) -> None:
    payload = shortcut_body(PSK_RAW, bot.emulator.response_url())
    assert (await bot.send_interactive(payload))[0] == 200
    assert (await bot.send_interactive(copy.deepcopy(payload)))[0] == 200
    await bot.replies()
    await bot.emulator.settle(quiet=0.3)
    assert len(bot.emulator.calls_to("chat.postMessage")) == 1
    again = shortcut_body(PSK_RAW, bot.emulator.response_url())
    assert (await bot.send_interactive(again))[0] == 200
    await bot.replies(2)
