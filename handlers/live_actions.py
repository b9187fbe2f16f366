"""The "Fetch live data" button under a pasted diagnosis (`fetch_live`): the live lookup in that thread."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Thread, thread_note_mark
from bot.live import DEFAULT_HOURS
from bot.live_access import may_look_up
from bot.live_audit import Audit
from bot.live_slack import answer_in_thread
from bot.locale.live import live_ui
from bot.render.dashboard import FETCH_LIVE_ACTION
from handlers.common import services_of
from knowledge.models import Lang


def button_request(value: str) -> tuple[str, Lang | None]:
    """The peer and reply language the button was made for."""
    try:
        data = json.loads(value)
    except ValueError:
        return value, None
    if not isinstance(data, dict):
        return value, None
    lang = data.get("lang")
    return str(data.get("peer") or ""), lang if lang in ("en", "ja") else None


def thread_of_button(body: dict[str, Any]) -> Thread | None:
    """The thread the clicked message sits in (the bot's answer is always a thread reply)."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = message.get("ts") or container.get("message_ts")
    if not channel or not ts:
        return None
    root = message.get("thread_ts") or container.get("thread_ts") or ts
    return Thread(channel=str(channel), message_ts=str(ts), thread_ts=str(root))


async def on_fetch_live(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    services = services_of(context)
    user = (body.get("user") or {}).get("id")
    peer, wanted = button_request(str(action.get("value") or ""))
    lang = await services.language(client, user, wanted)
    thread = thread_of_button(body)
    audit = Audit("button", "lookup", user, thread.channel if thread else None, demo=services.settings.demo)
    audit.ask(peer)
    if thread is None or not peer:
        audit.write("no-thread")
        return
    if not may_look_up(services.settings, user, thread.channel):
        await respond(text=live_ui("refused", lang), response_type="ephemeral", replace_original=False)
        audit.write("refused")
        return
    mark = thread_note_mark(client, thread, lang, live_ui("button_unfinished", lang, peer=peer))
    async with services.in_flight.track("button", mark):
        await answer_in_thread(client, services, thread, peer, DEFAULT_HOURS, lang, audit)
    audit.write()


def register(app: AsyncApp) -> None:
    app.action(FETCH_LIVE_ACTION)(on_fetch_live)
