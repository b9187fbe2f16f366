"""Alerts end to end on SQLite: flips in the Dashboard emulator, posts at the Slack emulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.alerts.render import ACTION_ACK, ACTION_MUTE, ACTION_REDIAGNOSE
from bot.alerts.service import AlertService
from bot.alerts.state.sqlite_store import SqliteStore
from tests.alerts_harness import (
    ALERT_CHANNEL,
    CLICKER,
    alert_config,
    alert_rig,
    block_texts,
    english_leaks,
    texts,
    visible_texts,
)

FRANKFURT = "N_24329104"
TOKYO = "N_24329101"


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "state.sqlite3")


async def test_a_peer_down_gives_one_alert_with_the_diagnosis_in_its_thread(store):
    async with alert_rig([store]) as rig:
        service = rig.services[0]
        await rig.wait_polls(service, 3)
        assert rig.slack.calls_to("chat.postMessage") == [], "no start-up or heartbeat message in the channel"
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        [alert] = await rig.wait_alerts()
        body = texts(alert)
        for expected in ("paris-asa", "198.51.100.60", "Frankfurt Hub", "Down since", "<!date^", "Severity", "Warning"):
            assert expected in body
        assert [e["action_id"] for e in alert["blocks"][-1]["elements"]] == [
            ACTION_REDIAGNOSE, ACTION_ACK, ACTION_MUTE,
        ]
        ts = (await _posted_incident(store)).ts
        [diagnosis] = await rig.wait_thread(ts, lambda c: "reachability unreachable" in texts(c))
        assert "paris-asa" in texts(diagnosis) and "Frankfurt Hub" in texts(diagnosis)
        assert any(b["type"] == "header" for b in diagnosis["blocks"]), "the engine's diagnosis follows the facts"
        assert diagnosis["text"].startswith(("paris-asa: Failing", "paris-asa: Degraded")), diagnosis["text"]
        await rig.wait_polls(service, 10)
        assert len(rig.alerts()) == 1, "a peer that stays down is alerted once"


async def test_a_one_poll_blip_is_held_down(store):
    async with alert_rig([store], hold_polls=3, start=False) as rig:
        service = rig.services[0]
        for _ in range(2):
            await service.poller.poll()
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await service.poller.poll()
        await service.poller.poll()
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "reachable")
        await service.poller.poll()
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await service.poller.poll()
        await service.desk.reconcile()
        assert rig.alerts() == []
        await service.poller.poll()
        await service.poller.poll()
        await service.desk.reconcile()
        assert len(rig.alerts()) == 1


async def test_several_peers_down_on_one_mx_make_one_grouped_message_with_uplinks(store):
    async with alert_rig([store]) as rig:
        await rig.wait_polls(rig.services[0], 2)
        rig.dashboard.set_reachability(TOKYO, "azure-prod-vnet", "unreachable")
        rig.dashboard.set_reachability(TOKYO, "singapore-colo", "failed")
        [alert] = await rig.wait_alerts()
        body = texts(alert)
        assert "2 VPN peers down on Tokyo DC" in body
        assert "azure-prod-vnet" in body and "singapore-colo" in body
        assert "wan1: active 192.0.2.10" in body, "the grouped message carries the uplink status"
        assert "Critical" in body
        await rig.wait_polls(rig.services[0], 5)
        assert len(rig.alerts()) == 1


async def test_recovery_is_threaded_with_the_outage_and_the_parent_shows_resolved(store):
    async with alert_rig([store]) as rig:
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_alerts()
        incident = await _posted_incident(store)
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "reachable")
        [reply] = await rig.wait_thread(incident.ts, lambda c: "reachable again after" in texts(c))
        assert "paris-asa" in reply["text"]
        [update] = await rig.wait_update(incident.ts, lambda c: "Resolved" in texts(c))
        assert update["channel"] == ALERT_CHANNEL
        assert "Resolved: VPN peer paris-asa on Frankfurt Hub" in texts(update)
        assert ACTION_ACK not in texts(update)
        await rig.wait_polls(rig.services[0], 5)
        assert len(rig.alerts()) == 1
        assert len(rig.updates(incident.ts)) == 1
        assert (await store.active_incidents()) == []


async def _posted_incident(store, timeout: float = 10.0):
    async def find():
        while True:
            posted = [i for i in await store.active_incidents() if i.ts]
            if posted:
                return posted[0]
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(find(), timeout)


async def test_buttons_acknowledge_mute_and_diagnose_again(store):
    async with alert_rig([store]) as rig:
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_alerts()
        incident = await _posted_incident(store)
        await rig.wait_thread(incident.ts, lambda c: "reachability unreachable" in texts(c))

        assert await rig.click(ACTION_ACK, incident.id, incident.ts) == 200
        [acked] = await rig.wait_update(incident.ts, lambda c: "Acknowledged by" in texts(c))
        assert f"<@{CLICKER}>" in texts(acked)
        assert ACTION_ACK not in texts(acked), "once acknowledged the button goes away"

        assert await rig.click(ACTION_MUTE, incident.id, incident.ts) == 200
        [note] = await rig.wait_thread(incident.ts, lambda c: "muted" in texts(c))
        assert "paris-asa" in texts(note) and f"<@{CLICKER}>" in texts(note)
        await rig.wait_update(incident.ts, lambda c: "muted" in texts(c) and "Acknowledged by" in texts(c))
        assert set((await store.mutes(0)).keys()) == {f"{FRANKFURT}|paris-asa"}

        assert await rig.click(ACTION_REDIAGNOSE, incident.id, incident.ts) == 200
        [again] = await rig.wait_thread(incident.ts, lambda c: "Diagnosed again for" in texts(c))
        assert f"<@{CLICKER}>" in texts(again)
        assert len(rig.alerts()) == 1


async def test_a_muted_peer_does_not_alert_again_within_the_hour(store):
    async with alert_rig([store]) as rig:
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_alerts()
        incident = await _posted_incident(store)
        await rig.click(ACTION_MUTE, incident.id, incident.ts)
        await rig.wait_thread(incident.ts, lambda c: "muted" in texts(c))
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "reachable")
        await rig.wait_update(incident.ts, lambda c: "Resolved" in texts(c))
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_polls(rig.services[0], 6)
        assert len(rig.alerts()) == 1


async def test_a_button_on_an_unknown_alert_answers_privately(store):
    async with alert_rig([store]) as rig:
        assert await rig.click(ACTION_ACK, "no-such-incident", "1700000000.000001") == 200
        [answer] = await rig.slack.wait_for("response_url")
        assert answer["response_type"] == "ephemeral"
        assert "no longer known" in answer["text"]
        assert rig.slack.calls_to("chat.postMessage") == []


async def test_kill_and_restart_mid_incident_posts_no_duplicate_and_threads_the_recovery(tmp_path):
    path = tmp_path / "state.sqlite3"
    first = SqliteStore(path)
    async with alert_rig([first]) as rig:
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_alerts()
        incident = await _posted_incident(first)
        await rig.wait_thread(incident.ts, lambda c: "reachability unreachable" in texts(c))
        # A kill: tasks gone, lead not released, nothing flushed beyond what was already stored; the
        # kernel closes the dead process's files, which drops its lock.
        await rig.services[0].stop(release=False)
        await first.close()

        second = SqliteStore(path)
        restarted = AlertService(
            alert_config(), dashboard=rig.services[0].dashboard, slack=rig.services[0].poster.client, store=second
        )
        rig.services.append(restarted)
        await restarted.start()
        await rig.wait_polls(restarted, 6, timeout=15)
        assert len(rig.alerts()) == 1, "the restarted poller knew the incident"
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "reachable")
        await rig.wait_thread(incident.ts, lambda c: "reachable again after" in texts(c))
        await rig.wait_update(incident.ts, lambda c: "Resolved" in texts(c))
        assert len(rig.alerts()) == 1
        await second.close()
    await first.close()


async def test_an_incident_recorded_but_not_yet_posted_is_posted_once_after_a_restart(tmp_path):
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    async with alert_rig([store], start=False) as rig:
        service = rig.services[0]
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await service.poller.poll()
        await service.poller.poll()
        [pending] = await store.active_incidents()
        assert pending.ts is None
        reopened = SqliteStore(path)
        service.store = service.desk.store = service.poller.store = reopened
        service.poster.store = reopened
        await service.start()
        await rig.wait_alerts()
        await rig.wait_polls(service, 5)
        assert len(rig.alerts()) == 1
        [posted] = await reopened.active_incidents()
        assert posted.id == pending.id and posted.ts is not None
        await reopened.close()


async def test_the_channel_carries_incidents_only(store):
    async with alert_rig([store]) as rig:
        await rig.wait_polls(rig.services[0], 5)
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_alerts()
        channel_posts = [c for c in rig.slack.calls_to("chat.postMessage") if not c.get("thread_ts")]
        assert len(channel_posts) == 1
        assert all(json.dumps(c.args).count("vpn_alert_actions") == 1 for c in channel_posts)


async def test_a_grouped_incident_ends_when_its_last_peer_is_back(store):
    async with alert_rig([store]) as rig:
        rig.dashboard.set_reachability(TOKYO, "azure-prod-vnet", "unreachable")
        rig.dashboard.set_reachability(TOKYO, "singapore-colo", "unreachable")
        await rig.wait_alerts()
        incident = await _posted_incident(store)
        rig.dashboard.set_reachability(TOKYO, "azure-prod-vnet", "reachable")
        await rig.wait_thread(incident.ts, lambda c: "azure-prod-vnet* is reachable again" in texts(c))
        await rig.wait_polls(rig.services[0], 4)
        assert not [c for c in rig.updates(incident.ts) if "Resolved" in texts(c)], "one peer is still down"
        rig.dashboard.set_reachability(TOKYO, "singapore-colo", "reachable")
        [last] = await rig.wait_thread(incident.ts, lambda c: "singapore-colo* is reachable again" in texts(c))
        assert "Every peer of this alert is back" in texts(last)
        [update] = await rig.wait_update(incident.ts, lambda c: "Resolved" in texts(c))
        assert "Resolved: 2 VPN peers on Tokyo DC" in texts(update)
        assert len(rig.alerts()) == 1


async def test_a_japanese_deployment_posts_its_alerts_in_japanese(store):
    async with alert_rig([store], lang="ja") as rig:
        assert await rig.click(ACTION_ACK, "no-such-incident", "1700000000.000001") == 200
        [unknown] = await rig.slack.wait_for("response_url")
        assert "このアラートの記録は VPN Doctor に残っていません" in unknown["text"]

        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        [alert] = await rig.wait_alerts()
        assert "VPN ピアがダウン: paris-asa" in texts(alert)
        assert "ダウン発生時刻" in texts(alert) and "警告" in texts(alert)
        buttons = [e["text"]["text"] for e in alert["blocks"][-1]["elements"]]
        assert buttons == ["再診断", "確認済みにする", "1 時間ミュート"]
        incident = await _posted_incident(store)
        [diagnosis] = await rig.wait_thread(incident.ts, lambda c: "到達性 到達不能" in texts(c))
        facts = block_texts(diagnosis["blocks"][:1])
        assert "MX ファームウェア" in facts[0] and "直近 1 時間" in facts[0]

        await rig.click(ACTION_ACK, incident.id, incident.ts)
        [acked] = await rig.wait_update(incident.ts, lambda c: f"<@{CLICKER}> が確認済み" in texts(c))
        await rig.click(ACTION_MUTE, incident.id, incident.ts)
        [muted] = await rig.wait_thread(incident.ts, lambda c: "ミュートしました" in texts(c))

        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "reachable")
        [reply] = await rig.wait_thread(incident.ts, lambda c: "再び到達できるようになりました" in texts(c))
        assert "ダウン時間" in reply["text"]
        [resolved] = await rig.wait_update(incident.ts, lambda c: "解決済み" in texts(c))
        assert "解決済み: Frankfurt Hub の VPN ピア paris-asa" in texts(resolved)
        assert [e["text"]["text"] for e in resolved["blocks"][-1]["elements"]] == ["再診断"]

        shown = [*facts, unknown["text"]]
        for call in (alert, acked, muted, reply, resolved):
            shown += visible_texts(call)
        assert english_leaks(shown) == []
