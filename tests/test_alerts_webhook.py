"""POST /meraki/webhook: the shared secret, the three alert types, and nothing raw in Slack or logs."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from bot.alerts import start_alerts
from bot.alerts.poster import Poster
from bot.alerts.state.sqlite_store import SqliteStore
from bot.app import create_app, web_client
from bot.services import Services
from tests.alerts_harness import ALERT_CHANNEL, WEBHOOK_SECRET, alert_rig, english_leaks, texts, visible_texts
from tests.slack_emulator import SlackEmulator
from tests.slack_helpers import bot_settings

FRANKFURT = "N_24329104"
PSK_IN_CHANGE = "old-psk-Zr7Q2mVx"

# The default Meraki template's fields (ref §4.1), with our own values.
BASE: dict[str, Any] = {
    "version": "0.1",
    "sharedSecret": WEBHOOK_SECRET,
    "sentAt": "2026-05-01T09:27:29.635515Z",
    "organizationId": "549236",
    "organizationName": "VPN Doctor Demo",
    "organizationUrl": "https://dashboard.meraki.com/o/demo/manage/organization/overview",
    "networkId": FRANKFURT,
    "networkName": "Frankfurt Hub",
    "networkUrl": "https://n1.meraki.com/n/demo/manage/nodes/list",
    "networkTags": ["hub"],
    "deviceSerial": "Q2FR-DEMO-0001",
    "deviceMac": "00:18:0a:00:00:04",
    "deviceName": "fra-mx",
    "deviceUrl": "https://n1.meraki.com/n/demo/manage/nodes/new_list/000000000000",
    "deviceTags": [],
    "deviceModel": "MX",
    "alertId": "0000000000000001",
    "alertLevel": "warning",
    "occurredAt": "2026-05-01T09:27:28.123450Z",
}


def alert(alert_type_id: str, alert_type: str, data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    body.update(alertTypeId=alert_type_id, alertType=alert_type, alertData=data, **changes)
    return body


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "state.sqlite3")


async def _open_incident(rig, store):
    rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
    await rig.wait_alerts()
    deadline = time.monotonic() + 10
    while True:
        posted = [i for i in await store.active_incidents() if i.ts]
        if posted:
            return posted[0]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


async def _polled_after(service, count: int) -> None:
    while service.polls <= count:
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    "secret", [None, "", "wrong-secret", WEBHOOK_SECRET + "x", WEBHOOK_SECRET[:-1], 12345, ["list"]]
)
async def test_a_missing_or_wrong_secret_is_refused_and_not_logged(store, caplog, secret):
    caplog.set_level(logging.DEBUG)
    async with alert_rig([store], start=False) as rig:
        body = alert("vpn_connectivity_change", "VPN connectivity changed", {"connectivity": "false"})
        if secret is None:
            del body["sharedSecret"]
        else:
            body["sharedSecret"] = secret
        assert await rig.webhook(body) == 401
        assert await store.wait_checks(0.05) == []
    assert "refused" in caplog.text
    assert WEBHOOK_SECRET not in caplog.text
    if isinstance(secret, str) and secret:
        assert secret not in caplog.text


async def test_bad_bodies_get_a_clear_status(store, caplog):
    caplog.set_level(logging.DEBUG)
    async with alert_rig([store], start=False) as rig, aiohttp.ClientSession() as http:
        url = rig.base_url + "/meraki/webhook"
        for bad in (b"not json", b'{"a": ', b"42", b'"text"', b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000):
            async with http.post(url, data=bad) as resp:
                assert resp.status == 400, bad[:20]
        async with http.post(url, json=["a", "list"]) as resp:
            assert resp.status == 400
        async with http.post(url, data=b"{" + b" " * 300_000 + b"}") as resp:
            assert resp.status == 413
    assert "Traceback" not in caplog.text


async def test_vpn_connectivity_change_checks_that_network_at_once(store, caplog):
    caplog.set_level(logging.DEBUG)
    async with alert_rig([store], poll_seconds=3600, hold_polls=2) as rig:
        service = rig.services[0]
        await rig.wait_polls(service, 1)
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        rig.dashboard.requests.clear()
        body = alert("vpn_connectivity_change", "VPN connectivity changed", {"connectivity": "false"})
        for _ in range(2):
            before = service.polls
            assert await rig.webhook(body) == 200
            await asyncio.wait_for(_polled_after(service, before), 5)
        [alert_call] = await rig.wait_alerts(timeout=5)
        assert "paris-asa" in texts(alert_call)
        polled = rig.dashboard.requests_to("/appliance/vpn/statuses")
        assert polled and all(("networkIds[]", FRANKFURT) in r.query for r in polled[:2])
    assert WEBHOOK_SECRET not in caplog.text


async def test_a_vpn_settings_change_is_noted_in_the_open_incident_without_values(store):
    async with alert_rig([store]) as rig:
        incident = await _open_incident(rig, store)
        change = {
            "name": "Site-to-site VPN",
            "url": "https://n1.meraki.com/o/demo/manage/configure/vpn_settings",
            "changes": {
                "secret": {"label": "Pre-shared secret", "oldText": PSK_IN_CHANGE, "newText": "new-psk-9a",
                           "changedBy": "Miles Admin"},
                "ike_version": {"label": "IKE version", "oldText": "1", "newText": "2", "changedBy": "Miles Admin"},
            },
            "userId": "646829496481105433",
        }
        assert await rig.webhook(alert("settings_changed", "Settings changed", change)) == 200
        [note] = await rig.wait_thread(incident.ts, lambda c: "Configuration changed by" in texts(c))
        body = texts(note)
        assert "Miles Admin" in body and "IKE version" in body and "Pre-shared secret" in body
        for call in rig.slack.calls:
            sent = json.dumps(call.args)
            assert PSK_IN_CHANGE not in sent and "new-psk-9a" not in sent
            assert '"alertData"' not in sent and "646829496481105433" not in sent, "never raw JSON"


async def test_a_settings_change_elsewhere_is_not_posted(store):
    async with alert_rig([store]) as rig:
        incident = await _open_incident(rig, store)
        change = {"name": "SNMP", "changes": {"snmp": {"label": "SNMP access", "changedBy": "Someone"}}}
        assert await rig.webhook(alert("settings_changed", "Settings changed", change)) == 200
        await rig.slack.settle(quiet=0.3)
        assert not [c for c in rig.thread(incident.ts) if "Configuration changed" in texts(c)]


async def test_a_failover_event_adds_an_uplink_note(store):
    async with alert_rig([store]) as rig:
        incident = await _open_incident(rig, store)
        data = {"uplink": "wan2", "status": "active"}
        assert await rig.webhook(alert("failover_event", "Uplink status changed", data)) == 200
        [note] = await rig.wait_thread(incident.ts, lambda c: "Uplink change" in texts(c))
        assert "fra-mx" in texts(note) and "wan1" in texts(note)


async def test_the_poster_keeps_one_post_per_second_per_channel_and_drops_nothing(tmp_path):
    slack = SlackEmulator()
    await slack.start()
    store = SqliteStore(tmp_path / "state.sqlite3")
    async with aiohttp.ClientSession() as session:
        poster = Poster(web_client(bot_settings(slack), session), store, interval=1.0, max_backoff=0.2)
        slack.fail_next("chat.postMessage", "internal_error")
        try:
            posts = [poster.post(ALERT_CHANNEL, f"message {n}", []) for n in range(3)]
            posts.append(poster.post("C0OTHER", "other channel", []))
            stamps = await asyncio.wait_for(asyncio.gather(*posts), 15)
        finally:
            await poster.close()
    await store.close()
    await slack.stop()
    assert len(set(stamps)) == 4
    delivered = [c for c in slack.calls_to("chat.postMessage") if c.get("channel") == ALERT_CHANNEL]
    sent = [c for c in delivered if c.get("text", "").startswith("message")]
    assert [c["text"] for c in sent][-3:] == ["message 0", "message 1", "message 2"]
    gaps = [b.at - a.at for a, b in itertools.pairwise(delivered)]
    assert all(gap >= 0.95 for gap in gaps), gaps


async def test_the_start_hook_is_off_without_a_channel_and_shares_the_apps_dashboard_with_one(tmp_path, monkeypatch):
    monkeypatch.delenv("MERAKI_API_KEY", raising=False)
    slack = SlackEmulator()
    await slack.start()
    try:
        async with aiohttp.ClientSession() as session:
            off = bot_settings(slack)
            routes: list = []
            idle = Services(settings=off, session=session)
            app_off = create_app(off, session=session, services=idle)
            assert await start_alerts(off, app_off, routes, session, idle) is None
            assert routes == [] and not idle.live.connected, "alerts off: nothing connected for them"
            on = bot_settings(
                slack,
                vpn_doctor_alert_channel=ALERT_CHANNEL,
                vpn_doctor_poll_seconds=0.05,
                vpn_doctor_state=f"sqlite:///{tmp_path / 'hook.sqlite3'}",
                meraki_webhook_secret=WEBHOOK_SECRET,
            )
            services = Services(settings=on, session=session)
            await services.start()
            try:
                live = await services.live.service()
                app = create_app(on, session=session, services=services)
                running = await start_alerts(on, app, routes, session, services)
                assert running is not None and len(routes) == 1
                assert running.service.dashboard is live.client, "/vpn and alerts share one client and rate budget"
                assert running.service.config.demo == live.demo is True
                try:
                    # The demo organisation has peers down: alerts arrive, labelled as demo.
                    calls = await slack.wait_for(
                        "chat.postMessage", 1, where=lambda c: c.get("channel") == ALERT_CHANNEL, timeout=15
                    )
                    assert "Demo organisation" in texts(calls[0])
                finally:
                    await running.stop()
                assert await live.client.peers(), "stopping alerts leaves the shared connection open"
            finally:
                await services.aclose()
    finally:
        await slack.stop()


async def test_webhook_notes_follow_the_configured_language(store):
    async with alert_rig([store], lang="ja") as rig:
        incident = await _open_incident(rig, store)
        change = {
            "name": "Site-to-site VPN",
            "changes": {
                "secret": {"label": "Pre-shared secret", "oldText": PSK_IN_CHANGE, "changedBy": "Miles Admin"},
                "ike_version": {"label": "IKE version", "changedBy": "Miles Admin"},
            },
        }
        assert await rig.webhook(alert("settings_changed", "Settings changed", change)) == 200
        [config] = await rig.wait_thread(incident.ts, lambda c: "が設定を変更しました" in texts(c))
        assert "Miles Admin が設定を変更しました" in texts(config)
        assert "変更箇所: Pre-shared secret、IKE version" in texts(config)
        assert "画面: Site-to-site VPN" in texts(config) and "Meraki からの通知（<!date^" in texts(config)

        failover = alert("failover_event", "Uplink status changed", {"uplink": "wan2"}, occurredAt="not a time")
        assert await rig.webhook(failover) == 200
        [uplink] = await rig.wait_thread(incident.ts, lambda c: "フェイルオーバー" in texts(c))
        assert "fra-mx について Meraki からの通知" in texts(uplink)
        assert "現在のアップリンク:" in texts(uplink) and "wan1: 使用中" in texts(uplink)
        assert english_leaks([*visible_texts(config), *visible_texts(uplink)]) == []


def _records(caplog, logger: str, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno == level]


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found", "invalid_auth"])
async def test_a_refused_channel_holds_its_posts_logs_once_and_backs_off(tmp_path, caplog, error):
    caplog.set_level(logging.DEBUG, logger="bot.alerts.poster")
    slack = SlackEmulator()
    await slack.start()
    store = SqliteStore(tmp_path / "state.sqlite3")
    async with aiohttp.ClientSession() as session:
        poster = Poster(
            web_client(bot_settings(slack), session), store, interval=0.01, blocked_backoff=0.1, max_blocked_backoff=0.3
        )
        for _ in range(4):
            slack.fail_next("chat.postMessage", error)
        try:
            first = asyncio.create_task(poster.post(ALERT_CHANNEL, "message 0", []))
            await slack.wait_for("chat.postMessage", 2)
            second = asyncio.create_task(poster.post(ALERT_CHANNEL, "message 1", []))
            await asyncio.sleep(0.05)
            assert not first.done() and not second.done()
            assert poster.blocked == {ALERT_CHANNEL: error} and poster.backlog(ALERT_CHANNEL) == 1
            stamps = await asyncio.wait_for(asyncio.gather(first, second), 10)
        finally:
            await poster.close()
    await store.close()
    await slack.stop()
    assert len(set(stamps)) == 2 and poster.blocked == {}
    attempts = [c for c in slack.calls_to("chat.postMessage") if c.get("channel") == ALERT_CHANNEL]
    assert [c["text"] for c in attempts] == ["message 0"] * 5 + ["message 1"], "queued in order, none dropped"
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts[:5])]
    expected = [0.1, 0.2, 0.3, 0.3]  # doubling, capped at max_blocked_backoff
    assert all(want - 0.01 <= gap < want + 0.09 for gap, want in zip(gaps, expected, strict=True)), gaps
    [warning] = _records(caplog, "bot.alerts.poster", logging.WARNING)
    assert ALERT_CHANNEL in warning.getMessage() and error in warning.getMessage()
    [resumed] = _records(caplog, "bot.alerts.poster", logging.INFO)
    assert ALERT_CHANNEL in resumed.getMessage()
    assert slack.token not in caplog.text


async def test_a_message_slack_refuses_for_itself_goes_back_to_the_caller(tmp_path):
    slack = SlackEmulator()
    await slack.start()
    store = SqliteStore(tmp_path / "state.sqlite3")
    async with aiohttp.ClientSession() as session:
        poster = Poster(web_client(bot_settings(slack), session), store, interval=0.01, blocked_backoff=0.05)
        slack.fail_next("chat.postMessage", "invalid_blocks")
        try:
            with pytest.raises(SlackApiError):
                await asyncio.wait_for(poster.post(ALERT_CHANNEL, "bad", []), 5)
            assert poster.blocked == {}
            assert await asyncio.wait_for(poster.post(ALERT_CHANNEL, "good", []), 5)
        finally:
            await poster.close()
    await store.close()
    await slack.stop()


async def test_an_alert_held_by_a_channel_the_bot_is_not_in_arrives_once_when_invited(store, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.alerts")
    async with alert_rig([store], blocked_backoff=0.05, max_blocked_backoff=0.2) as rig:
        for _ in range(5):
            rig.slack.fail_next("chat.postMessage", "not_in_channel")
        service = rig.services[0]
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_alerts(count=2)
        polls_when_refused = service.polls
        attempts = await rig.wait_alerts(count=6)
        assert all("paris-asa" in texts(c) for c in attempts)
        assert service.polls > polls_when_refused, "polling went on while the post was held"
        incident = await _open_incident(rig, store)
        await rig.wait_thread(incident.ts, lambda c: "reachability unreachable" in texts(c))
        await rig.wait_polls(service, 5)
        assert len(rig.alerts()) == 6, "five refusals, then the one alert"
    assert len(_records(caplog, "bot.alerts.poster", logging.WARNING)) == 1
    assert not [r for r in caplog.records if r.name == "bot.alerts.incidents" and r.levelno >= logging.WARNING]


async def test_a_failing_parent_update_is_retried_with_a_backoff_and_logged_once(store, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.alerts")
    async with alert_rig([store], retry_seconds=0.05, max_retry_seconds=0.2) as rig:
        incident = await _open_incident(rig, store)
        for _ in range(4):
            rig.slack.fail_next("chat.update", "cant_update_message")
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "reachable")
        updates = await rig.slack.wait_for("chat.update", 5, where=lambda c: c.get("ts") == incident.ts)
        await rig.wait_polls(rig.services[0], 5)
        assert len(rig.updates(incident.ts)) == 5, "four refusals, then the update"
        gaps = [b.at - a.at for a, b in itertools.pairwise(updates)]
        assert all(gap >= 0.045 for gap in gaps) and max(gaps) < 1.0, gaps
        [reply] = [c for c in rig.thread(incident.ts) if "reachable again after" in texts(c)]
        assert reply, "the recovery reply went out once, before the update"
    [warning] = [r for r in caplog.records if r.name == "bot.alerts.incidents" and r.levelno == logging.WARNING]
    assert "cant_update_message" in warning.getMessage() and ALERT_CHANNEL in warning.getMessage()
