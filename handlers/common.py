"""Small pieces every listener needs: the shared services and the bot's own user id."""

from __future__ import annotations

from slack_bolt.context.async_context import AsyncBoltContext

from bot.services import CONTEXT_KEY, Services


def services_of(context: AsyncBoltContext) -> Services:
    return context[CONTEXT_KEY]
