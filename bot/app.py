"""The Bolt app factory: one fresh `AsyncApp` per call, never a module-level app.

This is the composition root, the one place that knows every listener module;
`handlers.LISTENER_MODULES` is the list to extend with a new module.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from yarl import URL

from bot.chat import parse_request
from bot.conversation import apologise, new_correlation_id, thread_of
from bot.dedupe import drop_repeats
from bot.logs import current_correlation_id, request_context
from bot.services import CONTEXT_KEY, Services
from bot.settings import Settings
from bot.slack_text import message_text

log = logging.getLogger(__name__)

# Bolt's own loggers take their level from this one. Bolt logs a rejected request's
# whole body at INFO, and a body holds the pasted log, so Bolt only speaks from WARNING.
BOLT_LOGGER = "bot.slack_bolt"


class SlackNotConfigured(RuntimeError):
    """create_app was called without a bot token; the shell needs no Slack app at all."""


def slack_proxy(api_url: str) -> str | None:
    """The proxy for the Slack Web API from HTTPS_PROXY / HTTP_PROXY, or None where NO_PROXY names its host.

    The Slack SDK reads the proxy variables itself but not NO_PROXY, so the answer is set on every client.
    """
    try:
        proxy, _ = get_env_proxy_for_url(URL(api_url))
    except LookupError:
        return None
    return str(proxy)


def web_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """Web API client with 429 (Retry-After), 5xx and connection-error retries."""
    client = AsyncWebClient(
        token=settings.reveal(settings.slack_bot_token),
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )
    client.proxy = slack_proxy(settings.slack_api_url)  # set after: the SDK would read the proxy from the environment
    return client


class _ExpectedClientWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN from the environment is unused when a client is passed.

    Passing our own client (Web API base URL, retry handlers, shared session) is deliberate, and
    that client carries the same token, so the warning would only alarm operators at every start.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


class _BoltApp(AsyncApp):
    """Bolt builds each request's Web API client anew (its proxy from the environment, NO_PROXY unread);
    here it takes the app client's proxy, which follows NO_PROXY."""

    def _init_context(self, req: AsyncBoltRequest) -> None:
        super()._init_context(req)
        req.context["client"].proxy = self.client.proxy


def create_app(
    settings: Settings,
    *,
    session: aiohttp.ClientSession | None = None,
    services: Services | None = None,
) -> AsyncApp:
    """A Bolt app with every listener module registered.

    `session` (created inside the running loop) is shared by the Web API client and
    file downloads, so calls reuse connections instead of opening one per request.
    """
    if settings.slack_bot_token is None:
        raise SlackNotConfigured("SLACK_BOT_TOKEN is not set")
    from handlers import LISTENER_MODULES

    bolt_logger = logging.getLogger(BOLT_LOGGER)
    if bolt_logger.level == logging.NOTSET:
        bolt_logger.setLevel(logging.WARNING)
    if not any(isinstance(f, _ExpectedClientWarning) for f in bolt_logger.filters):
        bolt_logger.addFilter(_ExpectedClientWarning())
    shared = services or Services(settings=settings, session=session)
    app = _BoltApp(
        client=web_client(settings, session),
        signing_secret=settings.reveal(settings.slack_signing_secret) or "",
        logger=bolt_logger,
        name="vpn-doctor",
    )

    async def provide_services(context: AsyncBoltContext, resp: BoltResponse, next: Any) -> BoltResponse:
        context[CONTEXT_KEY] = shared
        await next()
        return resp

    app.middleware(request_context)  # first, so every record about this request carries its fields
    app.middleware(provide_services)
    app.middleware(drop_repeats(shared.seen))
    app.error(_error_handler(shared))
    for module in LISTENER_MODULES:
        module.register(app)
    return app


def _error_handler(services: Services) -> Any:
    async def on_error(
        error: Exception, body: dict[str, Any], context: AsyncBoltContext, response: BoltResponse | None
    ) -> None:
        """Log the full error under a correlation id; tell the user only that id, in the thread."""
        correlation_id = current_correlation_id() or new_correlation_id()
        log.error(
            "unhandled error correlation_id=%s type=%s",
            correlation_id,
            body.get("type"),
            exc_info=(type(error), error, error.__traceback__),
        )
        thread = thread_of(body)
        client = context.client
        if thread is None or client is None:
            return
        message = body.get("event") or body.get("message") or {}
        requested = parse_request(message_text(message, context.bot_user_id)).lang
        try:
            await apologise(client, services, thread, context.user_id, correlation_id, requested)
        except Exception:
            log.exception("could not post the apology correlation_id=%s", correlation_id)

    return on_error

