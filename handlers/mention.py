"""`@VPN Doctor` in a channel or a thread: diagnose the pasted lines (or attached files)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from handlers.common import answer_event


async def on_app_mention(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await answer_event(event, client, context)


def register(app: AsyncApp) -> None:
    app.event("app_mention")(on_app_mention)
