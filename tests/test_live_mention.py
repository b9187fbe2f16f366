"""A mention naming a configured peer runs the live lookup in its thread; a pasted diagnosis whose
peer is configured offers "Fetch live data", and the button runs the same lookup in that thread."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest

from bot.dashboard.emulator import Fault
from tests.live_helpers import PSKS, LiveHarness, all_text, blocks_of, button_payload, live_bot, wait_audit
from tests.slack_helpers import CHANNEL, USER, mention_body, message_body
from tests.test_slack_events import PSK_TEXT

DEMO = "Demo organisation"


@pytest.fixture
async def live() -> AsyncIterator[LiveHarness]:
    async with live_bot() as harness:
        yield harness


async def test_mention_naming_a_peer_gets_the_live_lookup_in_the_thread(live: LiveHarness) -> None:
    body = mention_body("check azure-prod-vnet please")
    status, _ = await live.bot.send_event(body)
    assert status == 200
    ts = body["event"]["ts"]
    (reply,) = await live.bot.replies(thread_ts=ts)
    payload = reply["metadata"]["event_payload"]
    assert "subnet-mismatch" in payload["finding_ids"] and payload["live_peer"] == "azure-prod-vnet"
    text = all_text(reply)
    assert "*Dashboard*" in text and "Tokyo DC" in text and DEMO in text
    await live.slack.wait_for("reactions.add", 2)
    reactions = [(c.method, c["name"]) for c in live.slack.calls if c.method.startswith("reactions.")]
    assert reactions == [("reactions.add", "eyes"), ("reactions.remove", "eyes"), ("reactions.add", "x")]
    assert not live.slack.calls_to("chat.update")


async def test_mention_inside_a_thread_by_public_ip_with_a_window(live: LiveHarness) -> None:
    body = mention_body("is 203.0.113.40 ok over the last 6h?", thread_ts="1700000000.000001")
    await live.bot.send_event(body)
    (reply,) = await live.bot.replies(thread_ts="1700000000.000001")
    assert reply["metadata"]["event_payload"]["live_peer"] == "frankfurt-aws"
    assert "last 6 h" in all_text(reply)


async def test_pasted_lines_win_over_a_peer_name_and_offer_the_button(live: LiveHarness) -> None:
    body = mention_body(f"frankfurt-aws is fine but this one fails:\n```{PSK_TEXT}```")
    await live.bot.send_event(body)
    (reply,) = await live.bot.replies(thread_ts=body["event"]["ts"])
    payload = reply["metadata"]["event_payload"]
    assert "psk-mismatch" in payload["finding_ids"] and "live_peer" not in payload
    buttons = [b["accessory"] for b in blocks_of(reply) if b.get("accessory", {}).get("type") == "button"]
    assert [b["action_id"] for b in buttons] == ["fetch_live"]
    assert json.loads(buttons[0]["value"]) == {"peer": "azure-prod-vnet", "lang": "en"}
    assert buttons[0]["text"]["text"] == "Fetch live data"
    assert "azure-prod-vnet is a peer configured in the Dashboard" in all_text(reply)
    assert not [r for r in live.dashboard.requests if r.path.endswith("/events")]


async def test_paste_naming_no_configured_peer_gets_no_button(live: LiveHarness) -> None:
    body = mention_body(PSK_TEXT.replace("203.0.113.10", "192.0.2.99"))
    await live.bot.send_event(body)
    (reply,) = await live.bot.replies()
    assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]
    assert not any("accessory" in b for b in blocks_of(reply))


async def test_the_button_runs_the_lookup_into_that_thread(live: LiveHarness, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.audit")
    value = json.dumps({"peer": "azure-prod-vnet", "lang": "ja"})
    status, _ = await live.bot.send_interactive(
        button_payload(value, thread_ts="1700000000.000777", response_url=live.slack.response_url("button"))
    )
    assert status == 200
    (reply,) = await live.bot.replies(thread_ts="1700000000.000777")
    assert reply["channel"] == CHANNEL
    assert "subnet-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]
    assert "到達性" in all_text(reply) and "デモ組織" in all_text(reply)
    (record,) = await wait_audit(caplog.records)
    assert (record["source"], record["user"], record["peer"], record["outcome"]) == (
        "button", USER, "azure-prod-vnet", "answered"
    )


async def test_mention_without_a_peer_name_is_still_unknown_input(live: LiveHarness) -> None:
    await live.bot.send_event(mention_body("hello there, how are you?"))
    (reply,) = await live.bot.replies()
    assert "did not recognise" in reply["text"]
    assert "live_peer" not in reply["metadata"]["event_payload"]


async def test_refused_mention_gets_an_ephemeral_note_and_no_thread_post() -> None:
    async with live_bot(vpn_doctor_live_channels="C999") as live:
        body = mention_body("check singapore-colo")
        await live.bot.send_event(body)
        (note,) = await live.slack.wait_for("chat.postEphemeral")
        assert (note["channel"], note["user"]) == (CHANNEL, USER)
        assert "limited to certain channels and people" in note["text"]
        await live.slack.settle(quiet=0.1)
        assert not live.slack.calls_to("chat.postMessage")
        assert not [r for r in live.dashboard.requests if r.path.endswith("/events")]
        # Pasted logs stay open where live lookups are not allowed.
        await live.bot.send_event(mention_body(PSK_TEXT))
        (reply,) = await live.bot.replies()
        assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]


async def test_refused_button_is_answered_privately() -> None:
    async with live_bot(vpn_doctor_live_users="W999") as live:
        value = json.dumps({"peer": "azure-prod-vnet", "lang": "en"})
        await live.bot.send_interactive(
            button_payload(value, thread_ts="1700000000.000778", response_url=live.slack.response_url("button"))
        )
        (note,) = await live.slack.wait_for("response_url")
        assert note["response_type"] == "ephemeral" and note["replace_original"] is False
        await live.slack.settle(quiet=0.1)
        assert not live.slack.calls_to("chat.postMessage")


async def test_dashboard_fault_on_a_mention_is_a_sentence_in_the_thread(live: LiveHarness) -> None:
    await live.bot.send_event(mention_body("check frankfurt-aws"))
    await live.bot.replies()
    live.slack.calls.clear()
    live.dashboard.inject(Fault(path="/statuses", status=403))
    body = mention_body("check frankfurt-aws again")
    await live.bot.send_event(body)
    (reply,) = await live.bot.replies(thread_ts=body["event"]["ts"])
    assert "no access to this organisation (403)" in reply["text"]


async def test_mentions_leak_no_psk(live: LiveHarness, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for text in ("check partner-osaka-ikev2", "check 198.51.100.20", f"```{PSK_TEXT}```"):
        await live.bot.send_event(mention_body(text))
    await live.bot.replies(3)
    await live.slack.settle(quiet=0.1)
    sent = json.dumps([c.args for c in live.slack.calls], ensure_ascii=False)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ikev2-unsupported-firmware" in sent and "peer-unresponsive" in sent
    assert not any(psk in sent or psk in logged for psk in PSKS)


async def test_direct_message_naming_a_peer_gets_the_live_lookup(live: LiveHarness) -> None:
    body = message_body("how is frankfurt-aws doing?", channel="D777")
    status, _ = await live.bot.send_event(body)
    assert status == 200
    (reply,) = await live.bot.replies(thread_ts=body["event"]["ts"])
    assert reply["channel"] == "D777"
    assert reply["metadata"]["event_payload"]["live_peer"] == "frankfurt-aws"
    assert "tunnel-established" in reply["metadata"]["event_payload"]["finding_ids"]
