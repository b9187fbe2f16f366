"""Channel alerts: poll VPN statuses, post one message per incident, diagnose in its thread.

`start_alerts` is the single start-up hook the server calls; it does nothing unless
VPN_DOCTOR_ALERT_CHANNEL is set.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import aiohttp
from slack_bolt.async_app import AsyncApp

from bot.alerts.service import AlertConfig, AlertService
from bot.alerts.state import open_state
from bot.settings import Settings
from bot.web import RouteSetup

log = logging.getLogger("bot.alerts")


@dataclass
class RunningAlerts:
    service: AlertService
    resources: contextlib.AsyncExitStack

    async def stop(self) -> None:
        await self.service.stop()
        await self.resources.aclose()


async def start_alerts(
    settings: Settings, bolt_app: AsyncApp, routes: list[RouteSetup], session: aiohttp.ClientSession
) -> RunningAlerts | None:
    """Start polling (when this replica holds the lease), add the webhook route and the button context."""
    if not settings.vpn_doctor_alert_channel:
        return None
    from bot.app import web_client
    from bot.dashboard import DashboardSettings, open_dashboard

    resources = contextlib.AsyncExitStack()
    try:
        connection = await resources.enter_async_context(open_dashboard(DashboardSettings()))
        store = open_state(settings.vpn_doctor_state)
        resources.push_async_callback(store.close)
        config = AlertConfig(
            channel=settings.vpn_doctor_alert_channel,
            poll_seconds=settings.vpn_doctor_poll_seconds,
            hold_polls=settings.vpn_doctor_alert_hold_polls,
            lang=settings.vpn_doctor_lang,
            demo=connection.demo,
            webhook_secret=settings.meraki_webhook_secret,
        )
        service = AlertService(
            config, dashboard=connection.client, slack=web_client(settings, session), store=store
        )
        service.attach(bolt_app)
        routes.append(service.route)
        await service.start()
    except BaseException:
        await resources.aclose()
        raise
    log.info(
        "alerts on: channel %s, poll every %.0fs, hold %d polls, state %s",
        config.channel,
        config.poll_seconds,
        config.hold_polls,
        settings.vpn_doctor_state.split("://", 1)[0],
    )
    return RunningAlerts(service, resources)


__all__ = ["AlertConfig", "AlertService", "RunningAlerts", "start_alerts"]
