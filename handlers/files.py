"""A file or snippet shared with the bot in a direct message (`message` / `file_share`).

In channels a file reaches the bot through the mention that accompanies it, so only
direct-message shares are answered here; others are acknowledged and left alone.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.common import answer_event


async def on_file_share(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if event.get("channel_type") != "im" or event.get("bot_id"):
        return
    await answer_event(event, client, context)


def register(app: AsyncApp) -> None:
    app.event({"type": "message", "subtype": "file_share"})(on_file_share)
