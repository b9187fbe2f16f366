"""Incidents: opened and closed by the poller, posted and followed up by the desk.

The poller only records what changed (a new incident, a peer back up) in the store.
`reconcile()` then does whatever is still missing for each active incident, in order of
urgency — the channel message first, then recovery replies and the parent's update,
then the diagnosis — and records each step once done. Because every step is recorded,
a restart (or a new leader) picks up exactly where the previous one stopped: an
incident already posted is never posted again, and its recovery still lands in its thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.alerts.diagnose import diagnose_network, diagnosis_posts, uplink_states
from bot.alerts.models import Ack, Incident, IncidentPeer, Mute, Track, peer_key
from bot.alerts.poster import Poster
from bot.alerts.render import alert_message, mute_note, note_message, recovery_message
from bot.alerts.state import StateStore
from bot.dashboard.client import DashboardClient
from bot.dashboard.errors import DashboardError
from bot.dashboard.models import VpnStatus
from bot.locale.alerts import alert_ui
from knowledge.models import Lang

log = logging.getLogger("bot.alerts.incidents")

MUTE_SECONDS = 3600.0
RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0


class IncidentNotFound(LookupError):
    """A button or note names an incident the store no longer has."""


class IncidentDesk:
    def __init__(
        self,
        store: StateStore,
        poster: Poster,
        dashboard: DashboardClient,
        *,
        channel: str,
        lang: Lang = "en",
        demo: bool = False,
        clock: Callable[[], float] = time.time,
        retry_seconds: float = RETRY_SECONDS,
        max_retry_seconds: float = MAX_RETRY_SECONDS,
    ) -> None:
        self.store = store
        self.poster = poster
        self.dashboard = dashboard
        self.channel = channel
        self.lang = lang
        self.demo = demo
        self.clock = clock
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self._lock = asyncio.Lock()
        self._reconciling = asyncio.Lock()
        # (incident, step) → (failures in a row, monotonic time of the next attempt).
        self._failing: dict[tuple[str, str], tuple[int, float]] = {}

    # Recording (called by the poller) ------------------------------------------------------

    async def open(self, down: Sequence[Track], statuses: Sequence[VpnStatus]) -> list[Incident]:
        """New incidents for peers that went down, one per MX when several fell in the same poll."""
        if not down:
            return []
        async with self._lock:
            covered = {key for i in await self.store.active_incidents() if not i.resolved for key in i.keys}
            by_network: dict[str, list[Track]] = defaultdict(list)
            for track in down:
                if track.key not in covered:
                    by_network[track.network_id].append(track)
            device_status = {s.networkId: (s.deviceStatus or "").lower() for s in statuses}
            opened = []
            for network_id, tracks in by_network.items():
                offline = device_status.get(network_id) not in ("", "online")
                incident = Incident(
                    network_id=network_id,
                    network_name=tracks[0].network_name,
                    channel=self.channel,
                    peers=[
                        IncidentPeer(name=t.peer, public_ip=t.public_ip, down_since=t.down_since or self.clock())
                        for t in sorted(tracks, key=lambda t: t.peer.lower())
                    ],
                    opened_at=self.clock(),
                    severity="critical" if len(tracks) > 1 or offline else "warning",
                    demo=self.demo,
                )
                await self.store.save_incident(incident)
                opened.append(incident)
                log.info(
                    "incident %s opened: %d peer(s) down on %s", incident.id, len(incident.peers), network_id
                )
            return opened

    async def recover(self, up: Sequence[Track]) -> list[Incident]:
        """Mark peers that are reachable again; an incident ends when all of its peers are."""
        if not up:
            return []
        async with self._lock:
            touched = []
            recovered = {t.key: t for t in up}
            for incident in await self.store.active_incidents():
                if incident.resolved:
                    continue
                changed = False
                for peer in incident.peers:
                    track = recovered.get(peer_key(incident.network_id, peer.name))
                    if track is not None and peer.recovered_at is None:
                        peer.recovered_at = track.up_since or self.clock()
                        changed = True
                if not changed:
                    continue
                if all(p.recovered_at is not None for p in incident.peers):
                    incident.resolved_at = max(p.recovered_at or 0.0 for p in incident.peers)
                    log.info("incident %s resolved after %.0fs", incident.id, incident.resolved_at - incident.since)
                await self.store.save_incident(incident)
                touched.append(incident)
            return touched

    async def _mutate(self, incident_id: str, change: Callable[[Incident], None]) -> Incident:
        """Re-read, change and save under the lock, so a concurrent recovery is never overwritten."""
        async with self._lock:
            incident = await self.store.incident(incident_id)
            if incident is None:
                raise IncidentNotFound(incident_id)
            change(incident)
            await self.store.save_incident(incident)
            return incident

    # Posting (leader only) ------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Post whatever active incidents still lack: alerts first, then recoveries, then diagnoses.

        A step that fails is retried with a backoff doubling up to `max_retry_seconds`, and
        logged once when it starts failing, so a lasting refusal does not flood the log.
        """
        async with self._reconciling:
            active: set[str] = set()
            for step in (self._post_alert, self._post_recoveries, self._post_diagnosis):
                for incident in await self.store.active_incidents():
                    active.add(incident.id)
                    key = (incident.id, step.__name__)
                    failures, due = self._failing.get(key, (0, 0.0))
                    if time.monotonic() < due:
                        continue
                    try:
                        await step(incident)
                    except Exception as exc:
                        wait = min(self.retry_seconds * 2**failures, self.max_retry_seconds)
                        self._failing[key] = (failures + 1, time.monotonic() + wait)
                        if failures:
                            log.debug("incident %s: %s failed again; next try in %.0fs", *key, wait)
                        elif isinstance(exc, SlackApiError):
                            log.warning(
                                "incident %s: %s refused by Slack in %s (%s); retrying with a backoff",
                                *key, incident.channel, exc.response.get("error"),
                            )
                        else:
                            log.warning("incident %s: %s failed; retrying with a backoff", *key, exc_info=True)
                    else:
                        if self._failing.pop(key, None) is not None:
                            log.info("incident %s: %s done after retries", *key)
            self._failing = {key: state for key, state in self._failing.items() if key[0] in active}

    async def _parent(self, incident: Incident) -> tuple[str, list[dict]]:
        ack = await self.store.ack_of(incident.id)
        mutes = await self.store.mutes(self.clock())
        return alert_message(incident, ack, [mutes[k] for k in incident.keys if k in mutes], self.lang)

    async def _post_alert(self, incident: Incident) -> None:
        if incident.ts is not None:
            return
        if incident.resolved:
            # Over before it could be posted: nothing for the channel to act on.
            await self._mutate(incident.id, _mark_settled)
            return
        if incident.grouped and not incident.uplinks:
            try:
                statuses = await self.dashboard.uplink_statuses([incident.network_id])
                states = uplink_states(next((s for s in statuses if s.networkId == incident.network_id), None))
                incident = await self._mutate(incident.id, lambda i: setattr(i, "uplinks", states))
            except DashboardError as exc:
                log.warning("incident %s: uplink status unavailable (%s)", incident.id, exc.reason)
        text, blocks = await self._parent(incident)
        ts = await self.poster.post(incident.channel, text, blocks)
        metrics.alert_posted("grouped" if incident.grouped else "incident")
        await self._mutate(incident.id, lambda i: setattr(i, "ts", ts))
        log.info("incident %s posted to %s ts=%s", incident.id, incident.channel, ts)

    async def _post_recoveries(self, incident: Incident) -> None:
        if incident.ts is None:
            return
        for peer in incident.peers:
            if peer.recovered_at is None or peer.recovery_posted:
                continue
            text, blocks = recovery_message(incident, peer, self.lang)
            await self.poster.post(incident.channel, text, blocks, thread_ts=incident.ts)
            metrics.alert_posted("recovery")
            incident = await self._mutate(incident.id, _recovery_posted(peer.name))
        if incident.resolved and not incident.resolution_posted:
            text, blocks = await self._parent(incident)
            await self.poster.update(incident.channel, incident.ts, text, blocks)
            await self._mutate(incident.id, _mark_settled)

    async def _post_diagnosis(self, incident: Incident) -> None:
        if incident.ts is None or incident.diagnosis_posted or incident.resolved:
            return
        await self._diagnose_into_thread(incident)
        await self._mutate(incident.id, lambda i: setattr(i, "diagnosis_posted", True))

    async def _diagnose_into_thread(self, incident: Incident, again_by: str | None = None) -> None:
        assert incident.ts is not None
        names = [p.name for p in incident.peers if p.recovered_at is None] or [p.name for p in incident.peers]
        try:
            result = await diagnose_network(self.dashboard, incident.network_id, names, self.lang)
        except DashboardError as exc:
            button = alert_ui("button_rediagnose", self.lang)
            text = alert_ui("no_diagnosis", self.lang, reason=exc.sentence(self.lang), button=button)
            title, blocks = note_message(text, [])
            await self.poster.post(incident.channel, title, blocks, thread_ts=incident.ts)
            return
        for peer in result.peers:
            metrics.diagnosis(peer.diagnosis, "alert")
        for text, blocks in diagnosis_posts(result, self.lang, again_by=again_by):
            await self.poster.post(incident.channel, text, blocks, thread_ts=incident.ts)

    # Buttons and webhook notes (any replica) -------------------------------------------------

    async def _known(self, incident_id: str) -> Incident:
        incident = await self.store.incident(incident_id)
        if incident is None or incident.ts is None:
            raise IncidentNotFound(incident_id)
        return incident

    async def acknowledge(self, incident_id: str, user: str) -> Incident:
        incident = await self._known(incident_id)
        await self.store.acknowledge(incident_id, Ack(user=user, at=self.clock()))
        await self.refresh(incident)
        return incident

    async def mute(self, incident_id: str, user: str) -> Incident:
        incident = await self._known(incident_id)
        until = self.clock() + MUTE_SECONDS
        for key in incident.keys:
            await self.store.mute(Mute(key=key, until=until, by=user))
        text, blocks = mute_note([p.name for p in incident.peers], user, until, self.lang)
        assert incident.ts is not None
        await self.poster.post(incident.channel, text, blocks, thread_ts=incident.ts)
        await self.refresh(incident)
        return incident

    async def rediagnose(self, incident_id: str, user: str) -> Incident:
        incident = await self._known(incident_id)
        await self._diagnose_into_thread(incident, again_by=user)
        return incident

    async def refresh(self, incident: Incident) -> None:
        """Re-render the channel message from the stored state (ack, mutes, resolution)."""
        latest = await self.store.incident(incident.id) or incident
        if latest.ts is None:
            return
        text, blocks = await self._parent(latest)
        await self.poster.update(latest.channel, latest.ts, text, blocks)

    async def note(self, network_id: str | None, title: str, lines: Sequence[str]) -> int:
        """A note in the thread of every open, posted incident on that MX (all of them when None)."""
        posted = 0
        for incident in await self.store.active_incidents():
            if incident.resolved or incident.ts is None:
                continue
            if network_id is not None and incident.network_id != network_id:
                continue
            text, blocks = note_message(title, lines)
            await self.poster.post(incident.channel, text, blocks, thread_ts=incident.ts)
            posted += 1
        return posted


def _mark_settled(incident: Incident) -> None:
    incident.resolution_posted = True


def _recovery_posted(name: str) -> Callable[[Incident], None]:
    def change(incident: Incident) -> None:
        peer = incident.peer(name)
        if peer is not None:
            peer.recovery_posted = True

    return change
