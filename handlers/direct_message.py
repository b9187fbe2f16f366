"""Direct messages to the bot: the same answer as a mention, in the DM thread.

Subscribing to `message.im` also delivers edits, deletions and other subtypes; they
are acknowledged by a quiet listener, because an unanswered event (404) makes Slack
deliver it again.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Thread, answer_message
from bot.slack_text import message_text
from handlers.common import services_of


async def is_direct_message(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" and not event.get("bot_id")


async def not_a_file_share(event: dict[str, Any]) -> bool:
    return event.get("subtype") != "file_share"


async def on_direct_message(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await answer_message(
        client,
        services_of(context),
        thread=Thread.of(str(event["channel"]), event),
        user=event.get("user"),
        text=message_text(event, context.bot_user_id),
    )


async def ignore_other_messages() -> None:
    """Edits, deletions, joins, other bots: nothing to answer."""


def register(app: AsyncApp) -> None:
    app.event({"type": "message", "subtype": None}, matchers=[is_direct_message])(on_direct_message)
    app.event("message", matchers=[not_a_file_share])(ignore_other_messages)
