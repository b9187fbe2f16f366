"""Both state backends behave the same: SQLite in a temporary folder, a real redis-server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.alerts.models import Ack, Incident, IncidentPeer, Mute, Track
from bot.alerts.poller import advance
from bot.alerts.state import StateUrlError, open_state
from bot.alerts.state.base import StateStore
from bot.alerts.state.redis_store import SETTLED_TTL_SECONDS, RedisStore
from bot.alerts.state.sqlite_store import SqliteStore
from tests.alerts_harness import alert_rig, texts
from tests.redis_server import redis_server  # noqa: F401  (the session fixture)


@pytest.fixture(params=["sqlite", "redis"])
async def store(request, tmp_path) -> AsyncIterator[StateStore]:
    if request.param == "sqlite":
        made: StateStore = SqliteStore(tmp_path / "state.sqlite3")
    else:
        server = request.getfixturevalue("redis_server")
        made = RedisStore(server.url, prefix=f"test:{uuid.uuid4().hex}:")
    yield made
    await made.close()


def incident(**changes) -> Incident:
    values = {
        "network_id": "N_1",
        "network_name": "Tokyo DC",
        "channel": "C1",
        "peers": [IncidentPeer(name="azure", down_since=100.0)],
        "opened_at": 101.0,
    }
    values.update(changes)
    return Incident(**values)


async def test_tracks_round_trip(store):
    tracks = [
        Track(network_id="N_1", peer="a", down=True, down_streak=2, down_since=5.0),
        Track(network_id="N_2", peer="b"),
    ]
    await store.save_tracks(tracks)
    await store.save_tracks([tracks[1].model_copy(update={"reachability": "unreachable"})])
    found = await store.tracks()
    assert set(found) == {"N_1|a", "N_2|b"}
    assert found["N_1|a"].down and found["N_1|a"].down_since == 5.0
    assert found["N_2|b"].reachability == "unreachable"


async def test_incidents_stay_active_until_their_recovery_is_posted(store):
    first = incident()
    await store.save_incident(first)
    assert [i.id for i in await store.active_incidents()] == [first.id]
    first.resolved_at = 200.0
    await store.save_incident(first)
    assert [i.id for i in await store.active_incidents()] == [first.id]
    first.resolution_posted = True
    await store.save_incident(first)
    assert await store.active_incidents() == []
    kept = await store.incident(first.id)
    assert kept is not None and kept.resolved_at == 200.0, "a settled incident still answers its buttons"


async def test_the_first_acknowledgement_wins(store):
    await store.acknowledge("i1", Ack(user="U1", at=1.0))
    await store.acknowledge("i1", Ack(user="U2", at=2.0))
    assert (await store.ack_of("i1")) == Ack(user="U1", at=1.0)
    assert await store.ack_of("i2") is None


async def test_mutes_expire(store):
    await store.mute(Mute(key="N_1|a", until=100.0, by="U1"))
    await store.mute(Mute(key="N_1|b", until=300.0))
    assert set(await store.mutes(50.0)) == {"N_1|a", "N_1|b"}
    assert set(await store.mutes(200.0)) == {"N_1|b"}


async def test_one_lease_holder_until_the_lease_runs_out(redis_server):  # noqa: F811
    store = RedisStore(redis_server.url, prefix=f"test:{uuid.uuid4().hex}:")
    assert await store.claim_lead("one", 0.3)
    assert not await store.claim_lead("two", 0.3)
    assert await store.claim_lead("one", 0.3), "the holder renews"
    await asyncio.sleep(0.4)
    assert await store.claim_lead("two", 0.3), "an expired lease is free"
    assert not await store.claim_lead("one", 0.3)
    await store.release_lead("one")
    assert not await store.claim_lead("one", 0.3), "only the holder can release"
    await store.release_lead("two")
    assert await store.claim_lead("one", 0.3)
    await store.close()


async def test_sqlite_leadership_is_a_file_lock_held_until_released_or_closed(tmp_path):
    path = tmp_path / "state.sqlite3"
    first, second = SqliteStore(path), SqliteStore(path)
    assert await first.claim_lead("one", 0.3)
    assert not await second.claim_lead("two", 0.3)
    await asyncio.sleep(0.4)
    assert not await second.claim_lead("two", 0.3), "no lease runs out: the holder is alive"
    assert not await first.claim_lead("two", 0.3), "one owner per store"
    await first.release_lead("two")
    assert not await second.claim_lead("two", 0.3), "only the holder can release"
    await first.close()  # what the kernel does when the holder's process dies
    assert await second.claim_lead("two", 0.3)
    assert await second.claim_lead("two", 0.3), "the holder renews"
    await second.close()


async def test_post_slots_space_posts_per_channel(store):
    assert await store.reserve_post_slot("C1", 0.5) == 0
    wait = await store.reserve_post_slot("C1", 0.5)
    assert 0 < wait <= 0.5
    assert await store.reserve_post_slot("C2", 0.5) == 0, "channels are paced separately"
    await asyncio.sleep(wait + 0.02)
    assert await store.reserve_post_slot("C1", 0.5) == 0


async def test_check_requests_wake_the_waiter(store):
    started = time.monotonic()
    assert await store.wait_checks(0.1) == []
    assert time.monotonic() - started >= 0.09
    waiter = asyncio.create_task(store.wait_checks(5.0))
    await asyncio.sleep(0.05)
    await store.request_check("N_1")
    await store.request_check("N_1")
    await store.request_check("N_2")
    found = await asyncio.wait_for(waiter, 2.0)
    assert found[0] == "N_1"
    rest = found[1:] + await store.wait_checks(0.05)
    assert set(found + rest) == {"N_1", "N_2"}


def test_state_urls():
    assert isinstance(open_state("redis://127.0.0.1:1/0"), RedisStore)
    with pytest.raises(StateUrlError):
        open_state("sqlite:///")
    with pytest.raises(StateUrlError):
        open_state("postgres://db/x")


def test_hold_down_counts_consecutive_polls():
    track = Track(network_id="N", peer="p")
    assert advance(track, False, 10.0, 2) is None
    assert advance(track, True, 11.0, 2) is None, "one bad poll then a good one: nothing"
    assert advance(track, False, 12.0, 2) is None
    assert advance(track, False, 13.0, 2) == "down"
    assert track.down_since == 12.0
    assert advance(track, False, 14.0, 2) is None, "still down: no second alert"
    assert advance(track, True, 15.0, 2) is None
    assert advance(track, False, 16.0, 2) is None, "a blip up does not end the outage"
    assert track.down_since == 12.0
    assert advance(track, True, 17.0, 2) is None
    assert advance(track, True, 18.0, 2) == "up"
    assert track.up_since == 17.0


def test_a_muted_peer_alerts_when_the_mute_ends_if_still_down():
    track = Track(network_id="N", peer="p")
    for now in (1.0, 2.0, 3.0):
        assert advance(track, False, now, 2, muted=True) is None
    assert advance(track, False, 4.0, 2) == "down"
    assert track.down_since == 1.0


async def test_two_pollers_on_redis_only_one_posts(redis_server):  # noqa: F811
    prefix = f"test:{uuid.uuid4().hex}:"
    stores = [RedisStore(redis_server.url, prefix=prefix) for _ in range(2)]
    try:
        async with alert_rig(stores) as rig:
            one, two = rig.services
            deadline = time.monotonic() + 5
            while not (one.leader or two.leader):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            assert one.leader != two.leader
            rig.dashboard.set_reachability("N_24329104", "paris-asa", "unreachable")
            await rig.wait_alerts()
            leader, follower = (one, two) if one.leader else (two, one)
            await rig.wait_polls(leader, 6)
            assert follower.polls == 0
            assert len(rig.alerts()) == 1
            [incident] = await stores[0].active_incidents()
            await rig.wait_thread(incident.ts, lambda c: "reachability unreachable" in texts(c))

            # The leader goes away; the other replica takes over and still threads the recovery.
            await leader.stop()
            rig.dashboard.set_reachability("N_24329104", "paris-asa", "reachable")
            await rig.wait_thread(incident.ts, lambda c: "reachable again after" in texts(c), timeout=15)
            await rig.wait_update(incident.ts, lambda c: "Resolved" in texts(c))
            assert follower.polls > 0
            assert len(rig.alerts()) == 1
    finally:
        for s in stores:
            await s.close()


DAY = 86400.0


def _aged(now: float) -> dict[str, Incident]:
    """Incidents of several ages and states, as a month of alerting leaves them."""

    def settled(resolved_days_ago: float, posted: bool = True) -> Incident:
        resolved = now - resolved_days_ago * DAY
        peer = IncidentPeer(name="azure", down_since=resolved - 600, recovered_at=resolved, recovery_posted=posted)
        return incident(
            peers=[peer],
            opened_at=resolved - 500,
            ts="1700000000.000100",
            resolved_at=resolved,
            resolution_posted=posted,
        )

    return {
        "old": settled(31),
        "recent": settled(29),
        "old_unposted": settled(45, posted=False),
        "old_open": incident(peers=[IncidentPeer(name="azure", down_since=now - 40 * DAY)], opened_at=now - 40 * DAY),
    }


async def test_pruning_keeps_open_pending_and_recent_incidents(store):
    now = 1_800_000_000.0
    aged = _aged(now)
    for item in aged.values():
        await store.save_incident(item)
    await store.prune_settled(now - 30 * DAY)
    for name in ("recent", "old_unposted", "old_open"):
        assert await store.incident(aged[name].id) is not None, name
    assert {i.id for i in await store.active_incidents()} == {aged["old_unposted"].id, aged["old_open"].id}


async def test_sqlite_forgets_incidents_settled_over_thirty_days_ago_with_their_acks(tmp_path):
    now = 1_800_000_000.0
    store = SqliteStore(tmp_path / "state.sqlite3")
    aged = _aged(now)
    for item in aged.values():
        await store.save_incident(item)
        await store.acknowledge(item.id, Ack(user="U1", at=item.opened_at))
    assert await store.prune_settled(now - 30 * DAY) == 1
    assert await store.incident(aged["old"].id) is None
    assert await store.ack_of(aged["old"].id) is None
    assert await store.ack_of(aged["recent"].id) is not None
    assert await store.prune_settled(now - 30 * DAY) == 0
    await store.close()
    reopened = SqliteStore(tmp_path / "state.sqlite3")
    assert await reopened.incident(aged["old"].id) is None, "gone from the file, not only from a cache"
    assert await reopened.incident(aged["recent"].id) is not None
    await reopened.close()


async def test_redis_lets_settled_incidents_expire(redis_server):  # noqa: F811
    store = RedisStore(redis_server.url, prefix=f"test:{uuid.uuid4().hex}:")
    aged = _aged(time.time())
    await store.save_incident(aged["old"])
    await store.save_incident(aged["old_open"])
    assert await store.prune_settled(time.time()) == 0
    assert 0 < await store._redis.ttl(store._k(f"incident:{aged['old'].id}")) <= SETTLED_TTL_SECONDS
    assert await store._redis.ttl(store._k(f"incident:{aged['old_open'].id}")) == -1, "open incidents never expire"
    await store.close()


async def test_the_leader_prunes_at_start_then_once_an_hour(tmp_path):
    now = [time.time()]
    store = SqliteStore(tmp_path / "state.sqlite3")
    first = _aged(now[0])["old"]
    await store.save_incident(first)
    async with alert_rig([store], clock=lambda: now[0]) as rig:
        service = rig.services[0]
        await rig.wait_polls(service, 2)
        assert await store.incident(first.id) is None, "pruned on the first poll"
        second = _aged(now[0])["old"]
        await store.save_incident(second)
        now[0] += 3000
        await rig.wait_polls(service, 3)
        assert await store.incident(second.id) is not None, "not again within the hour"
        now[0] += 700
        await rig.wait_polls(service, 3)
        assert await store.incident(second.id) is None
    await store.close()
