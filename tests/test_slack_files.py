"""Attached log files and snippets: files.info, authenticated download, size limit, non-text files."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.slack_helpers import BotHarness, mention_body, message_body, running_bot
from tests.test_slack_events import PSK_RAW, blocks_text

LIMIT = 4000


@pytest.fixture
async def bot() -> AsyncIterator[BotHarness]:
    async with running_bot(vpn_doctor_max_file_bytes=LIMIT) as harness:
        yield harness


async def test_mention_with_attached_log_file(bot: BotHarness) -> None:
    stub = bot.emulator.add_file("mx-events.log", PSK_RAW + "\n")
    await bot.send_event(mention_body("please check the attached log", files=[stub]))
    (reply,) = await bot.replies()
    (info,) = bot.emulator.calls_to("files.info")
    assert info["file"] == stub["id"] and info.verb == "GET"
    (download,) = bot.emulator.calls_to("file.download")
    assert download.token == bot.emulator.token
    assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]
    assert "mx-events.log" in blocks_text(reply)


async def test_file_share_in_a_direct_message(bot: BotHarness) -> None:
    stub = bot.emulator.add_file("log.txt", PSK_RAW, mode="snippet")
    body = message_body("", subtype="file_share", files=[stub])
    await bot.send_event(body)
    (reply,) = await bot.replies(thread_ts=body["event"]["ts"])
    assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]


async def test_file_over_the_limit_is_refused_naming_the_limit(bot: BotHarness) -> None:
    stub = bot.emulator.add_file("huge.log", PSK_RAW, declared_size=5_500_000)
    await bot.send_event(mention_body("", files=[stub]))
    (reply,) = await bot.replies()
    text = blocks_text(reply)
    assert "huge.log" in text and "5.5 MB" in text and "4 KB" in text
    assert bot.emulator.calls_to("file.download") == []


async def test_file_larger_than_declared_is_cut_off_and_refused(bot: BotHarness) -> None:
    stub = bot.emulator.add_file("liar.log", "x" * (LIMIT * 3), declared_size=100)
    await bot.send_event(mention_body("", files=[stub]))
    (reply,) = await bot.replies()
    assert "4 KB" in blocks_text(reply)
    assert reply.get("metadata") is None


async def test_image_is_skipped_and_pasted_text_still_read(bot: BotHarness) -> None:
    stub = bot.emulator.add_file("screen.png", b"\x89PNG\r\n\x1a\n\x00\x00", mimetype="image/png", filetype="png")
    await bot.send_event(mention_body("see screenshot", files=[stub]))
    (reply,) = await bot.replies()
    text = blocks_text(reply)
    assert "screen.png" in text and "image/png" in text
    assert bot.emulator.calls_to("file.download") == []


async def test_binary_content_is_not_read_as_a_log(bot: BotHarness) -> None:
    stub = bot.emulator.add_file("dump.bin", b"\x00\x01\x02binary", mimetype="application/octet-stream")
    await bot.send_event(mention_body("", files=[stub]))
    (reply,) = await bot.replies()
    assert "does not look like a text log" in blocks_text(reply)


async def test_missing_file_is_reported_not_crashed(bot: BotHarness) -> None:
    await bot.send_event(mention_body("", files=[{"id": "F404", "name": "gone.log"}]))
    (reply,) = await bot.replies()
    assert "could not download gone.log" in blocks_text(reply)


async def test_html_sign_in_page_is_not_taken_for_a_log(bot: BotHarness) -> None:
    """Without files:read Slack answers the download with 200 and a sign-in page."""
    bot.emulator.files_read_granted = False
    stub = bot.emulator.add_file("events.log", PSK_RAW)
    await bot.send_event(mention_body("", files=[stub]))
    (reply,) = await bot.replies()
    assert len(bot.emulator.calls_to("file.download")) == 1
    assert "files:read" in blocks_text(reply)
    assert reply.get("metadata") is None
