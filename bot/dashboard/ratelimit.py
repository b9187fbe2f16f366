"""Per-organisation pacing: at most N requests in any sliding one-second window.

Meraki's budget (10 req/s per organisation) is shared with every other tool on the key,
so the bot keeps well under it and never bursts above its own share either. A token
bucket would allow a burst after idle time; a sliding window of send times does not.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]

# The Dashboard counts a request when it arrives, not when we send it; the guard
# absorbs transit and event-loop jitter so arrivals stay within the budget too.
DEFAULT_GUARD_S = 0.1


class SlidingWindowLimiter:
    def __init__(self, rps: float, *, guard: float = DEFAULT_GUARD_S, clock: Clock = time.monotonic) -> None:
        if rps <= 0:
            raise ValueError("rps must be positive")
        if rps >= 1:
            self.limit = int(rps)
            base_window = 1.0
        else:
            self.limit = 1
            base_window = 1.0 / rps
        self.window = base_window + guard
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, key: str) -> None:
        """Wait until one more request for `key` fits in the window, then claim the slot."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        sent = self._sent.setdefault(key, deque())
        async with lock:
            while True:
                now = self._clock()
                while sent and sent[0] <= now - self.window:
                    sent.popleft()
                if len(sent) < self.limit:
                    sent.append(now)
                    return
                await asyncio.sleep(sent[0] + self.window - now)
