"""Alert state behind one interface: `open_state("sqlite:///file")` or `open_state("redis://host/0")`."""

from __future__ import annotations

from bot.alerts.state.base import StateStore
from bot.alerts.state.sqlite_store import SqliteStore
from bot.settings import REDIS_SCHEMES, SQLITE_PREFIX


class StateUrlError(ValueError):
    """VPN_DOCTOR_STATE names neither a SQLite file nor a Redis server."""


def open_state(url: str) -> StateStore:
    """A SQLite file (relative paths from the working directory) or a Redis server (`redis://`, `rediss://`)."""
    if url.startswith(SQLITE_PREFIX):
        path = url.removeprefix(SQLITE_PREFIX)
        if not path:
            raise StateUrlError("VPN_DOCTOR_STATE=sqlite:/// needs a file name, e.g. sqlite:///vpn-doctor-state.sqlite3")
        return SqliteStore(path)
    if url.startswith(REDIS_SCHEMES):
        from bot.alerts.state.redis_store import RedisStore

        return RedisStore(url)
    raise StateUrlError("VPN_DOCTOR_STATE must start with sqlite:/// or redis://")


__all__ = ["StateStore", "StateUrlError", "open_state"]
