"""Exactly one reply per user message, whatever Slack delivers.

Slack re-sends an event it thinks was lost (`X-Slack-Retry-Num`, Socket Mode
`retry_attempt`) and, when the app subscribes to both, delivers one mention as an
`app_mention` and as a `message`. Every copy carries the same channel and message
`ts`, so that pair is the key. A repeat is acknowledged with 200 (a non-2xx answer
would make Slack retry again) and goes no further. A retry whose first copy never
reached us is the first one we see, so it is answered.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 3600.0
DEFAULT_MAX_KEYS = 50_000
_DEDUPED_EVENTS = frozenset({"app_mention", "message"})


class SeenStore(Protocol):
    async def claim(self, key: str) -> bool:
        """True for the first caller with this key within the TTL, False for every later one."""
        ...


class MemorySeenStore:
    """Bounded TTL set for a single process (the bot runs as one replica)."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_keys
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    async def claim(self, key: str) -> bool:
        now = self._clock()
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self._max:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now + self._ttl
        return True


def message_key(body: Mapping[str, Any]) -> str | None:
    """The identity of the user message behind an Events API delivery, if it is one we answer."""
    if body.get("type") != "event_callback":
        return None
    event = body.get("event") or {}
    if event.get("type") not in _DEDUPED_EVENTS:
        return None
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return None
    team = body.get("team_id") or event.get("team") or "-"
    return f"{team}:{channel}:{ts}"


def retry_number(req: AsyncBoltRequest) -> str | None:
    values = req.headers.get("x-slack-retry-num") or []
    return values[0] if values else None


def drop_repeats(store: SeenStore) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A Bolt global middleware; it runs after signature checks, so only genuine copies count."""

    async def drop_repeated_deliveries(
        req: AsyncBoltRequest, resp: BoltResponse, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        key = message_key(body)
        if key is None or await store.claim(key):
            await next()
            return resp
        log.info(
            "ignored a repeated delivery event_id=%s type=%s retry=%s",
            body.get("event_id"),
            (body.get("event") or {}).get("type"),
            retry_number(req),
        )
        return BoltResponse(status=200, body="")

    return drop_repeated_deliveries
