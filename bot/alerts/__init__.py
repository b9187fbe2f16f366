"""Channel alerts: poll VPN statuses, post one message per incident, diagnose in its thread.

`start_alerts` is the single start-up hook the server calls; it does nothing unless
VPN_DOCTOR_ALERT_CHANNEL is set. Alerts use the app's shared Dashboard connection
(`Services.live`), so `/vpn` lookups and polling draw on one request budget and, without
MERAKI_API_KEY, read the same demo organisation.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

import aiohttp
from slack_bolt.async_app import AsyncApp

from bot.alerts.service import AlertConfig, AlertService
from bot.alerts.state import StateStore, open_state
from bot.locale.alerts import alert_ui
from bot.services import Services
from bot.settings import Settings
from bot.web import RouteSetup

log = logging.getLogger("bot.alerts")


@dataclass
class RunningAlerts:
    service: AlertService
    store: StateStore

    async def stop(self) -> None:
        """Stop polling and close the state store; the Dashboard connection belongs to Services."""
        await self.service.stop()
        await self.store.close()


async def start_alerts(
    settings: Settings,
    bolt_app: AsyncApp,
    routes: list[RouteSetup],
    session: aiohttp.ClientSession,
    services: Services,
) -> RunningAlerts | UnavailableAlerts | None:
    """Start polling (when this replica holds the lease), add the webhook route and the button context."""
    if not settings.vpn_doctor_alert_channel:
        return None
    from bot.app import web_client

    live = await services.live.service()
    try:
        store = open_state(settings.vpn_doctor_state)
    except (sqlite3.Error, OSError) as exc:
        return await _without_state(settings, session, exc)
    try:
        config = AlertConfig(
            channel=settings.vpn_doctor_alert_channel,
            poll_seconds=settings.vpn_doctor_poll_seconds,
            hold_polls=settings.vpn_doctor_alert_hold_polls,
            lang=settings.vpn_doctor_lang,
            demo=live.demo,
            webhook_secret=settings.meraki_webhook_secret,
        )
        service = AlertService(config, dashboard=live.client, slack=web_client(settings, session), store=store)
        service.attach(bolt_app)
        routes.append(service.route)
        await service.start()
    except BaseException:
        await store.close()
        raise
    log.info(
        "alerts on: channel %s, poll every %.0fs, hold %d polls, state %s",
        config.channel,
        config.poll_seconds,
        config.hold_polls,
        settings.vpn_doctor_state.split("://", 1)[0],
    )
    return RunningAlerts(service, store)


@dataclass
class UnavailableAlerts:
    """Alerts that could not start because their state store cannot be opened; the rest of the bot runs."""

    reason: str

    async def stop(self) -> None:
        """Nothing runs."""


async def _without_state(settings: Settings, session: aiohttp.ClientSession, error: Exception) -> UnavailableAlerts:
    """Say so in the log and once in the alert channel; /readyz carries the reason until a restart."""
    from bot.app import web_client

    kind = settings.vpn_doctor_state.split("://", 1)[0]
    reason = f"{kind} state store unavailable ({type(error).__name__}: {error})"
    log.error("alerts off: %s; mentions and /vpn keep working", reason)
    channel = settings.vpn_doctor_alert_channel or ""
    try:
        await web_client(settings, session).chat_postMessage(
            channel=channel, text=alert_ui("state_unavailable", settings.vpn_doctor_lang, reason=reason)
        )
    except Exception as exc:  # the channel may refuse too; the log and /readyz still say it
        log.warning("could not tell the alert channel that alerts are off: %s", type(exc).__name__)
    return UnavailableAlerts(reason)


__all__ = ["AlertConfig", "AlertService", "RunningAlerts", "UnavailableAlerts", "start_alerts"]
