"""Requests being answered right now, so a shutdown finishes them or says they were not answered.

Bolt acknowledges Slack before a listener runs, so when the process is told to stop, some
answers may still be on their way. Each listener that owes a person an answer registers
here with what to do if it cannot finish (swap the 👀 reaction and leave a thread note,
update a "Checking…" parent). On shutdown the work gets the grace period; what is still
running then is cancelled and marked, each mark bounded by its own short deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Mark = Callable[[], Awaitable[None]]
MARK_SECONDS = 5.0


@dataclass
class _Work:
    task: asyncio.Task[object]
    mark: Mark
    what: str


@dataclass
class InFlight:
    """The registry; `track` wraps one answer, `finish` runs once at shutdown."""

    _work: dict[int, _Work] = field(default_factory=dict)
    _ids: int = 0

    def __len__(self) -> int:
        return len(self._work)

    @contextlib.asynccontextmanager
    async def track(self, what: str, mark: Mark) -> AsyncIterator[None]:
        """Run the body as work owed to someone; `mark` tells them if it is cut short."""
        task = asyncio.current_task()
        assert task is not None, "listeners run in tasks"
        self._ids += 1
        key = self._ids
        self._work[key] = _Work(task, mark, what)
        try:
            yield
        finally:
            self._work.pop(key, None)

    def replace_mark(self, mark: Mark) -> None:
        """The current task's work found a better way to say it was cut short (a parent message now exists)."""
        task = asyncio.current_task()
        for work in self._work.values():
            if work.task is task:
                work.mark = mark

    async def finish(self, grace: float, mark_seconds: float = MARK_SECONDS) -> int:
        """Wait up to `grace` for the work; cancel and mark what is left. Returns how many were marked."""
        running = list(self._work.values())
        if running:
            await asyncio.wait([w.task for w in running], timeout=grace)
        cut = [w for w in running if not w.task.done()]
        if not cut:
            return 0
        for work in cut:
            work.task.cancel()
        await asyncio.wait([w.task for w in cut], timeout=1.0)
        marks = [asyncio.ensure_future(_bounded(w, mark_seconds)) for w in cut]
        await asyncio.wait(marks)
        log.warning("shutdown cut %d answer(s) short and told the people waiting: %s", len(cut), _kinds(cut))
        return len(cut)


async def _bounded(work: _Work, seconds: float) -> None:
    try:
        await asyncio.wait_for(work.mark(), seconds)
    except Exception as exc:  # a mark is best effort, and one failing must not stop the others
        log.warning("could not mark an unfinished %s: %s", work.what, type(exc).__name__)


def _kinds(cut: list[_Work]) -> str:
    counts: dict[str, int] = {}
    for work in cut:
        counts[work.what] = counts.get(work.what, 0) + 1
    return ", ".join(f"{what}={n}" for what, n in sorted(counts.items()))
