"""The real Slack app over HTTP with live lookups aimed at a Dashboard emulator of the test's own.

`live_bot()` serves the app exactly as `running_bot()` does, but hands Services a
LiveService whose client talks to a `DashboardEmulator` (demo organisation, fault
injection, request record) with fast pacing and short back-offs, so fault tests stay quick.
Slash commands are signed form bodies built from Slack's own sample (slash_command.txt).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator, DemoData, loopback_session
from bot.live import LiveService
from bot.services import Services
from bot.web import SLACK_EVENTS_PATH, create_web_app, slack_routes
from tests.slack_emulator import FIXTURES, ApiCall, SlackEmulator, fixture
from tests.slack_helpers import CHANNEL, USER, BotHarness, bot_settings, next_ts, sign

DASHBOARD_KEY = "live-slack-test-key"
PSKS = [p["secret"] for p in DemoData.load().peers["peers"]]


def slash_body(text: str, response_url: str, *, channel: str = CHANNEL, user: str = USER) -> str:
    """The form body Slack posts for `/vpn <text>`, from the slash_command.txt sample."""
    fields = dict(parse_qsl((FIXTURES / "slash_command.txt").read_text(encoding="utf-8").strip()))
    fields.update(command="/vpn", text=text, channel_id=channel, user_id=user, response_url=response_url)
    return urlencode(fields)


def button_payload(value: str, *, thread_ts: str, response_url: str, user: str = USER) -> dict[str, Any]:
    """A block_actions click on a "Fetch live data" button inside a thread (block_actions.json)."""
    body = fixture("block_actions.json")
    ts = next_ts()
    body["user"]["id"] = user
    body["response_url"] = response_url
    body["container"] = {
        "type": "message", "message_ts": ts, "channel_id": CHANNEL, "is_ephemeral": False, "thread_ts": thread_ts
    }
    body["channel"] = {"id": CHANNEL, "name": "network-ops"}
    body["message"] = {"type": "message", "ts": ts, "thread_ts": thread_ts, "text": "diagnosis", "user": "W111"}
    body["actions"] = [{
        "action_id": "fetch_live", "block_id": "fetch_live:0", "type": "button", "value": value,
        "text": {"type": "plain_text", "text": "Fetch live data", "emoji": True}, "action_ts": ts,
    }]
    return body


def blocks_of(call: ApiCall | dict[str, Any]) -> list[dict[str, Any]]:
    blocks = call.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def all_text(call: ApiCall | dict[str, Any]) -> str:
    """Every piece of text a Slack message shows: fallback, sections, contexts, headers, buttons."""
    parts = [str(call.get("text") or "")]
    for block in blocks_of(call):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        for element in block.get("elements", ()):
            parts.append(element["text"] if isinstance(element.get("text"), str) else json.dumps(element))
        if "accessory" in block:
            parts.append(json.dumps(block["accessory"], ensure_ascii=False))
    return "\n".join(parts)


def audit_records(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in records if r.name == "bot.audit"]


async def wait_audit(records: list[logging.LogRecord], count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The audit lines, once `count` are written: handlers write them after their last Slack call
    returns, so they can trail the message the emulator has already recorded."""
    deadline = time.monotonic() + timeout
    while len(found := audit_records(records)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return found


@dataclass
class LiveHarness:
    bot: BotHarness
    dashboard: DashboardEmulator
    services: Services

    @property
    def slack(self) -> SlackEmulator:
        return self.bot.emulator

    async def command(self, text: str, *, channel: str = CHANNEL, user: str = USER) -> tuple[int, str]:
        raw = slash_body(text, self.slack.response_url("vpn"), channel=channel, user=user)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)}
        return await self.bot.post_raw(raw, headers)

    async def ephemeral(self, count: int = 1) -> list[ApiCall]:
        return await self.slack.wait_for("response_url", count)

    async def thread_answer(self, parent_ts: str) -> ApiCall:
        (answer,) = await self.slack.wait_for("chat.postMessage", where=lambda c: c.get("thread_ts") == parent_ts)
        return answer

    async def parent_and_answer(self) -> tuple[ApiCall, ApiCall, ApiCall]:
        """The "Checking…" parent, the answer in its thread, and the parent's update."""
        (update,) = await self.slack.wait_for("chat.update")
        parent = next(c for c in self.slack.calls_to("chat.postMessage") if not c.get("thread_ts"))
        assert update["ts"] and update["channel"] == parent["channel"]
        answer = await self.thread_answer(update["ts"])
        return parent, answer, update


@asynccontextmanager
async def live_bot(**overrides: Any) -> AsyncIterator[LiveHarness]:
    slack = SlackEmulator()
    await slack.start()
    session = aiohttp.ClientSession()
    dashboard = DashboardEmulator(api_key=DASHBOARD_KEY, shard_host="n77.meraki.com")
    await dashboard.start()
    dashboard_session = loopback_session()
    client = DashboardClient(
        DASHBOARD_KEY, base_url=dashboard.base_url, session=dashboard_session, rps=50,
        failure_backoff=0.01, backoff_cap=0.05, timeout=2.0,
    )
    settings = bot_settings(slack, **overrides)
    services = Services(settings=settings, session=session, live_service=LiveService(client, demo=True))
    bolt_app = create_app(settings, session=session, services=services)
    runner = web.AppRunner(create_web_app(settings, [slack_routes(bolt_app)]), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    http = aiohttp.ClientSession()
    try:
        bot = BotHarness(slack, settings, f"http://{host}:{port}{SLACK_EVENTS_PATH}", http)
        yield LiveHarness(bot, dashboard, services)
    finally:
        await slack.settle(quiet=0.05, timeout=2.0)
        await http.close()
        await runner.cleanup()
        await services.aclose()
        await dashboard_session.close()
        await dashboard.close()
        await session.close()
        await slack.stop()
