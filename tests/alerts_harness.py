"""A complete alerting set-up for tests: Dashboard emulator, Slack emulator, the real app over HTTP.

`alert_rig()` serves the production aiohttp application (Slack events + the Meraki
webhook route) on 127.0.0.1 with the real Bolt app, and runs one or more AlertServices
against the same state store, so tests flip reachability in the emulator and read what
reached the Slack emulator.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.alerts.service import AlertConfig, AlertService
from bot.alerts.state import StateStore
from bot.app import create_app, web_client
from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator, DemoData, loopback_session
from bot.locale.alerts import load_alert_locale
from bot.web import SLACK_EVENTS_PATH, create_web_app, slack_routes
from tests.slack_emulator import ApiCall, SlackEmulator
from tests.slack_helpers import bot_settings, sign

ALERT_CHANNEL = "C0ALERTS"
DASHBOARD_KEY = "alerts-test-key"
WEBHOOK_SECRET = "meraki-shared-secret-4d1f9a"
CLICKER = "W222"


def calm_demo() -> DemoData:
    """The demo organisation with every third-party peer reachable, the baseline tests flip from."""
    data = DemoData.load().copy()
    for status in data.vpn_statuses:
        for peer in status["thirdPartyVpnPeers"]:
            peer["reachability"] = "reachable"
    return data


def is_alert(call: ApiCall) -> bool:
    return call.get("channel") == ALERT_CHANNEL and not call.get("thread_ts")


def texts(call: ApiCall) -> str:
    """Everything a person could read in a posted message: fallback text and block texts."""
    return call.get("text", "") + "\n" + json.dumps(call.get("blocks") or [], ensure_ascii=False)


def english_fragments() -> set[str]:
    """The wording of every English alert text (between placeholders, without emoji codes) absent from its Japanese."""
    locale = load_alert_locale()
    found = set()
    for key in locale.keys:
        en, ja = locale.raw(key, "en"), locale.raw(key, "ja")
        for part in re.split(r"\{[a-z_]+\}", re.sub(r":[a-z_]+:", "", en)):
            fragment = part.strip(" *().,;:–-\n")
            if len(fragment) >= 5 and re.search("[a-z]", fragment) and fragment not in ja:
                found.add(fragment)
    return found


def english_leaks(strings: list[str]) -> list[str]:
    """Alert wording left in English inside texts that should be all Japanese."""
    fragments = english_fragments()
    return sorted({f for text in strings for f in fragments if f in text})


def block_texts(blocks: Any) -> list[str]:
    """Every `text` string inside Block Kit blocks: what Slack shows, without IDs or JSON keys."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


def visible_texts(call: ApiCall) -> list[str]:
    """What Slack shows of a posted message: the fallback and the block texts."""
    return [call.get("text", ""), *block_texts(call.get("blocks") or [])]


@dataclass
class AlertRig:
    slack: SlackEmulator
    dashboard: DashboardEmulator
    http: aiohttp.ClientSession
    base_url: str
    services: list[AlertService] = field(default_factory=list)

    def alerts(self) -> list[ApiCall]:
        return [c for c in self.slack.calls_to("chat.postMessage") if is_alert(c)]

    def thread(self, ts: str) -> list[ApiCall]:
        return [c for c in self.slack.calls_to("chat.postMessage") if c.get("thread_ts") == ts]

    def updates(self, ts: str) -> list[ApiCall]:
        return [c for c in self.slack.calls_to("chat.update") if c.get("ts") == ts]

    async def wait_alerts(self, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        return await self.slack.wait_for("chat.postMessage", count, timeout=timeout, where=is_alert)

    async def wait_thread(
        self, ts: str, where: Callable[[ApiCall], bool] = lambda _: True, count: int = 1, timeout: float = 10.0
    ) -> list[ApiCall]:
        return await self.slack.wait_for(
            "chat.postMessage", count, timeout=timeout, where=lambda c: c.get("thread_ts") == ts and where(c)
        )

    async def wait_update(
        self, ts: str, where: Callable[[ApiCall], bool] = lambda _: True, timeout: float = 10.0
    ) -> list[ApiCall]:
        return await self.slack.wait_for(
            "chat.update", 1, timeout=timeout, where=lambda c: c.get("ts") == ts and where(c)
        )

    async def wait_polls(self, service: AlertService, count: int, timeout: float = 10.0) -> None:
        target = service.polls + count
        deadline = time.monotonic() + timeout
        while service.polls < target:
            assert time.monotonic() < deadline, f"only {service.polls} polls"
            await asyncio.sleep(0.01)

    async def click(self, action_id: str, incident_id: str, message_ts: str) -> int:
        """A signed block_actions request, shaped like Slack's sample, for a button on the alert."""
        payload = {
            "type": "block_actions",
            "user": {"id": CLICKER, "username": "oncall", "name": "oncall", "team_id": "T111"},
            "api_app_id": "A111",
            "token": "verification_token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": ALERT_CHANNEL,
                          "is_ephemeral": False},
            "trigger_id": "111.222.valid",
            "team": {"id": "T111", "domain": "workspace-domain"},
            "channel": {"id": ALERT_CHANNEL, "name": "vpn-alerts"},
            "response_url": self.slack.response_url("alert-button"),
            "actions": [
                {"action_id": action_id, "block_id": "vpn_alert_actions", "type": "button", "value": incident_id,
                 "text": {"type": "plain_text", "text": action_id, "emoji": True},
                 "action_ts": f"{time.time():.6f}"}
            ],
        }
        raw = "payload=" + quote(json.dumps(payload))
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)}
        async with self.http.post(self.base_url + SLACK_EVENTS_PATH, data=raw.encode(), headers=headers) as resp:
            return resp.status

    async def webhook(self, body: dict[str, Any]) -> int:
        async with self.http.post(self.base_url + "/meraki/webhook", json=body) as resp:
            return resp.status


def alert_config(**overrides: Any) -> AlertConfig:
    values: dict[str, Any] = {
        "channel": ALERT_CHANNEL,
        "poll_seconds": 0.05,
        "hold_polls": 2,
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        "lease_seconds": 1.0,
        "post_interval": 0.02,
        "demo": True,
    }
    values.update(overrides)
    return AlertConfig(**values)


@asynccontextmanager
async def alert_rig(
    stores: list[StateStore],
    *,
    data: DemoData | None = None,
    start: bool = True,
    clock: Callable[[], float] = time.time,
    **config: Any,
) -> AsyncIterator[AlertRig]:
    """One AlertService per store (stores may share a backend), all served by one web app."""
    slack = SlackEmulator()
    await slack.start()
    dashboard = DashboardEmulator(data or calm_demo(), api_key=DASHBOARD_KEY)
    await dashboard.start()
    session = loopback_session()
    settings = bot_settings(slack)
    bolt_app = create_app(settings, session=session)
    services = []
    for store in stores:
        client = DashboardClient(
            DASHBOARD_KEY, base_url=dashboard.base_url, session=session, rps=200, failure_backoff=0.01
        )
        slack_client = web_client(settings, session)
        service = AlertService(alert_config(**config), dashboard=client, slack=slack_client, store=store, clock=clock)
        services.append(service)
    services[0].attach(bolt_app)
    runner = web.AppRunner(create_web_app(settings, [slack_routes(bolt_app), services[0].route]), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    http = aiohttp.ClientSession()
    rig = AlertRig(slack, dashboard, http, f"http://{host}:{port}", services)
    try:
        if start:
            for service in services:
                await service.start()
        yield rig
    finally:
        for service in rig.services:
            await service.stop()
        await http.close()
        await runner.cleanup()
        await session.close()
        await dashboard.close()
        await slack.stop()
