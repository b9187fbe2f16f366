"""Exactly one reply per user message, whatever Slack delivers.

Slack re-sends an event it thinks was lost (`X-Slack-Retry-Num`, Socket Mode
`retry_attempt`) and, when the app subscribes to both, delivers one mention as an
`app_mention` and as a `message`. Every copy carries the same channel and message
`ts`, so that pair is the key. A repeat is acknowledged with 200 (a non-2xx answer
would make Slack retry again) and goes no further. A retry whose first copy never
reached us is the first one we see, so it is answered.

With several HTTP replicas a re-delivery can reach another replica than the first copy,
so the record of answered messages must be shared: when VPN_DOCTOR_STATE names a Redis
server (as the alerts do for the same reason), the first replica to `SET NX` the key
answers. With the default SQLite state the record is a table of the same file, so a
retry arriving after a restart is still known. An outage of either must not silence the
bot, so a check the shared record cannot answer falls back to this process's own record.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypedDict, Unpack

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.settings import REDIS_SCHEMES, SQLITE_PREFIX

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 3600.0
DEFAULT_MAX_KEYS = 50_000
SEEN_PREFIX = "vpn-doctor:seen:"
# The check runs before Slack gets its acknowledgement (3 s), so Redis gets a short say.
REDIS_TIMEOUT_SECONDS = 0.5
# After Redis failed, later checks use the local record for this long before asking it again.
REDIS_RETRY_SECONDS = 5.0
# Expired rows of the SQLite record are deleted once per this many claims.
SWEEP_EVERY = 500
_DEDUPED_EVENTS = frozenset({"app_mention", "message"})


class SeenStore(Protocol):
    async def claim(self, key: str) -> bool:
        """True for the first caller with this key within the TTL, False for every later one."""
        ...

    async def aclose(self) -> None:
        """Release connections, if any."""
        ...


class MemorySeenStore:
    """Bounded TTL set for a single process (one replica, or Redis unreachable)."""

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

    async def aclose(self) -> None:
        self._seen.clear()


class SharedOptions(TypedDict, total=False):
    """How a shared record waits and forgets (the keywords of SharedSeenStore)."""

    ttl_seconds: float
    timeout: float
    retry_seconds: float
    clock: Callable[[], float]


class SharedSeenStore(ABC):
    """A record kept outside this process, with this process's own record as the fallback.

    Every claim is also noted locally, so repeats reaching this process are still caught
    while the shared record is away. When it cannot answer, the local record decides
    (fail open: a possible second answer beats none), one WARNING marks the outage and
    it is asked again after a few seconds.
    """

    name = "shared"

    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        timeout: float = REDIS_TIMEOUT_SECONDS,
        retry_seconds: float = REDIS_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_seconds = ttl_seconds
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._local = MemorySeenStore(ttl_seconds, clock=clock)
        self._down_until: float | None = None

    @abstractmethod
    async def _claim_shared(self, key: str) -> bool:
        """True when the shared record had not seen the key (and now has)."""

    async def claim(self, key: str) -> bool:
        first_here = await self._local.claim(key)
        if self._down_until is not None and self._clock() < self._down_until:
            return first_here
        try:
            claimed = await asyncio.wait_for(self._claim_shared(key), self._timeout * 2)
        except (redis.RedisError, sqlite3.Error, OSError, TimeoutError) as exc:
            if self._down_until is None:
                log.warning(
                    "the shared repeat filter (%s) did not answer, checking repeats in this process only "
                    "until it does: %s",
                    self.name,
                    type(exc).__name__,
                )
            self._down_until = self._clock() + self._retry_seconds
            return first_here
        if self._down_until is not None:
            log.info("the shared repeat filter (%s) answers again", self.name)
            self._down_until = None
        # Seen here already (say, while the shared record was away): a repeat, though it had not heard of it.
        return first_here and claimed


class RedisSeenStore(SharedSeenStore):
    """The record every replica shares: one `SET key 1 NX EX ttl` per message decides who answers.

    Keys are `vpn-doctor:seen:<team>:<channel>:<ts>` and expire on their own.
    """

    name = "Redis"

    def __init__(self, url: str, *, prefix: str = SEEN_PREFIX, **options: Unpack[SharedOptions]) -> None:
        super().__init__(**options)
        self._redis = redis.from_url(
            url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            retry=Retry(NoBackoff(), 1),  # one quick retry for a pooled connection the server dropped
        )
        self._ttl = max(1, round(self._ttl_seconds))
        self._prefix = prefix

    async def _claim_shared(self, key: str) -> bool:
        return bool(await self._redis.set(self._prefix + key, 1, nx=True, ex=self._ttl))

    async def aclose(self) -> None:
        await self._redis.aclose()


class SqliteSeenStore(SharedSeenStore):
    """The record in the SQLite state file, so a Slack retry that arrives after a restart is still a repeat.

    The file is opened on the first claim (a bot that is never asked creates nothing);
    expired rows are swept every few hundred claims.
    """

    name = "SQLite"

    def __init__(self, path: str, **options: Unpack[SharedOptions]) -> None:
        options.setdefault("clock", time.time)  # expiry times are stored, so they must survive a restart
        super().__init__(**options)
        self.path = path
        self._ttl = self._ttl_seconds
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._claims = 0

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires REAL NOT NULL)")
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _claim_now(self, key: str) -> bool:
        with self._lock:
            db = self._open()
            now = self._clock()
            self._claims += 1
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM seen WHERE key = ? AND expires <= ?", (key, now))
                inserted = db.execute(
                    "INSERT OR IGNORE INTO seen (key, expires) VALUES (?, ?)", (key, now + self._ttl)
                ).rowcount
                if self._claims % SWEEP_EVERY == 0:
                    db.execute("DELETE FROM seen WHERE expires <= ?", (now,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return inserted == 1

    async def _claim_shared(self, key: str) -> bool:
        return await asyncio.to_thread(self._claim_now, key)

    async def aclose(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def open_seen_store(state_url: str) -> SeenStore:
    """The record lives where VPN_DOCTOR_STATE says: a Redis server the replicas share, or the SQLite file."""
    if state_url.startswith(REDIS_SCHEMES):
        return RedisSeenStore(state_url)
    if state_url.startswith(SQLITE_PREFIX) and state_url.removeprefix(SQLITE_PREFIX):
        return SqliteSeenStore(state_url.removeprefix(SQLITE_PREFIX))
    return MemorySeenStore()


def message_key(body: Mapping[str, Any]) -> str | None:
    """The identity of the user action behind a delivery, if it is one we answer.

    A message shortcut is one click: Slack gives each click its own `trigger_id`, so a payload
    that arrives twice with the same trigger is one click delivered twice.
    """
    if body.get("type") == "message_action":
        trigger = body.get("trigger_id")
        team = body.get("team")
        team_id = team.get("id") if isinstance(team, Mapping) else None
        return f"{team_id or '-'}:shortcut:{trigger}" if trigger else None
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
