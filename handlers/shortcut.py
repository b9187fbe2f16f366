"""Message shortcut "Diagnose VPN log" (`diagnose_message`): diagnose someone else's paste.

The answer goes to the thread of the chosen message. If the bot may not post in that
channel, the person who ran the shortcut is told privately how to fix it.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.conversation import Thread, answer_message
from bot.locale import ui
from bot.slack_text import message_text
from handlers.common import services_of

CALLBACK_ID = "diagnose_message"
_CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


async def on_diagnose_message(
    ack: AsyncAck,
    shortcut: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    services = services_of(context)
    message = shortcut["message"]
    user = (shortcut.get("user") or {}).get("id")
    try:
        await answer_message(
            client,
            services,
            thread=Thread.of(str(shortcut["channel"]["id"]), message),
            user=user,
            text=message_text(message, context.bot_user_id),
            files=message.get("files") or [],
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in _CANNOT_POST:
            raise
        lang = await services.language(client, user, None)
        await respond(text=ui("not_in_channel", lang), response_type="ephemeral")


def register(app: AsyncApp) -> None:
    app.message_shortcut(CALLBACK_ID)(on_diagnose_message)
