"""Channel posts at Slack's pace: at most one message per second per channel, queued, never dropped.

Slack allows about one `chat.postMessage` per second per channel. Each channel gets a
FIFO queue and one worker; before each post the worker reserves the channel's slot in
the state store, so replicas sharing Redis keep the pace together.

Failures, by what can fix them:
- transient (rate limit, Slack 5xx, network): the message stays at the head of the queue
  and is retried with a backoff capped at 30 s;
- the channel or the token is unusable (bot not in the channel, channel gone, token
  revoked): only a person can fix that, so the message stays queued and is retried with a
  backoff doubling up to 5 minutes; one WARNING names the channel and Slack's error code,
  and one INFO says when posting works again — never a log line per attempt;
- the message itself is refused (bad blocks, too long): retrying cannot help, so it is
  raised to the caller.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.state import StateStore
from bot.alerts.tasks import cancel_all

log = logging.getLogger("bot.alerts.poster")

POST_INTERVAL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
BLOCKED_BACKOFF_SECONDS = 5.0
MAX_BLOCKED_BACKOFF_SECONDS = 300.0
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"}
)
# Slack's answers about the message itself; every other refusal is about the channel or the token.
_MESSAGE_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_attachments",
        "invalid_arguments",
        "invalid_form_data",
        "invalid_json",
        "json_not_object",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "markdown_text_conflict",
    }
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        return status == 429 or status >= 500 or error.response.get("error") in _TRANSIENT_ERRORS
    return isinstance(error, aiohttp.ClientError | TimeoutError | ConnectionError)


def blocks_channel(error: BaseException) -> bool:
    """A refusal that holds for every message to the channel until someone fixes the channel or token."""
    return (
        isinstance(error, SlackApiError)
        and not is_transient(error)
        and error.response.get("error") not in _MESSAGE_ERRORS
    )


@dataclass
class _Post:
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    done: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Poster:
    def __init__(
        self,
        client: AsyncWebClient,
        store: StateStore,
        *,
        interval: float = POST_INTERVAL_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        blocked_backoff: float = BLOCKED_BACKOFF_SECONDS,
        max_blocked_backoff: float = MAX_BLOCKED_BACKOFF_SECONDS,
    ) -> None:
        self.client = client
        self.store = store
        self.interval = interval
        self.max_backoff = max_backoff
        self.blocked_backoff = blocked_backoff
        self.max_blocked_backoff = max_blocked_backoff
        self._queues: dict[str, asyncio.Queue[_Post]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        # Channel → Slack's error code, while posts there are held; what was logged already.
        self.blocked: dict[str, str] = {}

    async def post(
        self, channel: str, text: str, blocks: list[dict[str, Any]], *, thread_ts: str | None = None
    ) -> str:
        """Queue a message and wait until it is posted; returns its `ts`."""
        item = _Post(channel, text, blocks, thread_ts)
        queue = self._queues.get(channel)
        if queue is None:
            queue = self._queues[channel] = asyncio.Queue()
            self._workers[channel] = asyncio.create_task(self._work(queue), name=f"alert-poster-{channel}")
        queue.put_nowait(item)
        return await asyncio.shield(item.done)

    async def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Edits (chat.update) are a separate, more generous rate tier; they are not queued."""
        await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def backlog(self, channel: str) -> int:
        queue = self._queues.get(channel)
        return queue.qsize() if queue else 0

    async def _wait_for_slot(self, channel: str) -> None:
        while (wait := await self.store.reserve_post_slot(channel, self.interval)) > 0:
            await asyncio.sleep(wait)

    async def _work(self, queue: asyncio.Queue[_Post]) -> None:
        while True:
            item = await queue.get()
            try:
                item.done.set_result(await self._send(item))
            except asyncio.CancelledError:
                item.done.cancel()
                raise
            except Exception as exc:
                item.done.set_exception(exc)
            finally:
                queue.task_done()

    async def _send(self, item: _Post) -> str:
        backoff = self.interval
        held = self.blocked_backoff
        while True:
            await self._wait_for_slot(item.channel)
            try:
                response = await self.client.chat_postMessage(
                    channel=item.channel,
                    text=item.text,
                    blocks=item.blocks,
                    thread_ts=item.thread_ts,
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except Exception as exc:
                if blocks_channel(exc):
                    self._held(item.channel, _reason(exc))
                    await asyncio.sleep(held)
                    held = min(held * 2, self.max_blocked_backoff)
                    continue
                if not is_transient(exc):
                    raise
                log.warning("alert post to %s failed (%s); retrying in %.1fs", item.channel, _reason(exc), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            if self.blocked.pop(item.channel, None) is not None:
                log.info("alert posts to %s work again; the held messages follow", item.channel)
            return str(response["ts"])

    def _held(self, channel: str, error: str) -> None:
        """Log a blocked channel once per cause, not once per attempt."""
        if self.blocked.get(channel) == error:
            log.debug("alert post to %s still refused (%s)", channel, error)
            return
        self.blocked[channel] = error
        log.warning(
            "alert posts to %s are held: Slack answers %s; retrying with a backoff up to %gs, nothing is dropped",
            channel,
            error,
            self.max_blocked_backoff,
        )

    async def close(self) -> None:
        await cancel_all(self._workers.values())
        self._workers.clear()
        self._queues.clear()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
