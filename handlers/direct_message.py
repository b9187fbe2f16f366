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

from handlers.common import answer_event


async def is_direct_message(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im" and not event.get("bot_id")


async def not_a_file_share(event: dict[str, Any]) -> bool:
    return event.get("subtype") != "file_share"


async def on_direct_message(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await answer_event(event, client, context)


async def ignore_other_messages() -> None:
    """Edits, deletions, joins, other bots: nothing to answer."""


def register(app: AsyncApp) -> None:
    app.event({"type": "message", "subtype": None}, matchers=[is_direct_message])(on_direct_message)
    app.event("message", matchers=[not_a_file_share])(ignore_other_messages)
