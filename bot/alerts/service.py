"""The running alert side: lease, poll loop, incident desk, webhook reactions and button actions.

Every replica runs an AlertService. Only the one holding the lease polls and posts
incidents; any replica serves the webhook (it queues checks for the leader or writes
notes) and button clicks (acks, mutes, a new diagnosis), all through the shared store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.diagnose import uplink_states
from bot.alerts.incidents import MAX_RETRY_SECONDS, RETRY_SECONDS, IncidentDesk
from bot.alerts.poller import Poller, PollResult
from bot.alerts.poster import BLOCKED_BACKOFF_SECONDS, MAX_BLOCKED_BACKOFF_SECONDS, POST_INTERVAL_SECONDS, Poster
from bot.alerts.render import join, uplink_lines, when
from bot.alerts.state import StateStore
from bot.alerts.tasks import Supervisor
from bot.alerts.webhook import WEBHOOK_PATH, WebhookAlert, changed_by, changed_labels, touches_vpn, webhook_handler
from bot.dashboard.client import DashboardClient
from bot.dashboard.errors import DashboardError
from bot.locale.alerts import alert_ui
from bot.render.blocks import escape
from knowledge.models import Lang

log = logging.getLogger("bot.alerts")

ALERTS_CONTEXT_KEY = "vpn_alerts"
DEFAULT_LEASE_SECONDS = 15.0
DESK_RETRY_SECONDS = 5.0
RETENTION_SECONDS = 30 * 24 * 3600.0
PRUNE_EVERY_SECONDS = 3600.0


@dataclass
class AlertConfig:
    channel: str
    poll_seconds: float = 60.0
    hold_polls: int = 2
    lang: Lang = "en"
    demo: bool = False
    webhook_secret: SecretStr | None = None
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    post_interval: float = POST_INTERVAL_SECONDS
    blocked_backoff: float = BLOCKED_BACKOFF_SECONDS
    max_blocked_backoff: float = MAX_BLOCKED_BACKOFF_SECONDS
    retry_seconds: float = RETRY_SECONDS
    max_retry_seconds: float = MAX_RETRY_SECONDS
    retention_seconds: float = RETENTION_SECONDS
    task_backoff: float = 1.0
    max_task_backoff: float = 30.0


class AlertService:
    def __init__(
        self,
        config: AlertConfig,
        *,
        dashboard: DashboardClient,
        slack: AsyncWebClient,
        store: StateStore,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.dashboard = dashboard
        self.store = store
        self.owner = owner or uuid.uuid4().hex
        self.clock = clock
        self.poster = Poster(
            slack,
            store,
            interval=config.post_interval,
            blocked_backoff=config.blocked_backoff,
            max_blocked_backoff=config.max_blocked_backoff,
        )
        self.desk = IncidentDesk(
            store,
            self.poster,
            dashboard,
            channel=config.channel,
            lang=config.lang,
            demo=config.demo,
            clock=clock,
            retry_seconds=config.retry_seconds,
            max_retry_seconds=config.max_retry_seconds,
        )
        self.poller = Poller(dashboard, store, self.desk, hold=config.hold_polls, clock=clock)
        self.leader = False
        self.polls = 0
        self.last_poll: PollResult | None = None
        self._pruned_at: float | None = None
        self._became_leader = asyncio.Event()
        self._desk_wanted = asyncio.Event()
        self.tasks = Supervisor(backoff=config.task_backoff, max_backoff=config.max_task_backoff)

    # Lifecycle ----------------------------------------------------------------------------

    async def start(self) -> AlertService:
        self.tasks.start("alerts-lease", self._keep_lease)
        self.tasks.start("alerts-poll", self._poll_loop)
        self.tasks.start("alerts-desk", self._desk_loop)
        return self

    async def stop(self, *, release: bool = True) -> None:
        """Stop polling and posting; `release=False` leaves the lease to expire (as a crash would)."""
        await self.tasks.stop()
        await self.poster.close()
        if release and self.leader:
            with contextlib.suppress(Exception):
                await self.store.release_lead(self.owner)
        self.leader = False

    async def _keep_lease(self) -> None:
        """Claim or renew the lease three times per lease period; losing it stops polling at once."""
        lease = self.config.lease_seconds
        while True:
            try:
                held = await self.store.claim_lead(self.owner, lease)
            except Exception:
                log.exception("alert lease: the state store is unreachable")
                held = False
            if held and not self.leader:
                log.info("alerts: this replica now polls and posts")
                self._became_leader.set()
                self._desk_wanted.set()
            elif self.leader and not held:
                log.warning("alerts: lease lost; another replica polls now")
                self._became_leader.clear()
            self.leader = held
            await asyncio.sleep(lease / 3)

    async def _poll_loop(self) -> None:
        interval = self.config.poll_seconds
        while True:
            await self._became_leader.wait()
            due = time.monotonic()
            while self.leader:
                wait = due - time.monotonic()
                if wait > 0:
                    checks = await self.store.wait_checks(wait)
                    if checks and self.leader:
                        await self._poll(checks)
                    continue
                due = time.monotonic() + interval
                await self._poll(())

    async def _poll(self, network_ids: list[str] | tuple[str, ...]) -> None:
        try:
            self.last_poll = await self.poller.poll(network_ids)
            self.polls += 1
        except DashboardError as exc:
            log.warning("alert poll failed: %s (%s)", exc.reason.value, exc.status)
            return
        except Exception:
            log.exception("alert poll failed")
            return
        self._desk_wanted.set()
        await self._prune()

    async def _prune(self) -> None:
        """Once an hour, the leader forgets incidents settled longer ago than the retention period."""
        now = self.clock()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        try:
            removed = await self.store.prune_settled(now - self.config.retention_seconds)
        except Exception:
            log.exception("alert state: pruning old incidents failed")
            return
        if removed:
            days = self.config.retention_seconds / 86400
            log.info("alert state: forgot %d incident(s) resolved more than %g days ago", removed, days)

    async def _desk_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._desk_wanted.wait(), DESK_RETRY_SECONDS)
            self._desk_wanted.clear()
            if self.leader:
                try:
                    await self.desk.reconcile()
                except Exception:
                    log.exception("alert desk failed")

    # Slack and HTTP wiring ----------------------------------------------------------------

    def attach(self, bolt_app: AsyncApp) -> None:
        """Make this service reachable from the alert buttons' listeners (handlers/alert_actions.py)."""

        async def provide_alerts(context: AsyncBoltContext, resp: BoltResponse, next: Any) -> BoltResponse:
            context[ALERTS_CONTEXT_KEY] = self
            await next()
            return resp

        bolt_app.middleware(provide_alerts)

    def route(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, webhook_handler(self.config.webhook_secret, self.on_webhook))

    # Webhook reactions ---------------------------------------------------------------------

    async def on_webhook(self, alert: WebhookAlert) -> None:
        kind = alert.alertTypeId
        lang = self.config.lang
        if kind == "vpn_connectivity_change" and alert.networkId:
            await self.store.request_check(alert.networkId)
        elif kind == "settings_changed" and touches_vpn(alert):
            who = join(changed_by(alert), lang) or alert_ui("unknown_admin", lang)
            labels = join(changed_labels(alert), lang) or alert_ui("vpn_settings", lang)
            lines = [alert_ui("changed_settings", lang, labels=escape(labels))]
            if alert.alertData.get("name"):
                lines.append(alert_ui("changed_page", lang, name=escape(str(alert.alertData["name"]))))
            lines.append(self._reported(alert))
            await self.desk.note(alert.networkId, alert_ui("config_changed", lang, who=who), lines)
            if alert.networkId:
                await self.store.request_check(alert.networkId)
        elif kind == "failover_event" and alert.networkId:
            device = escape(alert.deviceName or alert.deviceSerial or alert_ui("the_mx", lang))
            lines = [self._reported(alert, device)]
            try:
                statuses = await self.dashboard.uplink_statuses([alert.networkId])
                states = uplink_states(next((s for s in statuses if s.networkId == alert.networkId), None))
                lines += [alert_ui("uplinks_now", lang), *uplink_lines(states, lang)]
            except DashboardError as exc:
                lines.append(alert_ui("uplink_unavailable", lang, reason=escape(exc.sentence(lang))))
            await self.desk.note(alert.networkId, alert_ui("failover_title", lang), lines)
            await self.store.request_check(alert.networkId)

    def _reported(self, alert: WebhookAlert, device: str | None = None) -> str:
        """Who reported the change, naming the device and the time when the alert carries them."""
        lang = self.config.lang
        try:
            moment = datetime.fromisoformat((alert.occurredAt or "").replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if device is None:
            return alert_ui("reported_at", lang, at=when(moment.timestamp())) if moment else alert_ui("reported", lang)
        if moment is None:
            return alert_ui("reported_device", lang, device=device)
        return alert_ui("reported_device_at", lang, device=device, at=when(moment.timestamp()))
