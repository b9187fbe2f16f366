"""The buttons on an alert: "Diagnose again", "Acknowledge" and "Mute 1 h".

The button's value is the incident ID; the work runs after the ack. Errors a person can
act on (alerts switched off here, an incident this bot no longer knows) come back as an
ephemeral reply instead of a message in the alert channel, in VPN_DOCTOR_LANG like the
alert itself.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.alerts.incidents import IncidentNotFound
from bot.alerts.render import ACTION_ACK, ACTION_MUTE, ACTION_REDIAGNOSE
from bot.alerts.service import ALERTS_CONTEXT_KEY, AlertService
from bot.locale.alerts import alert_ui
from bot.services import CONTEXT_KEY, Services


async def _run(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    service: AlertService | None = context.get(ALERTS_CONTEXT_KEY)
    if service is None:
        services: Services | None = context.get(CONTEXT_KEY)
        lang = services.settings.vpn_doctor_lang if services is not None else "en"
        await respond(text=alert_ui("alerts_off", lang), response_type="ephemeral", replace_original=False)
        return
    user = str((body.get("user") or {}).get("id") or "")
    incident_id = str(action.get("value") or "")
    desk = service.desk
    try:
        if action["action_id"] == ACTION_ACK:
            await desk.acknowledge(incident_id, user)
        elif action["action_id"] == ACTION_MUTE:
            await desk.mute(incident_id, user)
        else:
            await desk.rediagnose(incident_id, user)
    except IncidentNotFound:
        text = alert_ui("unknown_alert", service.config.lang)
        await respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp) -> None:
    for action_id in (ACTION_REDIAGNOSE, ACTION_ACK, ACTION_MUTE):
        app.action(action_id)(_run)
