"""No secret anywhere: every log line and every Slack request of a bot put through a hostile day.

`python -m bot` runs in HTTP mode at DEBUG with every secret configured (signing secret,
bot token, Dashboard key, webhook secret) against the Dashboard emulator, whose peer list
also holds a malformed peer. It is sent forged and malformed requests, pastes, live
lookups, a webhook with a wrong secret and one carrying a changed pre-shared key; then
every line it logged and every argument of every Slack Web API call it made is searched
for each secret and each pre-shared key of the organisation.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import aiohttp

from bot.dashboard.emulator import DashboardEmulator
from tests.live_helpers import slash_body
from tests.slack_helpers import SIGNING_SECRET, mention_body
from tests.test_alerts_webhook import BASE, PSK_IN_CHANGE
from tests.test_ops_http import bot_process, pasted_lines

MERAKI_KEY = "fault-suite-dashboard-key-7f3a9c"
WEBHOOK_SECRET = "fault-suite-webhook-secret-51d2"
BROKEN_PEER_PSK = "psk-of-a-peer-without-a-name-88e1"
FORGED_STAMPS = ["abc", "", "1e9", "9" * 30, "-1", " 1700000000", "1700000000.5", "0x6553f100"]


async def _post(http: aiohttp.ClientSession, url: str, data: bytes, headers: dict[str, str]) -> int:
    async with http.post(url, data=data, headers=headers) as response:
        return response.status


async def test_no_secret_or_psk_appears_in_any_log_line_or_slack_request(tmp_path: Path) -> None:
    async with DashboardEmulator(api_key=MERAKI_KEY) as dashboard:
        dashboard.data.peers["peers"].append({"publicIp": "198.51.100.99", "secret": BROKEN_PEER_PSK})
        psks = [p["secret"] for p in dashboard.data.peers["peers"] if p.get("secret")]
        env = {
            "MERAKI_API_KEY": MERAKI_KEY,
            "MERAKI_BASE_URL": dashboard.base_url,
            "MERAKI_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "VPN_DOCTOR_ALERT_CHANNEL": "C0ALERTS",
            "VPN_DOCTOR_POLL_SECONDS": "2",
            "LOG_LEVEL": "DEBUG",
        }
        async with bot_process(tmp_path, **env) as bot:
            events = bot.base + "/slack/events"
            body = json.dumps(mention_body(pasted_lines())).encode()
            await bot.emulator.settle(quiet=0.5)
            before = len(bot.emulator.calls)
            forged = [
                await _post(bot.http, events, body, {
                    "Content-Type": "application/json",
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": "v0=" + "0" * 64,
                })
                for stamp in FORGED_STAMPS
            ]
            assert forged == [401] * len(FORGED_STAMPS)
            await bot.emulator.settle(quiet=0.5)
            assert [c.method for c in bot.emulator.calls[before:] if c.get("channel") != "C0ALERTS"] == []

            await bot.mention(pasted_lines())
            await bot.mention("what is wrong with azure-prod-vnet?")
            for peer in ("azure-prod-vnet", "singapore-colo", "frankfurt-aws"):
                assert await bot.post_form(slash_body(peer, bot.emulator.response_url("vpn"))) == 200
            assert await bot.post_form(slash_body("status", bot.emulator.response_url("vpn"))) == 200
            assert await bot.post_form(slash_body("peers", bot.emulator.response_url("vpn"))) == 200

            webhook = bot.base + "/meraki/webhook"
            change = copy.deepcopy(BASE)
            change.update(
                alertTypeId="settings_changed",
                alertType="Settings changed",
                alertData={"changes": {"secret": {"label": "Pre-shared secret", "oldText": PSK_IN_CHANGE,
                                                  "newText": "new-psk-fault-suite", "changedBy": "Miles Admin"}}},
            )
            wrong = {**change, "sharedSecret": "not-the-secret"}
            headers = {"Content-Type": "application/json"}
            assert await _post(bot.http, webhook, json.dumps(wrong).encode(), headers) == 401
            assert await _post(bot.http, webhook, json.dumps({**change, "sharedSecret": WEBHOOK_SECRET}).encode(),
                               headers) == 200

            await bot.emulator.wait_for("chat.postMessage", 6, timeout=60)
            await bot.emulator.settle(quiet=1.0, timeout=30)
    logged = "\n".join(bot.stderr)
    sent = json.dumps([c.args for c in bot.emulator.calls], ensure_ascii=False)
    secrets = {
        "signing secret": SIGNING_SECRET,
        "bot token": bot.emulator.token,
        "Dashboard key": MERAKI_KEY,
        "webhook secret": WEBHOOK_SECRET,
        "old PSK in a change": PSK_IN_CHANGE,
        "new PSK in a change": "new-psk-fault-suite",
        **{f"PSK {n}": psk for n, psk in enumerate(psks)},
    }
    assert len(psks) >= 5
    found = [name for name, value in secrets.items() if value in logged or value in sent]
    assert found == [], f"secrets found: {found}"
    assert len(bot.stderr) > 50, "the bot logged at DEBUG"
    assert any("skipped item" in line for line in bot.stderr), "the malformed peer was reported"
    assert not any("Traceback" in line for line in bot.stderr)
