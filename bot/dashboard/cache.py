"""A small time-to-live cache for Dashboard data that changes rarely.

Peers, networks, devices and event types change at human speed; caching them for a
few minutes keeps a warm `/vpn` lookup at a handful of calls. Concurrent callers asking
for the same cold key share one load instead of each calling the Dashboard.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

DEFAULT_TTL_S = 300.0


class TTLCache:
    def __init__(self, ttl: float = DEFAULT_TTL_S, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._loading: dict[Hashable, asyncio.Lock] = {}
        self.hits = 0
        self.misses = 0

    def _fresh(self, key: Hashable) -> tuple[bool, Any]:
        entry = self._values.get(key)
        if entry is not None and entry[0] > self._clock():
            return True, entry[1]
        return False, None

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:
        found, value = self._fresh(key)
        if found:
            self.hits += 1
            return value
        lock = self._loading.setdefault(key, asyncio.Lock())
        async with lock:
            found, value = self._fresh(key)
            if found:
                self.hits += 1
                return value
            self.misses += 1
            value = await load()
            self._values[key] = (self._clock() + self.ttl, value)
            return value

    def clear(self) -> None:
        self._values.clear()
