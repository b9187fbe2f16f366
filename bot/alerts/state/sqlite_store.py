"""The default backend: one SQLite file (stdlib `sqlite3`), for a single replica.

Calls run in a worker thread so a slow disk never stalls the event loop. Leadership is
an exclusive `flock` on `<file>.leader`: the kernel drops it the moment the process
dies, so a replica restarted after a crash polls again at once instead of waiting out a
lease. With the post-slot rows, two processes sharing the file behave like Redis
replicas do (one polls, posts stay spaced), although several replicas should use Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from bot.alerts.models import Ack, Incident, Mute, Track
from bot.alerts.state.base import StateStore

T = TypeVar("T")
CHECK_POLL_SECONDS = 0.2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tracks (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (id TEXT PRIMARY KEY, active INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_active ON incidents (active);
CREATE TABLE IF NOT EXISTS acks (incident_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mutes (key TEXT PRIMARY KEY, until REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS post_slots (channel TEXT PRIMARY KEY, next_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS checks (id INTEGER PRIMARY KEY AUTOINCREMENT, network_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
"""


class SqliteStore(StateStore):
    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        try:
            self._db.executescript(_SCHEMA)
            # A file that opens but cannot be written (read-only mount, full disk) fails here, at start-up.
            self._beat(self._db, clock())
        except BaseException:
            self._db.close()
            raise
        self._lock = threading.Lock()
        self._clock = clock
        self._checks_waiting = asyncio.Event()
        self._leader: str | None = None
        self._leader_fd: int | None = None

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work(self._db)

        return await asyncio.to_thread(locked)

    @staticmethod
    def _transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
        """BEGIN IMMEDIATE takes the write lock up front, so read-then-write steps are atomic across processes."""
        db.execute("BEGIN IMMEDIATE")
        try:
            result = work(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    # Tracks -------------------------------------------------------------------------------

    async def tracks(self) -> dict[str, Track]:
        rows = await self._run(lambda db: db.execute("SELECT data FROM tracks").fetchall())
        found = (Track.model_validate_json(data) for (data,) in rows)
        return {t.key: t for t in found}

    async def save_tracks(self, tracks: Iterable[Track]) -> None:
        rows = [(t.key, t.model_dump_json()) for t in tracks]
        if not rows:
            return
        sql = "INSERT INTO tracks (key, data) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET data = excluded.data"
        await self._run(lambda db: self._transaction(db, lambda d: d.executemany(sql, rows)))

    # Incidents ----------------------------------------------------------------------------

    async def incident(self, incident_id: str) -> Incident | None:
        row = await self._run(
            lambda db: db.execute("SELECT data FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        )
        return Incident.model_validate_json(row[0]) if row else None

    async def active_incidents(self) -> list[Incident]:
        rows = await self._run(lambda db: db.execute("SELECT data FROM incidents WHERE active = 1").fetchall())
        return sorted((Incident.model_validate_json(data) for (data,) in rows), key=lambda i: i.opened_at)

    async def save_incident(self, incident: Incident) -> None:
        row = (incident.id, 0 if incident.settled else 1, incident.model_dump_json())
        sql = (
            "INSERT INTO incidents (id, active, data) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET active = excluded.active, data = excluded.data"
        )
        await self._run(lambda db: db.execute(sql, row))

    async def prune_settled(self, resolved_before: float) -> int:
        def prune(db: sqlite3.Connection) -> int:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM incidents WHERE active = 0 AND json_extract(data, '$.resolved_at') < ?",
                    (resolved_before,),
                )
            ]
            db.executemany("DELETE FROM acks WHERE incident_id = ?", [(i,) for i in ids])
            db.executemany("DELETE FROM incidents WHERE id = ?", [(i,) for i in ids])
            return len(ids)

        return await self._run(lambda db: self._transaction(db, prune))

    # Acknowledgements and mutes -----------------------------------------------------------

    async def acknowledge(self, incident_id: str, ack: Ack) -> None:
        sql = "INSERT INTO acks (incident_id, data) VALUES (?, ?) ON CONFLICT(incident_id) DO NOTHING"
        await self._run(lambda db: db.execute(sql, (incident_id, ack.model_dump_json())))

    async def ack_of(self, incident_id: str) -> Ack | None:
        row = await self._run(
            lambda db: db.execute("SELECT data FROM acks WHERE incident_id = ?", (incident_id,)).fetchone()
        )
        return Ack.model_validate_json(row[0]) if row else None

    async def mute(self, mute: Mute) -> None:
        sql = (
            "INSERT INTO mutes (key, until, data) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET until = excluded.until, data = excluded.data"
        )
        await self._run(lambda db: db.execute(sql, (mute.key, mute.until, mute.model_dump_json())))

    async def mutes(self, now: float) -> dict[str, Mute]:
        def read(db: sqlite3.Connection) -> list[tuple[str]]:
            db.execute("DELETE FROM mutes WHERE until <= ?", (now,))
            return db.execute("SELECT data FROM mutes").fetchall()

        rows = await self._run(read)
        found = (Mute.model_validate_json(data) for (data,) in rows)
        return {m.key: m for m in found}

    # Coordination -------------------------------------------------------------------------

    async def claim_lead(self, owner: str, lease_seconds: float) -> bool:
        """The lock is held until released or the process ends, so the lease length does not apply."""
        return await asyncio.to_thread(self._take_lock, owner)

    def _take_lock(self, owner: str) -> bool:
        with self._lock:
            if self._leader is not None:
                return self._leader == owner
            if self.path != ":memory:":
                fd = os.open(self.path + ".leader", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    return False
                self._leader_fd = fd
            self._leader = owner
            return True

    async def release_lead(self, owner: str) -> None:
        await asyncio.to_thread(self._drop_lock, owner)

    def _drop_lock(self, owner: str | None) -> None:
        with self._lock:
            if self._leader is None or (owner is not None and self._leader != owner):
                return
            if self._leader_fd is not None:
                os.close(self._leader_fd)  # closing the descriptor releases the flock
                self._leader_fd = None
            self._leader = None

    async def reserve_post_slot(self, channel: str, interval: float) -> float:
        def reserve(db: sqlite3.Connection) -> float:
            now = self._clock()
            row = db.execute("SELECT next_at FROM post_slots WHERE channel = ?", (channel,)).fetchone()
            if row is not None and row[0] > now:
                return float(row[0] - now)
            db.execute(
                "INSERT INTO post_slots (channel, next_at) VALUES (?, ?) "
                "ON CONFLICT(channel) DO UPDATE SET next_at = excluded.next_at",
                (channel, now + interval),
            )
            return 0.0

        return await self._run(lambda db: self._transaction(db, reserve))

    async def request_check(self, network_id: str) -> None:
        await self._run(lambda db: db.execute("INSERT INTO checks (network_id) VALUES (?)", (network_id,)))
        self._checks_waiting.set()

    async def _take_checks(self) -> list[str]:
        def take(db: sqlite3.Connection) -> list[str]:
            rows = db.execute("SELECT network_id FROM checks ORDER BY id").fetchall()
            db.execute("DELETE FROM checks")
            return list(dict.fromkeys(r[0] for r in rows))

        return await self._run(lambda db: self._transaction(db, take))

    async def wait_checks(self, timeout: float) -> list[str]:
        """Same-process requests wake the wait at once; another process's are seen within 0.2 s."""
        deadline = time.monotonic() + timeout
        while True:
            self._checks_waiting.clear()
            found = await self._take_checks()
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._checks_waiting.wait(), min(remaining, CHECK_POLL_SECONDS))

    @staticmethod
    def _beat(db: sqlite3.Connection, now: float) -> None:
        sql = "INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at"
        db.execute(sql, (now,))

    async def touch(self, now: float) -> None:
        await self._run(lambda db: self._beat(db, now))

    async def close(self) -> None:
        self._drop_lock(None)
        await self._run(lambda db: db.close())
