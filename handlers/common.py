"""Small pieces every listener needs: the shared services, and answering a message event."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import ReplyHook, Thread, answer_message
from bot.live_slack import live_in_conversation
from bot.services import CONTEXT_KEY, Services
from bot.slack_text import message_text


def services_of(context: AsyncBoltContext) -> Services:
    return context[CONTEXT_KEY]


async def answer_event(
    event: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    *,
    hook: ReplyHook | None = live_in_conversation,
) -> None:
    """Answer a mention, DM or file share in its thread: pasted lines and files first, then a named peer."""
    await answer_message(
        client,
        services_of(context),
        thread=Thread.of(str(event["channel"]), event),
        user=event.get("user"),
        text=message_text(event, context.bot_user_id),
        files=event.get("files") or [],
        hook=hook,
    )
