"""Requests an attacker or a broken proxy sends to /slack/events: none may reach the app.

Each one goes over real HTTP to the production aiohttp application; the Web API emulator
records every call the bot makes, so "no action" is checked as "no call at all".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from urllib.parse import quote

import pytest
from aiohttp import web

from tests.slack_helpers import SIGNING_SECRET, mention_body, running_bot, shortcut_body, sign
from tests.test_slack_events import PSK_RAW, PSK_TEXT

BAD_TIMESTAMPS = ["abc", "", "1e9", "9" * 30, "-1", " 1700000000", "1700000000.5", "0x10"]


@pytest.mark.parametrize("stamp", BAD_TIMESTAMPS)
async def test_a_timestamp_that_is_not_a_number_gets_401_and_no_action(
    stamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot() as bot:
        raw = json.dumps(mention_body(PSK_TEXT))
        headers = {"Content-Type": "application/json", **sign(raw), "X-Slack-Request-Timestamp": stamp}
        status, _ = await bot.post_raw(raw, headers)
        assert status == 401
        await bot.emulator.settle(quiet=0.2, timeout=2.0)
        assert bot.emulator.calls == []
    rejected = [r for r in caplog.records if "rejected slack request" in r.getMessage()]
    assert len(rejected) == 1 and rejected[0].exc_info is None
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text


async def test_fifty_unsigned_requests_in_parallel_make_no_web_api_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot() as bot:
        raw = json.dumps(mention_body(PSK_TEXT))
        forged = [
            {"Content-Type": "application/json", **sign(raw), "X-Slack-Request-Timestamp": BAD_TIMESTAMPS[i % 4]}
            for i in range(50)
        ]
        statuses = await asyncio.gather(*(bot.post_raw(raw, headers) for headers in forged))
        assert [status for status, _ in statuses] == [401] * 50
        await bot.emulator.settle(quiet=0.3, timeout=3.0)
        assert bot.emulator.calls == []
    assert "Traceback" not in caplog.text
    assert len([r for r in caplog.records if "rejected slack request" in r.getMessage()]) == 50


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Signature": "v0=" + "0" * 64},
        {"X-Slack-Signature": "garbage"},
        {"X-Slack-Request-Timestamp": str(int(time.time()) - 3600)},
    ],
    ids=["unsigned", "wrong-signature", "not-v0", "stale"],
)
async def test_unsigned_wrong_and_stale_requests_get_401(headers: dict[str, str]) -> None:
    async with running_bot() as bot:
        raw = json.dumps(mention_body(PSK_TEXT))
        sent = {"Content-Type": "application/json", **sign(raw)}
        if not headers:
            sent = {"Content-Type": "application/json"}
        elif "X-Slack-Request-Timestamp" in headers:
            stale = int(headers["X-Slack-Request-Timestamp"])
            sent = {"Content-Type": "application/json", **sign(raw, timestamp=stale)}
        else:
            sent.update(headers)
        status, _ = await bot.post_raw(raw, sent)
        assert status == 401
        await bot.emulator.settle(quiet=0.2, timeout=2.0)
        assert bot.emulator.calls == []


MALFORMED = {
    "broken-json": ("application/json", b'{"type": "event_callback", '),
    "json-array": ("application/json", b'[{"type": "event_callback"}]'),
    "json-scalar": ("application/json", b"42"),
    "json-string": ("application/json", b'"hello"'),
    "deep-nesting": ("application/json", b"[" * 100_000 + b"]" * 100_000),
    "invalid-utf8": ("application/json", b'{"type": "\xff\xfe"}'),
    "broken-form-payload": ("application/x-www-form-urlencoded", b"payload=%7B%22type%22"),
    "form-payload-array": ("application/x-www-form-urlencoded", b"payload=" + quote("[1, 2]").encode()),
    "form-invalid-utf8": ("application/x-www-form-urlencoded", b"payload=\xff"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_signed_but_malformed_body_gets_400_without_a_traceback(
    case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    content_type, body = MALFORMED[case]
    async with running_bot() as bot:
        stamp = str(int(time.time()))
        mac = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + mac}
        async with bot.http.post(bot.url, data=body, headers=headers) as response:
            assert response.status == 400
        await bot.emulator.settle(quiet=0.2, timeout=2.0)
        assert bot.emulator.calls == []
    assert "Traceback" not in caplog.text


async def test_signed_requests_still_reach_the_app() -> None:
    async with running_bot() as bot:
        body = mention_body(PSK_TEXT)
        status, _ = await bot.send_event(body)
        assert status == 200
        (reply,) = await bot.replies()
        assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]
        status, _ = await bot.send_interactive(shortcut_body(PSK_TEXT, bot.emulator.base_url + "/response"))
        assert status == 200


async def _token_trap() -> tuple[web.AppRunner, list[str], str]:
    """A server on another port of the same host that records any Authorization header it is sent."""
    seen: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(text=PSK_RAW)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, seen, f"http://{host}:{port}"


async def test_the_bot_token_never_goes_to_another_port_of_the_slack_api_host() -> None:
    runner, seen, trap_url = await _token_trap()
    try:
        async with running_bot() as harness:
            stub = harness.emulator.add_file("mx.log", PSK_RAW, url_base=trap_url)
            await harness.send_event(mention_body("see the attached log", files=[stub]))
            (reply,) = await harness.replies()
            assert "mx.log" in json.dumps(reply.args)
            assert harness.emulator.token not in json.dumps(seen)
            assert seen == []
    finally:
        await runner.cleanup()
