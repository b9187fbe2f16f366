"""Drive the real Slack app over real HTTP: signed requests built from Slack's own payload samples.

`running_bot()` starts the Web API emulator, builds the app with `create_app`, serves
it with the production aiohttp application on 127.0.0.1 and yields a `BotHarness`
that sends correctly signed events and shortcuts to it.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.app import create_app
from bot.services import Services
from bot.settings import Settings
from bot.web import SLACK_EVENTS_PATH, create_web_app, slack_routes
from tests.slack_emulator import SlackEmulator, fixture

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
CHANNEL = "C111"
USER = "W222"
_counter = itertools.count(1)


def sign(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds: `v0=` HMAC-SHA256 over `v0:{timestamp}:{body}`."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def next_ts() -> str:
    return f"{1700000000 + next(_counter)}.{next(_counter):06d}"


def mention_body(
    text: str,
    *,
    bot_user_id: str = "W111",
    ts: str | None = None,
    thread_ts: str | None = None,
    channel: str = CHANNEL,
    user: str = USER,
    files: list[dict[str, Any]] | None = None,
    blocks: list[dict[str, Any]] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An `app_mention` envelope (app_mention.json) whose text is `<@bot> text`."""
    body = fixture("app_mention.json")
    ts = ts or next_ts()
    event = body["event"]
    event.update(text=f"<@{bot_user_id}> {text}", ts=ts, event_ts=ts, channel=channel, user=user)
    if thread_ts:
        event["thread_ts"] = thread_ts
    if files:
        event["files"] = files
        event["upload"] = False
    if blocks is not None:
        event["blocks"] = blocks
    body["event_id"] = event_id or f"Ev{next(_counter):08d}"
    return body


def message_body(
    text: str,
    *,
    channel: str = "D111",
    channel_type: str = "im",
    ts: str | None = None,
    user: str = USER,
    files: list[dict[str, Any]] | None = None,
    subtype: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A `message` envelope in the shape of file_share_message.json (files only when given)."""
    body = fixture("file_share_message.json")
    ts = ts or next_ts()
    event = body["event"]
    event.update(text=text, ts=ts, event_ts=ts, channel=channel, channel_type=channel_type, user=user)
    event["blocks"] = [
        {"type": "rich_text", "block_id": "b1", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
        ]}
    ]
    if files:
        event["files"] = files
    else:
        del event["files"], event["upload"]
    if subtype:
        event["subtype"] = subtype
    else:
        event.pop("subtype", None)
    body["event_id"] = event_id or f"Ev{next(_counter):08d}"
    return body


def shortcut_body(message_text: str, response_url: str, *, thread_ts: str | None = None) -> dict[str, Any]:
    """A `message_action` (message_action.json) on a message whose text holds pasted lines."""
    body = fixture("message_action.json")
    body["callback_id"] = "diagnose_message"
    body["response_url"] = response_url
    body["trigger_id"] = f"{next(_counter)}.{next(_counter)}.{next(_counter):08x}"  # one per click, as Slack's are
    message = body["message"]
    message["ts"] = body["message_ts"] = next_ts()
    message["text"] = message_text
    message["blocks"] = [
        {"type": "rich_text", "block_id": "x1", "elements": [
            {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": message_text}]}
        ]}
    ]
    if thread_ts:
        message["thread_ts"] = thread_ts
    return body


@dataclass
class BotHarness:
    emulator: SlackEmulator
    settings: Settings
    url: str
    http: aiohttp.ClientSession

    async def post_raw(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def send_event(
        self, body: dict[str, Any], *, retry_num: int | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        raw = json.dumps(body)
        sent = {"Content-Type": "application/json", **sign(raw)}
        if retry_num is not None:
            sent.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        sent.update(headers or {})
        return await self.post_raw(raw, sent)

    async def send_interactive(self, payload: dict[str, Any]) -> tuple[int, str]:
        raw = "payload=" + quote(json.dumps(payload))
        return await self.post_raw(raw, {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)})

    async def replies(self, count: int = 1, *, thread_ts: str | None = None, timeout: float = 10.0) -> list[Any]:
        return await self.emulator.wait_for(
            "chat.postMessage",
            count,
            timeout=timeout,
            where=lambda c: thread_ts is None or c.get("thread_ts") == thread_ts,
        )


def bot_settings(emulator: SlackEmulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": emulator.token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": emulator.api_url,
        "vpn_doctor_lang": "en",
        # Each harness keeps its own record of answered messages (test message stamps repeat between runs).
        "vpn_doctor_state": "sqlite:///:memory:",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def replica(emulator: SlackEmulator, http: aiohttp.ClientSession, **overrides: Any) -> AsyncIterator[BotHarness]:
    """One bot: its own settings, Services, Bolt app and HTTP server on 127.0.0.1, like one pod."""
    session = aiohttp.ClientSession()
    settings = bot_settings(emulator, **overrides)
    services = Services(settings=settings, session=session)
    bolt_app = create_app(settings, session=session, services=services)
    runner = web.AppRunner(create_web_app(settings, [slack_routes(bolt_app)]), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield BotHarness(emulator, settings, f"http://{host}:{port}{SLACK_EVENTS_PATH}", http)
    finally:
        await runner.cleanup()
        await services.aclose()
        await session.close()


@asynccontextmanager
async def running_bot(**overrides: Any) -> AsyncIterator[BotHarness]:
    emulator = SlackEmulator()
    await emulator.start()
    client = aiohttp.ClientSession()
    try:
        async with replica(emulator, client, **overrides) as harness:
            try:
                yield harness
            finally:
                await emulator.settle(quiet=0.05, timeout=2.0)
    finally:
        await client.close()
        await emulator.stop()


def copy_body(body: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(body)
