"""Timing a call in a test without failing on a busy machine.

Linear-time guarantees are checked with generous limits, but a collector pause or another
job on the machine can make one run slow. Real backtracking or quadratic work is slow every
time, so a run over the limit is repeated twice with the collector paused and the fastest counts.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def timed(call: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


def least_time(call: Callable[..., object], *args: object, limit: float, first: float | None = None) -> float:
    """The call's time, or the fastest of three when the first (measured here, or `first`) is over `limit`."""
    elapsed = timed(call, *args) if first is None else first
    if elapsed < limit:
        return elapsed
    paused = gc.isenabled()
    gc.disable()
    try:
        return min(elapsed, *(timed(call, *args) for _ in range(2)))
    finally:
        if paused:
            gc.enable()
