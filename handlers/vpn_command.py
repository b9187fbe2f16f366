"""`/vpn`: live diagnosis of a peer from the Meraki Dashboard, its status list, the peer list, help.

A slash command cannot be used inside a thread, so a lookup acknowledges at once, posts
a "Checking <peer>…" parent message in the channel, answers in that message's thread
and then updates the parent with the verdict. Unknown or ambiguous names, help, the
peer list and refusals go only to the person who asked (ephemeral, via response_url).
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Thread
from bot.dashboard.client import count_calls
from bot.dashboard.errors import DashboardError
from bot.live import DEFAULT_HOURS, LookupMiss, resolve_peer
from bot.live_access import may_look_up
from bot.live_audit import Audit
from bot.live_slack import answer_in_thread
from bot.locale.live import live_ui
from bot.render.blocks import SlackMessage
from bot.render.dashboard import (
    checking_message,
    error_message,
    failed_parent,
    help_message,
    miss_message,
    peers_message,
    result_parent,
    status_message,
    unfinished_command,
    unfinished_parent,
)
from bot.services import Services
from bot.vpn_request import VpnAction, VpnRequest, parse_vpn
from handlers.common import services_of
from knowledge.models import Lang

COMMAND = "/vpn"
_CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


async def tell(respond: AsyncRespond, message: SlackMessage) -> None:
    """Only the person who ran the command sees this."""
    await respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)


async def on_vpn(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    services = services_of(context)
    text = str(command.get("text") or "")
    request = parse_vpn(text)
    user, channel = command.get("user_id"), str(command.get("channel_id") or "")
    lang = await services.language(client, user, request.lang)
    unfinished = unfinished_command(text.strip(), lang)
    async with services.in_flight.track("vpn", lambda: tell(respond, unfinished)):
        await answer_vpn(client, services, respond, request, user, channel, lang)


async def answer_vpn(
    client: AsyncWebClient,
    services: Services,
    respond: AsyncRespond,
    request: VpnRequest,
    user: str | None,
    channel: str,
    lang: Lang,
) -> None:
    audit = Audit("slash", request.action.value, user, channel)
    if request.action is VpnAction.HELP:
        demo = services.settings.demo
        await tell(respond, help_message(lang, DEFAULT_HOURS, demo))
        audit.demo = demo
        audit.write("help")
        return
    if not may_look_up(services.settings, user, channel):
        await respond(text=live_ui("refused", lang), response_type="ephemeral", replace_original=False)
        audit.write("refused")
        return
    service = await services.live.service()
    audit.demo = service.demo
    if request.action is VpnAction.LOOKUP:
        await look_up_peer(client, services, respond, request, channel, lang, audit)
        return
    with count_calls() as calls:
        try:
            if request.action is VpnAction.STATUS:
                message = status_message(await service.status(), lang)
            else:
                message = peers_message(await service.peers(), lang)
        except DashboardError as exc:
            message = error_message(exc, lang, service.demo)
            audit.outcome = f"dashboard-error:{exc.reason.value}"
    audit.dashboard_calls = calls.count
    if request.action is VpnAction.STATUS:
        await post_in_channel(client, respond, channel, message, lang)
    else:
        await tell(respond, message)
    audit.write()


async def post_in_channel(
    client: AsyncWebClient, respond: AsyncRespond, channel: str, message: SlackMessage, lang: Lang
) -> str | None:
    """Post to the channel; where the bot may not post, show the answer privately instead."""
    try:
        response = await client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in _CANNOT_POST:
            raise
        notice = {"type": "context", "elements": [{"type": "mrkdwn", "text": live_ui("cannot_post", lang)}]}
        await tell(respond, SlackMessage(message.text, [*message.blocks, notice]))
        return None
    return str(response["ts"])


async def look_up_peer(
    client: AsyncWebClient,
    services: Services,
    respond: AsyncRespond,
    request: VpnRequest,
    channel: str,
    lang: Lang,
    audit: Audit,
) -> None:
    """Resolve the name first (misses stay private), then parent message, thread answer, parent update."""
    service = await services.live.service()
    audit.ask(request.query)
    failure: DashboardError | None = None
    peer_name = request.query
    with count_calls() as calls:
        try:
            found = resolve_peer(request.query, await service.client.peers())
        except DashboardError as exc:
            failure = exc
        else:
            if isinstance(found, LookupMiss):
                found.demo = service.demo
                audit.dashboard_calls = calls.count
                await tell(respond, miss_message(found, lang))
                audit.write(f"{found.reason}-peer")
                return
            peer_name = found.name
    audit.ask(peer_name)
    audit.dashboard_calls = calls.count
    parent_ts = await post_in_channel(
        client, respond, channel, checking_message(peer_name, request.hours, service.demo, lang), lang
    )
    if parent_ts is None:
        audit.write("cannot-post")
        return
    thread = Thread(channel=channel, message_ts=parent_ts, thread_ts=parent_ts)
    cut_short = unfinished_parent(peer_name, service.demo, lang)
    services.in_flight.replace_mark(lambda: client.chat_update(channel=channel, ts=parent_ts, **_fields(cut_short)))
    if failure is not None:
        await client.chat_postMessage(
            channel=channel, thread_ts=parent_ts, **_fields(error_message(failure, lang, service.demo))
        )
        parent = failed_parent(peer_name, service.demo, lang)
        audit.outcome = f"dashboard-error:{failure.reason.value}"
    else:
        answer = await answer_in_thread(client, services, thread, peer_name, request.hours, lang, audit)
        parent = result_parent(answer.report) if answer.report else failed_parent(peer_name, service.demo, lang)
    await client.chat_update(channel=channel, ts=parent_ts, **_fields(parent))
    audit.write()


def _fields(message: SlackMessage) -> dict[str, Any]:
    return {"text": message.text, "blocks": message.blocks}


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(on_vpn)
