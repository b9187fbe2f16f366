"""`/vpn` end to end: signed slash commands to the real app over HTTP, Dashboard calls to the
Dashboard emulator (demo organisation), assertions on what the Slack emulator received."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import pytest

from bot.dashboard.emulator import Fault
from bot.dashboard.errors import DashboardError, Reason
from tests.live_helpers import DASHBOARD_KEY, PSKS, LiveHarness, all_text, live_bot, slash_body, wait_audit
from tests.slack_helpers import CHANNEL, USER, sign

DEMO = "Demo organisation"


@pytest.fixture
async def live() -> AsyncIterator[LiveHarness]:
    async with live_bot() as harness:
        yield harness


async def test_lookup_acks_then_parent_thread_answer_and_parent_update(live: LiveHarness) -> None:
    started = time.monotonic()
    status, body = await live.command("azure-prod-vnet")
    assert status == 200 and body == ""
    assert time.monotonic() - started < 1.0
    parent, answer, update = await live.parent_and_answer()
    assert parent["channel"] == CHANNEL
    assert "Checking azure-prod-vnet…" in parent["text"] and "last 24 h" in parent["text"]
    assert DEMO in all_text(parent)
    assert answer["channel"] == CHANNEL
    payload = answer["metadata"]["event_payload"]
    assert "subnet-mismatch" in payload["finding_ids"] and payload["live_peer"] == "azure-prod-vnet"
    shown = all_text(answer)
    assert "*Dashboard*" in shown and "Tokyo DC" in shown and "reachability: unreachable" in shown
    assert "MX 14.53" in shown and "IKEv2 not supported" in shown and "uplink in use: wan1" in shown
    assert DEMO in shown
    assert blocks_first_is_verdict_header(answer)
    assert "azure-prod-vnet: Failing" in update["text"] and "Details in the thread" in update["text"]
    assert DEMO in all_text(update)
    order = [c.method for c in live.slack.calls if c.method.startswith("chat.")]
    assert order == ["chat.postMessage", "chat.postMessage", "chat.update"]


def blocks_first_is_verdict_header(call) -> bool:
    blocks = call["blocks"]
    return blocks[0]["type"] == "header" and "Failing" in blocks[0]["text"]["text"]


EXPECTED = [
    ("azure-prod-vnet", "subnet-mismatch", "failing"),
    ("partner-osaka-ikev2", "ikev2-unsupported-firmware", "failing"),
    ("singapore-colo", "peer-unresponsive", "failing"),
    ("frankfurt-aws", "tunnel-established", "healthy"),
    ("nyc-opnsense", "lifetime-mismatch", "degraded"),
    ("london-dc", "uplink-failover", None),
]


@pytest.mark.parametrize(("peer", "finding", "verdict"), EXPECTED)
async def test_each_demo_peer_gets_its_finding(live: LiveHarness, peer: str, finding: str, verdict: str | None) -> None:
    await live.command(peer)
    _, answer, update = await live.parent_and_answer()
    payload = answer["metadata"]["event_payload"]
    assert finding in payload["finding_ids"], payload
    if verdict is not None:
        assert payload["verdict"] == verdict
    assert update["text"].startswith(f"{peer}: ")


async def test_frankfurt_is_healthy_and_london_names_the_secondary_uplink(live: LiveHarness) -> None:
    await live.command("frankfurt-aws")
    _, answer, update = await live.parent_and_answer()
    assert answer["metadata"]["event_payload"]["finding_ids"] == ["tunnel-established"]
    assert "Healthy" in update["text"]
    live.slack.calls.clear()
    await live.command("london-dc")
    _, answer, _ = await live.parent_and_answer()
    assert "uplink in use: wan2 (192.0.2.130)" in all_text(answer)


async def test_lookup_by_public_ip_with_hours(live: LiveHarness) -> None:
    await live.command("198.51.100.50 6")
    parent, answer, _ = await live.parent_and_answer()
    assert "Checking nyc-opnsense…" in parent["text"] and "last 6 h" in parent["text"]
    assert "last 6 h" in all_text(answer)
    events = [r for r in live.dashboard.requests if r.path.endswith("/events")]
    assert events and all(("productType", "appliance") in r.query for r in events)


@pytest.mark.parametrize(
    ("query", "expected", "reason"),
    [("azur-prod", ["azure-prod-vnet"], "I know no peer called `azur-prod`"),
     ("pa", ["paris-asa", "partner-osaka-ikev2"], "matches more than one peer")],
)
async def test_unknown_or_ambiguous_peer_gets_a_private_list(
    live: LiveHarness, query: str, expected: list[str], reason: str
) -> None:
    await live.command(query)
    (reply,) = await live.ephemeral()
    assert reply["response_type"] == "ephemeral"
    text = all_text(reply)
    assert reason in text and all(name in text for name in expected) and DEMO in text
    await live.slack.settle(quiet=0.1)
    assert not live.slack.calls_to("chat.postMessage")
    assert not live.dashboard.requests_to("/events")


async def test_nothing_close_points_to_the_peer_list(live: LiveHarness) -> None:
    await live.command("zzzzzzzz")
    (reply,) = await live.ephemeral()
    assert "/vpn peers" in all_text(reply)


async def test_status_lists_every_peer_per_network_down_first(live: LiveHarness) -> None:
    await live.command("status")
    (message,) = await live.slack.wait_for("chat.postMessage")
    assert message["channel"] == CHANNEL and not message.get("thread_ts")
    text = all_text(message)
    assert "5 of 7 unreachable" in text and DEMO in text
    lines = [line for line in text.splitlines() if " — " in line]
    assert len(lines) == 7
    states = [line.rsplit(": ", 1)[1] for line in lines]
    assert states == ["unreachable"] * 5 + ["reachable"] * 2
    assert any("azure-prod-vnet (203.0.113.10) — Tokyo DC" in line for line in lines)


async def test_peers_and_help_are_private(live: LiveHarness) -> None:
    await live.command("peers")
    (listing,) = await live.ephemeral()
    text = all_text(listing)
    assert "Configured third-party peers (7)" in text
    assert "nyc-opnsense — 198.51.100.50 · IKEv2" in text and "Frankfurt Hub" in text
    await live.command("help lang:ja")
    _, help_reply = await live.ephemeral(2)
    assert help_reply["response_type"] == "ephemeral"
    assert "/vpn status" in all_text(help_reply) and "到達性" in all_text(help_reply)
    await live.command("")
    *_, english = await live.ephemeral(3)
    assert "every third-party peer" in all_text(english)
    assert not live.slack.calls_to("chat.postMessage")


async def test_japanese_locale_gets_japanese_everywhere(live: LiveHarness) -> None:
    live.slack.set_locale(USER, "ja-JP")
    await live.command("azure-prod-vnet")
    parent, answer, update = await live.parent_and_answer()
    assert "azure-prod-vnet を確認しています" in parent["text"]
    assert "到達性: 到達不能" in all_text(answer) and "デモ組織" in all_text(answer)
    assert "詳細はスレッド" in update["text"]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(path="thirdPartyVPNPeers", status=401), Reason.KEY_INVALID),
        (Fault(path="thirdPartyVPNPeers", status=403), Reason.NO_ACCESS),
        (Fault(path="thirdPartyVPNPeers", status=404), Reason.NOT_FOUND),
        (Fault(path="thirdPartyVPNPeers", status=429, times=5, retry_after="0"), Reason.BUSY),
        (Fault(path="thirdPartyVPNPeers", status=500, times=3), Reason.UNAVAILABLE),
        (Fault(path="/events$", status=500, times=3), Reason.UNAVAILABLE),
        (Fault(path="/events$", status=429, times=5, retry_after="0"), Reason.BUSY),
    ],
    ids=["401", "403", "404", "429-exhausted", "500", "events-500", "events-429"],
)
async def test_dashboard_faults_get_a_clear_sentence_in_the_thread(
    live: LiveHarness, fault: Fault, reason: Reason, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    live.dashboard.inject(fault)
    await live.command("frankfurt-aws")
    parent, answer, update = await live.parent_and_answer()
    assert "Checking frankfurt-aws…" in parent["text"]
    sentence = DashboardError(fault.status or 0, reason).sentence("en")
    assert sentence in all_text(answer)
    assert "could not read the Dashboard" in update["text"]
    (record,) = await wait_audit(caplog.records)
    assert record["outcome"] == f"dashboard-error:{reason.value}"
    assert record["dashboard_calls"] >= fault.times


async def test_busy_dashboard_is_retried_and_then_answers(live: LiveHarness) -> None:
    live.dashboard.inject(Fault(path="/statuses", status=429, times=2, retry_after="0"))
    await live.command("frankfurt-aws")
    _, answer, _ = await live.parent_and_answer()
    assert "tunnel-established" in answer["metadata"]["event_payload"]["finding_ids"]


@pytest.mark.parametrize(
    ("overrides", "channel", "user", "allowed"),
    [
        ({"vpn_doctor_live_channels": "C999, C111"}, CHANNEL, USER, True),
        ({"vpn_doctor_live_channels": "C999"}, CHANNEL, USER, False),
        ({"vpn_doctor_live_users": "W999"}, CHANNEL, USER, False),
        ({"vpn_doctor_live_users": "W999,W222"}, CHANNEL, USER, True),
        ({"vpn_doctor_live_channels": "C111", "vpn_doctor_live_users": "W999"}, CHANNEL, USER, False),
    ],
)
async def test_access_lists(overrides: dict[str, str], channel: str, user: str, allowed: bool) -> None:
    async with live_bot(**overrides) as live:
        await live.command("status", channel=channel, user=user)
        if allowed:
            await live.slack.wait_for("chat.postMessage")
            return
        (refusal,) = await live.ephemeral()
        assert refusal["response_type"] == "ephemeral"
        assert "limited to certain channels and people" in refusal["text"]
        await live.slack.settle(quiet=0.1)
        assert not live.slack.calls_to("chat.postMessage")
        assert not live.dashboard.requests


async def test_help_stays_open_when_access_is_limited() -> None:
    async with live_bot(vpn_doctor_live_channels="C999") as live:
        await live.command("help")
        (reply,) = await live.ephemeral()
        assert "/vpn peers" in all_text(reply)


async def test_channel_the_bot_cannot_post_in_gets_a_private_answer(live: LiveHarness) -> None:
    live.slack.not_member_of.add("C777")
    await live.command("status", channel="C777")
    (reply,) = await live.ephemeral()
    text = all_text(reply)
    assert "5 of 7 unreachable" in text and "/invite @VPN Doctor" in text


async def test_bad_signature_runs_nothing(live: LiveHarness) -> None:
    raw = slash_body("azure-prod-vnet", live.slack.response_url("vpn"))
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw, secret="wrong-secret")}
    status, _ = await live.bot.post_raw(raw, headers)
    assert status == 401
    await live.slack.settle(quiet=0.1)
    assert not live.dashboard.requests and not live.slack.calls


async def test_audit_line_per_command(live: LiveHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.audit")
    await live.command("azure-prod-vnet")
    await live.parent_and_answer()
    await live.command("pa")
    await live.ephemeral()
    await live.slack.settle(quiet=0.1)
    lookup, miss = await wait_audit(caplog.records, 2)
    assert lookup["event"] == "vpn_live_command"
    who = (lookup["source"], lookup["command"], lookup["user"], lookup["channel"])
    assert who == ("slash", "lookup", USER, CHANNEL)
    assert lookup["peer"] == "azure-prod-vnet" and "subnet-mismatch" in lookup["finding_ids"]
    assert lookup["verdict"] == "failing" and lookup["outcome"] == "answered" and lookup["demo"] is True
    assert 1 <= lookup["dashboard_calls"] <= 8
    assert lookup["dashboard_calls"] == len(live.dashboard.requests) - (miss["dashboard_calls"])
    assert isinstance(lookup["duration_ms"], int) and lookup["duration_ms"] >= 0
    assert miss["outcome"] == "ambiguous-peer" and miss["peer"] == "pa"


async def test_no_psk_or_key_reaches_slack_or_the_log(live: LiveHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for text in ("status", "peers", *(peer for peer, _, _ in EXPECTED), "paris-asa", "nope"):
        live.slack.calls.clear()
        await live.command(text)
        await live.slack.settle(quiet=0.1)
        sent = json.dumps([c.args for c in live.slack.calls], ensure_ascii=False)
        assert sent != "[]", text
        assert not any(psk in sent for psk in PSKS), text
        assert DASHBOARD_KEY not in sent
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "azure-prod-vnet" in logged
    assert not any(psk in logged for psk in PSKS)
    assert DASHBOARD_KEY not in logged
