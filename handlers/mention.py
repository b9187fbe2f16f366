"""`@VPN Doctor` in a channel or a thread: diagnose the pasted lines (or attached files)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Thread, answer_message
from bot.live_slack import live_in_conversation
from bot.slack_text import message_text
from handlers.common import services_of


async def on_app_mention(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await answer_message(
        client,
        services_of(context),
        thread=Thread.of(str(event["channel"]), event),
        user=event.get("user"),
        text=message_text(event, context.bot_user_id),
        files=event.get("files") or [],
        hook=live_in_conversation,
    )


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_app_mention)
