"""A file or snippet shared with the bot in a direct message (`message` / `file_share`).

In channels a file reaches the bot through the mention that accompanies it, so only
direct-message shares are answered here; others are acknowledged and left alone.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Thread, answer_message
from bot.slack_text import message_text
from handlers.common import services_of


async def on_file_share(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if event.get("channel_type") != "im" or event.get("bot_id"):
        return
    await answer_message(
        client,
        services_of(context),
        thread=Thread.of(str(event["channel"]), event),
        user=event.get("user"),
        text=message_text(event, context.bot_user_id),
        files=event.get("files") or [],
    )


def register(app: AsyncApp) -> None:
    app.event({"type": "message", "subtype": "file_share"})(on_file_share)
