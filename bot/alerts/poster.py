"""Channel posts at Slack's pace: at most one message per second per channel, queued, never dropped.

Slack allows about one `chat.postMessage` per second per channel. Each channel gets a
FIFO queue and one worker; before each post the worker reserves the channel's slot in
the state store, so replicas sharing Redis keep the pace together. A transient failure
(rate limit, Slack 5xx, network) keeps the message at the head of the queue and retries
with a capped backoff; a permanent one (no such channel, bad blocks) is raised to the
caller, who keeps the incident pending and tries again on a later poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.state import StateStore

log = logging.getLogger("bot.alerts.poster")

POST_INTERVAL_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"}
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        return status == 429 or status >= 500 or error.response.get("error") in _TRANSIENT_ERRORS
    return isinstance(error, aiohttp.ClientError | TimeoutError | ConnectionError)


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
    ) -> None:
        self.client = client
        self.store = store
        self.interval = interval
        self.max_backoff = max_backoff
        self._queues: dict[str, asyncio.Queue[_Post]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

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
                return str(response["ts"])
            except Exception as exc:
                if not is_transient(exc):
                    raise
                log.warning("alert post to %s failed (%s); retrying in %.1fs", item.channel, _reason(exc), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def close(self) -> None:
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._queues.clear()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
