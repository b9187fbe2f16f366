"""Answer one Slack message in its thread: reactions, files, diagnosis, reply, report file.

Listeners (mention, DM, file share, message shortcut) only say *where* the message is
and *what* it contains; everything after that is the same and lives here.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.chat import Reply, ReplyKind, build_reply, help_reply, notice_reply, parse_request
from bot.in_flight import Mark
from bot.locale import ui
from bot.render.blocks import SlackMessage, slack_message
from bot.services import Services
from bot.slack_files import read_attached_files
from knowledge.models import Lang, Verdict

log = logging.getLogger(__name__)

WORKING_REACTION = "eyes"
ERROR_REACTION = "warning"
RESULT_REACTIONS = {
    Verdict.HEALTHY: "white_check_mark",
    Verdict.FAILING: "x",
    Verdict.DEGRADED: "warning",
    Verdict.UNKNOWN: "grey_question",
}


@dataclass(frozen=True)
class Thread:
    """Where a user message sits and where the answer goes."""

    channel: str
    message_ts: str
    thread_ts: str

    @classmethod
    def of(cls, channel: str, message: Mapping[str, Any]) -> Thread:
        ts = str(message["ts"])
        return cls(channel=channel, message_ts=ts, thread_ts=str(message.get("thread_ts") or ts))


# Consulted after the diagnosis with (client, services, thread, user, text, reply, message); returns the
# reply and message to post instead (message None: already answered privately). bot.live_slack has one.
ReplyHook = Callable[
    [AsyncWebClient, Services, "Thread", str | None, str, Reply, SlackMessage],
    Awaitable[tuple[Reply, SlackMessage | None]],
]


def thread_of(body: Mapping[str, Any]) -> Thread | None:
    """The thread a request belongs to, for events and message shortcuts alike."""
    event = body.get("event")
    if isinstance(event, Mapping) and event.get("channel") and event.get("ts"):
        return Thread.of(str(event["channel"]), event)
    message = body.get("message")
    channel = body.get("channel")
    if isinstance(message, Mapping) and isinstance(channel, Mapping) and message.get("ts"):
        return Thread.of(str(channel.get("id")), message)
    return None


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]


async def react(client: AsyncWebClient, thread: Thread, name: str, *, remove: bool = False) -> None:
    """Reactions are a courtesy: a missing scope or an old message must not stop the answer."""
    try:
        if remove:
            await client.reactions_remove(channel=thread.channel, timestamp=thread.message_ts, name=name)
        else:
            await client.reactions_add(channel=thread.channel, timestamp=thread.message_ts, name=name)
    except SlackApiError as exc:
        log.debug("reaction %s failed: %s", name, exc.response.get("error"))


async def post(client: AsyncWebClient, thread: Thread, message: SlackMessage) -> None:
    await client.chat_postMessage(
        channel=thread.channel,
        thread_ts=thread.thread_ts,
        text=message.text,
        blocks=message.blocks,
        metadata=message.metadata,
        unfurl_links=False,
        unfurl_media=False,
    )
    if message.attachment is not None:
        await client.files_upload_v2(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            content=message.attachment.content,
            filename=message.attachment.filename,
            title=message.attachment.title,
        )


def result_reaction(reply: Reply) -> str | None:
    if reply.diagnosis is None:
        return None
    return RESULT_REACTIONS[reply.diagnosis.verdict]


def thread_note_mark(client: AsyncWebClient, thread: Thread, lang: Lang, note: str) -> Mark:
    """How a reply cut short by a shutdown is marked: ⚠️ instead of 👀, and a note saying so in the thread."""

    async def mark_unanswered() -> None:
        message = slack_message(notice_reply(lang, (note,)))
        await asyncio.gather(
            react(client, thread, WORKING_REACTION, remove=True),
            react(client, thread, ERROR_REACTION),
            post(client, thread, message),
        )

    return mark_unanswered


async def answer_message(
    client: AsyncWebClient,
    services: Services,
    *,
    thread: Thread,
    user: str | None,
    text: str,
    files: Sequence[Mapping[str, Any]] = (),
    hook: ReplyHook | None = None,
) -> Reply:
    """Diagnose what the message (and its files) holds and reply in the thread."""
    lang = services.settings.vpn_doctor_lang
    default = thread_note_mark(client, thread, lang, ui("unfinished", lang))
    async with services.in_flight.track("reply", default):
        return await _answer_message(client, services, thread, user, text, files, hook)


async def _answer_message(
    client: AsyncWebClient,
    services: Services,
    thread: Thread,
    user: str | None,
    text: str,
    files: Sequence[Mapping[str, Any]],
    hook: ReplyHook | None,
) -> Reply:
    started = time.perf_counter()
    settings = services.settings
    request = parse_request(text)
    if request.wants_help and not files:
        lang: Lang = await services.language(client, user, request.lang)
        reply = help_reply(lang, settings.vpn_doctor_max_file_bytes)
        await post(client, thread, slack_message(reply))
        log.info("answered channel=%s kind=help lang=%s", thread.channel, lang)
        return reply

    # Show that work started and find the reply language at the same time: both are round trips.
    lang, _ = await asyncio.gather(
        services.language(client, user, request.lang), react(client, thread, WORKING_REACTION)
    )
    services.in_flight.replace_mark(thread_note_mark(client, thread, lang, ui("unfinished", lang)))
    notices: list[str] = []
    source = request.text
    if files:
        attached = await read_attached_files(
            client,
            services.http(),
            files,
            token=settings.reveal(settings.slack_bot_token) or "",
            api_url=settings.slack_api_url,
            limit=settings.vpn_doctor_max_file_bytes,
            lang=lang,
        )
        if attached.names:
            notices.append(ui("files_read", lang, names=", ".join(attached.names)))
            source = "\n".join(attached.texts)
        notices += attached.notices
    reply = await services.run_diagnosis(
        build_reply, source, lang, max_file_bytes=settings.vpn_doctor_max_file_bytes, notices=tuple(notices)
    )
    message = slack_message(reply)
    answer: SlackMessage | None = message
    pasted = reply
    if hook is not None:
        reply, answer = await hook(client, services, thread, user, source, reply, message)
    if reply is pasted and reply.diagnosis is not None:  # a live lookup the hook ran counts itself
        metrics.diagnosis(reply.diagnosis, "paste")
    if answer is not None:
        await post(client, thread, answer)
    await react(client, thread, WORKING_REACTION, remove=True)
    done = result_reaction(reply)
    if done:
        await react(client, thread, done)
    log.info(
        "answered channel=%s kind=%s lang=%s chars=%d files=%d findings=%s ms=%.0f",
        thread.channel,
        reply.kind.value,
        lang,
        len(source),
        len(files),
        ",".join(reply.finding_ids) or "-",
        (time.perf_counter() - started) * 1000,
    )
    return reply


async def apologise(
    client: AsyncWebClient,
    services: Services,
    thread: Thread,
    user: str | None,
    correlation_id: str,
    requested: Lang | None = None,
) -> None:
    """The short in-thread answer after an unexpected error; the details stay in the log."""
    lang = await services.language(client, user, requested)
    reply = Reply(ReplyKind.NOTICE, lang, notices=(ui("apology", lang, correlation_id=correlation_id),))
    await post(client, thread, slack_message(reply))
    await react(client, thread, WORKING_REACTION, remove=True)
    await react(client, thread, ERROR_REACTION)
