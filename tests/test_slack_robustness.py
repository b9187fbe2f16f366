"""Long results, unexpected errors and what reaches the log."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from tests.slack_helpers import SIGNING_SECRET, mention_body, running_bot, sign
from tests.test_slack_events import PSK_RAW, PSK_TEXT, blocks_text

LOGS = Path(__file__).parent / "fixtures" / "logs"


def many_failures_log() -> str:
    """Syslog samples of every failure kind, several peers in one paste."""
    parts = [p.read_text().split("---", 2)[2].strip() for p in sorted(LOGS.glob("*/syslog-positive.log"))]
    return "\n".join(parts)


async def test_long_result_is_summarised_and_the_full_report_attached() -> None:
    text = many_failures_log()
    async with running_bot() as bot:
        body = mention_body(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
        await bot.send_event(body)
        (reply,) = await bot.replies()
        ids = reply["metadata"]["event_payload"]["finding_ids"]
        assert len(ids) >= 6, "the sample should produce more findings than one message holds"
        blocks = reply["blocks"]
        assert len(blocks) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
        assert "The full report is attached" in blocks_text(reply)
        (complete,) = await bot.emulator.wait_for("files.completeUploadExternal")
        assert complete["channel_id"] == body["event"]["channel"]
        assert complete["thread_ts"] == body["event"]["ts"]
        (shared,) = json.loads(complete["files"])
        uploaded = bot.emulator.uploads[shared["id"]]
        report = uploaded["content"].decode()
        assert uploaded["filename"] == "vpn-doctor-report.txt"
        for title in ("Aggressive mode", "Phase 2"):
            assert title.lower() in report.lower()
        assert report.count("What to do:") == len(ids)


async def test_unexpected_error_gets_an_apology_with_correlation_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot() as bot:
        bot.emulator.fail_next("chat.postMessage", "internal_error")
        body = mention_body(PSK_TEXT)
        status, _ = await bot.send_event(body)
        assert status == 200
        _failed, apology = await bot.emulator.wait_for("chat.postMessage", 2)
        assert apology["thread_ts"] == body["event"]["ts"]
        text = apology["text"]
        match = re.search(r"Reference: `([0-9a-f]{12})`", text)
        assert match, text
        assert "Traceback" not in json.dumps(apology.args) and "SlackApiError" not in json.dumps(apology.args)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR and match.group(1) in r.getMessage()]
        assert errors and errors[0].exc_info is not None
        await bot.emulator.wait_for("reactions.add", 2)
        assert bot.emulator.calls_to("reactions.add")[-1]["name"] == "warning"


async def test_logs_at_info_hold_no_tokens_and_no_pasted_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.INFO)
    secret_line = "203.0.113.10[500]"
    async with running_bot() as bot:
        token = bot.emulator.token
        stub = bot.emulator.add_file("events.log", PSK_RAW)
        await bot.send_event(mention_body(PSK_TEXT))
        await bot.send_event(mention_body("", files=[stub]))
        raw = json.dumps(mention_body(PSK_TEXT))
        headers = {"Content-Type": "application/json", **sign(raw, secret="wrong")}
        assert (await bot.post_raw(raw, headers))[0] == 401
        await bot.replies(2)
        body = mention_body(PSK_TEXT)
        await bot.send_event(body)
        await bot.send_event(body, retry_num=1)
        await bot.replies(3)
        await bot.emulator.settle()
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert any(r.name.startswith("bot.") for r in records), "the bot should log what it did"
    for record in records:
        message = record.getMessage()
        for forbidden in (token, SIGNING_SECRET, secret_line, "INVALID-HASH-INFORMATION", "MX-HQ"):
            assert forbidden not in message, (record.name, message)
