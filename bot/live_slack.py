"""Live Dashboard lookups answered in Slack threads: shared by `/vpn`, mentions and the button.

`look_up` turns a query into the reply to post (diagnosis with its Dashboard section,
the close matches, or the Dashboard's error sentence); `live_in_conversation` is the
hook the mention path consults after diagnosing the text: a message that names a
configured peer and carries no log lines gets the live lookup instead of "unknown
input", and a pasted diagnosis whose peer is configured gets a "Fetch live data" button.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.chat import Reply, ReplyKind
from bot.conversation import Thread, post
from bot.dashboard.client import count_calls
from bot.dashboard.errors import DashboardError
from bot.dashboard.models import ThirdPartyPeer
from bot.live import LiveReport, LiveService, LookupMiss
from bot.live_access import may_look_up
from bot.live_audit import Audit
from bot.locale.live import live_ui
from bot.render.blocks import SlackMessage
from bot.render.dashboard import error_message, live_message, miss_message, with_fetch_buttons
from bot.services import Services
from bot.vpn_request import hours_in, named_peer
from knowledge.models import Lang

log = logging.getLogger(__name__)

# A paste's answer waits at most this long for the peer list (cached for minutes afterwards).
PEER_LIST_BUDGET_SECONDS = 2.0


@dataclass
class LiveAnswer:
    """What to post for one live lookup, and what the audit line records about it."""

    reply: Reply
    message: SlackMessage
    report: LiveReport | None = None
    miss: LookupMiss | None = None
    error: DashboardError | None = None
    calls: int = 0

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return f"dashboard-error:{self.error.reason.value}"
        if self.miss is not None:
            return f"{self.miss.reason}-peer"
        return "answered"

    def record(self, audit: Audit) -> None:
        audit.dashboard_calls += self.calls
        if self.report is not None:
            audit.peer = self.report.peer.get("name", audit.peer)
            audit.finding_ids = self.report.finding_ids
            audit.verdict = self.report.diagnosis.verdict.value
        audit.outcome = self.outcome


async def look_up(service: LiveService, query: str, hours: float, lang: Lang) -> LiveAnswer:
    with count_calls() as calls:
        try:
            found = await service.lookup(query, hours, lang)
        except DashboardError as exc:
            log.warning("live lookup failed reason=%s status=%d", exc.reason.value, exc.status)
            reply = Reply(ReplyKind.NOTICE, lang, notices=(exc.sentence(lang),))
            return LiveAnswer(reply, error_message(exc, lang, service.demo), error=exc, calls=calls.count)
    if isinstance(found, LookupMiss):
        reply = Reply(ReplyKind.NOTICE, lang, notices=(live_ui("unknown_peer", lang, query=query),))
        return LiveAnswer(reply, miss_message(found, lang), miss=found, calls=calls.count)
    metrics.diagnosis(found.diagnosis, "live")
    reply = Reply(ReplyKind.DIAGNOSIS, lang, diagnosis=found.diagnosis)
    return LiveAnswer(reply, live_message(found), report=found, calls=calls.count)


async def configured_peers(service: LiveService) -> list[ThirdPartyPeer]:
    """The organisation's third-party peers, or none when the Dashboard cannot say so quickly."""
    try:
        return await asyncio.wait_for(service.client.peers(), PEER_LIST_BUDGET_SECONDS)
    except (DashboardError, TimeoutError) as exc:
        log.warning("peer list unavailable: %s", type(exc).__name__)
        return []


async def refuse_privately(client: AsyncWebClient, channel: str, user: str | None, lang: Lang) -> None:
    """The access refusal, seen only by the person who asked."""
    if user is None:
        return
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=live_ui("refused", lang))
    except SlackApiError as exc:
        log.warning("ephemeral refusal failed: %s", exc.response.get("error"))


async def live_in_conversation(
    client: AsyncWebClient,
    services: Services,
    thread: Thread,
    user: str | None,
    text: str,
    reply: Reply,
    message: SlackMessage,
) -> tuple[Reply, SlackMessage | None]:
    """The live side of a mention: replace "unknown input" by a lookup, or offer the button."""
    diagnosis = reply.diagnosis
    if diagnosis is None:
        return reply, message
    if reply.kind is ReplyKind.UNKNOWN and diagnosis.vpn_lines == 0:
        service = await services.live.service()
        peer = named_peer(text, await configured_peers(service))
        if peer is None:
            return reply, message
        audit = Audit("mention", "lookup", user, thread.channel, demo=service.demo, peer=peer.name)
        if not may_look_up(services.settings, user, thread.channel):
            await refuse_privately(client, thread.channel, user, reply.lang)
            audit.write("refused")
            return Reply(ReplyKind.NOTICE, reply.lang), None
        answer = await look_up(service, peer.name, hours_in(text), reply.lang)
        answer.record(audit)
        audit.write()
        return answer.reply, answer.message
    if reply.kind is ReplyKind.DIAGNOSIS and diagnosis.peers:
        addresses = {p.address.lower() for p in diagnosis.peers}
        peers = await configured_peers(await services.live.service())
        named = [p.name for p in peers if {(p.publicIp or "").lower(), (p.publicHostname or "").lower()} & addresses]
        return reply, with_fetch_buttons(message, named, reply.lang)
    return reply, message


async def answer_in_thread(
    client: AsyncWebClient, services: Services, thread: Thread, query: str, hours: float, lang: Lang, audit: Audit
) -> LiveAnswer:
    """Run the lookup and post its answer in the thread; the caller writes the audit line."""
    service = await services.live.service()
    audit.demo = service.demo
    answer = await look_up(service, query, hours, lang)
    answer.record(audit)
    await post(client, thread, answer.message)
    return answer
