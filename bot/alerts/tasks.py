"""Background tasks that restart after an error, and stop without hanging.

On Python 3.11 `asyncio.wait_for` can swallow a cancellation that races with its own
completion, leaving a `while True` loop running; awaiting such a task would never return.
Cancelling again until every task is done, with a bounded wait per round, ends them all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from bot import metrics

log = logging.getLogger(__name__)


async def cancel_all(tasks: Iterable[asyncio.Task[object]], grace: float = 2.0, rounds: int = 5) -> None:
    pending = {t for t in tasks if not t.done()}
    for _ in range(rounds):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=grace)
    for task in pending:
        log.warning("background task %s did not stop", task.get_name())


class Supervisor:
    """Runs background loops so that an error restarts them instead of ending them for good.

    Each error is logged once with its traceback; the loop restarts after a backoff that doubles
    up to `max_backoff` and resets once the loop has run that long without failing. Which loops
    are waiting to restart is what `/readyz` and `/metrics` report.
    """

    def __init__(self, *, backoff: float = 1.0, max_backoff: float = 30.0) -> None:
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.tasks: list[asyncio.Task[None]] = []
        self.down: dict[str, str] = {}
        self.restarts: dict[str, int] = {}

    def start(self, name: str, loop: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(name, loop), name=name)
        self.tasks.append(task)
        return task

    async def _run(self, name: str, loop: Callable[[], Awaitable[None]]) -> None:
        delay = self.backoff
        while True:
            self.down.pop(name, None)
            metrics.task_running(name, True)
            started = time.monotonic()
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if time.monotonic() - started >= self.max_backoff:
                    delay = self.backoff
                self.down[name] = f"{type(exc).__name__}, restarting in {delay:g} s"
                metrics.task_running(name, False)
                log.error("background task %s failed; restarting in %g s", name, delay, exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
            self.restarts[name] = self.restarts.get(name, 0) + 1
            metrics.task_restarted(name)
            log.info("background task %s restarted", name)

    async def stop(self) -> None:
        await cancel_all(self.tasks)
        self.tasks = []
