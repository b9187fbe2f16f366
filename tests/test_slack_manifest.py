"""The committed Slack app manifests ask for exactly what the code uses, no more, no less."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.slack_helpers import mention_body, next_ts, running_bot, shortcut_body

ROOT = Path(__file__).parent.parent
MANIFESTS = {"socket": ROOT / "deploy" / "slack-manifest.yaml", "http": ROOT / "deploy" / "slack-manifest-http.yaml"}

# Which bot scope each Web API method and each subscription needs (Slack's method and event reference).
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "reactions_add": "reactions:write",
    "reactions_remove": "reactions:write",
    "files_info": "files:read",
    "files_upload_v2": "files:write",
    "users_info": "users:read",
    "conversations_replies": "channels:history",
    "conversations_history": "channels:history",
}
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history", "message.channels": "channels:history"}
_CALL = re.compile(r"\.(chat_\w+|reactions_\w+|files_\w+|users_\w+|conversations_\w+)\(")
# Event types a Slack app can subscribe to that the probe sends; a 404 means no listener.
PROBED_EVENTS = ("app_mention", "message", "reaction_added", "app_home_opened", "member_joined_channel", "file_shared")


def manifest(kind: str) -> dict[str, Any]:
    return yaml.safe_load(MANIFESTS[kind].read_text(encoding="utf-8"))


def web_api_methods_in_code() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(_CALL.findall(path.read_text(encoding="utf-8")))
    return found


def _without_command_urls(features: dict[str, Any]) -> dict[str, Any]:
    """HTTP mode names a request URL per slash command; Socket Mode has none."""
    commands = [{k: v for k, v in c.items() if k != "url"} for c in features.get("slash_commands", [])]
    return {**features, "slash_commands": commands} if commands else features


def probe_body(event_type: str) -> dict[str, Any]:
    body = mention_body("help")
    ts = next_ts()
    body["event"] = {"type": event_type, "user": "W222", "channel": "C404", "ts": ts, "event_ts": ts, "text": ""}
    if event_type == "message":
        body["event"]["channel_type"] = "channel"
    return body


@pytest.mark.parametrize("kind", sorted(MANIFESTS))
def test_scopes_are_exactly_those_the_code_needs(kind: str) -> None:
    data = manifest(kind)
    methods = web_api_methods_in_code()
    unknown = methods - METHOD_SCOPES.keys()
    assert not unknown, f"add the scope for {unknown} to METHOD_SCOPES and the manifests"
    needed = {METHOD_SCOPES[m] for m in methods}
    needed |= {EVENT_SCOPES[e] for e in data["settings"]["event_subscriptions"]["bot_events"]}
    if data["features"].get("shortcuts") or data["features"].get("slash_commands"):
        needed.add("commands")
    assert set(data["oauth_config"]["scopes"]["bot"]) == needed


def test_both_manifests_agree_except_for_transport() -> None:
    socket, http = manifest("socket"), manifest("http")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    for data in (socket, http):
        assert data["features"]["app_home"]["messages_tab_enabled"] is True
    assert socket["oauth_config"] == http["oauth_config"]
    assert socket["features"] == _without_command_urls(http["features"])
    for command in http["features"].get("slash_commands", []):
        assert command["url"].endswith("/slack/events")
    events = [m["settings"]["event_subscriptions"]["bot_events"] for m in (socket, http)]
    assert events[0] == events[1]
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    for section in ("event_subscriptions", "interactivity"):
        assert http["settings"][section]["request_url"].endswith("/slack/events")


async def test_subscribed_events_and_shortcuts_match_registered_listeners() -> None:
    data = manifest("socket")
    subscribed = {e.split(".", 1)[0] for e in data["settings"]["event_subscriptions"]["bot_events"]}
    shortcuts = [s["callback_id"] for s in data["features"]["shortcuts"]]
    async with running_bot() as bot:
        handled = set()
        for event_type in PROBED_EVENTS:
            status, _ = await bot.send_event(probe_body(event_type))
            assert status in (200, 404)
            if status == 200:
                handled.add(event_type)
        assert handled == subscribed
        for callback_id in shortcuts:
            body = shortcut_body("x", bot.emulator.response_url())
            body["callback_id"] = callback_id
            assert (await bot.send_interactive(body))[0] == 200
