"""Poll `/organizations/{org}/appliance/vpn/statuses` and turn reachability changes into incidents.

Each (MX network, third-party peer) pair keeps a hold-down track: it must be seen down
on `hold` consecutive polls before an alert and up on `hold` consecutive polls before
the recovery, so one flapping poll neither pages anyone nor closes an incident. Anything
but "reachable" counts as down (the API documents no other value).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.alerts.incidents import IncidentDesk
from bot.alerts.models import Track, peer_key
from bot.alerts.state import StateStore
from bot.dashboard.client import DashboardClient, count_calls

log = logging.getLogger("bot.alerts.poller")

Change = Literal["down", "up"]


def advance(track: Track, reachable: bool, now: float, hold: int, *, muted: bool = False) -> Change | None:
    """Apply one observation; return "down"/"up" when the held state flips.

    Streaks are capped at `hold` so a steady peer stops changing (and being written).
    A muted peer keeps counting but does not flip, so it alerts once the mute ends if
    it is still down then.
    """
    if reachable:
        track.down_streak = 0
        if not track.down:
            track.up_streak = min(track.up_streak + 1, hold)
            track.down_since = None
            return None
        if track.up_streak == 0:
            track.up_since = now
        track.up_streak = min(track.up_streak + 1, hold)
        if track.up_streak >= hold:
            track.down = False
            return "up"
        return None
    track.up_streak = 0
    track.up_since = None
    if not track.down and track.down_streak == 0:
        track.down_since = now
    track.down_streak = min(track.down_streak + 1, hold)
    if not track.down and track.down_streak >= hold and not muted:
        track.down = True
        return "down"
    return None


@dataclass
class PollResult:
    peers: int = 0
    networks: int = 0
    went_down: list[Track] = field(default_factory=list)
    came_up: list[Track] = field(default_factory=list)
    written: int = 0
    dashboard_calls: int = 0
    seconds: float = 0.0


class Poller:
    def __init__(
        self,
        dashboard: DashboardClient,
        store: StateStore,
        desk: IncidentDesk,
        *,
        hold: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dashboard = dashboard
        self.store = store
        self.desk = desk
        self.hold = hold
        self.clock = clock

    async def poll(self, network_ids: Sequence[str] = ()) -> PollResult:
        """One poll of all networks (or of the named ones after a webhook)."""
        started = time.monotonic()
        result = PollResult()
        with count_calls() as calls:
            statuses = await self.dashboard.vpn_statuses(network_ids)
        now = self.clock()
        tracks = await self.store.tracks()
        mutes = await self.store.mutes(now)
        changed: list[Track] = []
        for status in statuses:
            result.networks += 1
            for peer in status.thirdPartyVpnPeers:
                result.peers += 1
                key = peer_key(status.networkId, peer.name)
                known = tracks.get(key)
                track = known.model_copy() if known else Track(network_id=status.networkId, peer=peer.name)
                track.network_name = status.networkName
                track.public_ip = peer.publicIp
                track.reachability = peer.reachability
                change = advance(track, peer.reachable, now, self.hold, muted=key in mutes)
                if track != known:
                    changed.append(track)
                if change == "down":
                    result.went_down.append(track)
                elif change == "up":
                    result.came_up.append(track)
        # Incidents are recorded before the tracks: after a crash in between, the next poll
        # sees the flip again and the desk finds the incident already there.
        await self.desk.open(result.went_down, statuses)
        await self.desk.recover(result.came_up)
        await self.store.save_tracks(changed)
        result.written = len(changed)
        result.dashboard_calls = calls.count
        result.seconds = time.monotonic() - started
        if result.went_down or result.came_up:
            log.info(
                "poll: %d peers on %d networks, %d down, %d up",
                result.peers, result.networks, len(result.went_down), len(result.came_up),
            )
        return result
