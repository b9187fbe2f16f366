"""The shared backend for several replicas: Redis through `redis.asyncio`.

Leadership is a key set with `SET NX PX` and renewed (or released) only by its owner,
checked atomically in a short Lua script; post slots are `SET NX PX` keys that expire on
their own; webhook check requests are a list the leader waits on with BLPOP.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import redis.asyncio as redis

from bot.alerts.models import Ack, Incident, Mute, Track
from bot.alerts.state.base import LEADER_LEASE, StateStore

DEFAULT_PREFIX = "vpn-doctor:alerts:"
SETTLED_TTL_SECONDS = 7 * 24 * 3600

# Renew the lease only while we still hold it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisStore(StateStore):
    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._clock = clock
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)

    def _k(self, name: str) -> str:
        return self._prefix + name

    # Tracks -------------------------------------------------------------------------------

    async def tracks(self) -> dict[str, Track]:
        raw = await self._redis.hgetall(self._k("tracks"))
        return {key: Track.model_validate_json(data) for key, data in raw.items()}

    async def save_tracks(self, tracks: Iterable[Track]) -> None:
        mapping = {t.key: t.model_dump_json() for t in tracks}
        if mapping:
            await self._redis.hset(self._k("tracks"), mapping=mapping)

    # Incidents ----------------------------------------------------------------------------

    async def incident(self, incident_id: str) -> Incident | None:
        data = await self._redis.get(self._k(f"incident:{incident_id}"))
        return Incident.model_validate_json(data) if data else None

    async def active_incidents(self) -> list[Incident]:
        ids = await self._redis.smembers(self._k("active"))
        if not ids:
            return []
        raw = await self._redis.mget([self._k(f"incident:{i}") for i in ids])
        found = [Incident.model_validate_json(data) for data in raw if data]
        return sorted(found, key=lambda i: i.opened_at)

    async def save_incident(self, incident: Incident) -> None:
        key = self._k(f"incident:{incident.id}")
        async with self._redis.pipeline(transaction=True) as pipe:
            if incident.settled:
                # Kept a while so "Diagnose again" on an old alert still finds it.
                pipe.set(key, incident.model_dump_json(), ex=SETTLED_TTL_SECONDS)
                pipe.srem(self._k("active"), incident.id)
            else:
                pipe.set(key, incident.model_dump_json())
                pipe.sadd(self._k("active"), incident.id)
            await pipe.execute()

    async def prune_settled(self, resolved_before: float) -> int:
        """Nothing to do: settled incidents and their acknowledgements expire on their own (SETTLED_TTL_SECONDS)."""
        return 0

    # Acknowledgements and mutes -----------------------------------------------------------

    async def acknowledge(self, incident_id: str, ack: Ack) -> None:
        await self._redis.set(self._k(f"ack:{incident_id}"), ack.model_dump_json(), nx=True, ex=SETTLED_TTL_SECONDS)

    async def ack_of(self, incident_id: str) -> Ack | None:
        data = await self._redis.get(self._k(f"ack:{incident_id}"))
        return Ack.model_validate_json(data) if data else None

    async def mute(self, mute: Mute) -> None:
        await self._redis.hset(self._k("mutes"), mute.key, mute.model_dump_json())

    async def mutes(self, now: float) -> dict[str, Mute]:
        raw = await self._redis.hgetall(self._k("mutes"))
        found = {key: Mute.model_validate_json(data) for key, data in raw.items()}
        expired = [key for key, mute in found.items() if mute.until <= now]
        if expired:
            await self._redis.hdel(self._k("mutes"), *expired)
        return {key: mute for key, mute in found.items() if mute.until > now}

    # Coordination -------------------------------------------------------------------------

    async def claim_lead(self, owner: str, lease_seconds: float) -> bool:
        key, ttl_ms = self._k(LEADER_LEASE), max(1, int(lease_seconds * 1000))
        if await self._redis.set(key, owner, nx=True, px=ttl_ms):
            return True
        return bool(await self._renew(keys=[key], args=[owner, ttl_ms]))

    async def release_lead(self, owner: str) -> None:
        await self._release(keys=[self._k(LEADER_LEASE)], args=[owner])

    async def reserve_post_slot(self, channel: str, interval: float) -> float:
        key = self._k(f"post-slot:{channel}")
        if await self._redis.set(key, "1", nx=True, px=max(1, int(interval * 1000))):
            return 0.0
        left = await self._redis.pttl(key)
        return max(left, 1) / 1000.0

    async def request_check(self, network_id: str) -> None:
        await self._redis.rpush(self._k("checks"), network_id)

    async def wait_checks(self, timeout: float) -> list[str]:
        key = self._k("checks")
        first = await self._redis.blpop([key], timeout=max(timeout, 0.01))
        if first is None:
            return []
        rest = await self._redis.lpop(key, 1000) or []
        return list(dict.fromkeys([first[1], *rest]))

    async def touch(self, now: float) -> None:
        await self._redis.set(self._k("heartbeat"), repr(now), ex=300)

    async def close(self) -> None:
        await self._redis.aclose()
