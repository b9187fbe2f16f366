"""Faults the emulator can be told to produce, for tests of the client's resilience."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_DEFAULT_ERRORS = {
    400: "Bad request",
    401: "Invalid API key",
    403: "You do not have access to this organization",
    404: "Not found",
    429: "API rate limit exceeded for organization",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


@dataclass
class Fault:
    """Applies to the next `times` requests whose path matches `path` (a regex).

    With `status` the request is answered with that status and an `{"errors": [...]}`
    body (or `body`); without it the normal answer goes out, after `delay` seconds and
    with its `next` link replaced by `link_next` when given.
    """

    path: str = ".*"
    status: int | None = None
    times: int = 1
    retry_after: str | None = None
    delay: float = 0.0
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    link_next: str | None = None
    hits: int = 0

    def matches(self, path: str) -> bool:
        return self.hits < self.times and re.search(self.path, path) is not None

    def error_body(self) -> Any:
        if self.body is not None:
            return self.body
        assert self.status is not None
        return {"errors": [_DEFAULT_ERRORS.get(self.status, f"HTTP {self.status}")]}
