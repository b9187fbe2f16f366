"""Stopping background tasks without hanging.

On Python 3.11 `asyncio.wait_for` can swallow a cancellation that races with its own
completion, leaving a `while True` loop running; awaiting such a task would never return.
Cancelling again until every task is done, with a bounded wait per round, ends them all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

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
