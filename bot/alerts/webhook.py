"""`POST /meraki/webhook`: Meraki alerts that speed up (or annotate) what polling finds.

Meraki puts its shared secret as a plain `sharedSecret` field in the JSON body (no
signature header), so the body is parsed first and the field compared in constant time.
A wrong or missing secret gets 401 and only the fact is logged; the body, the secret
and the alert itself are not. With no MERAKI_WEBHOOK_SECRET configured every request is
refused, because an open receiver would let anyone write into incident threads.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

log = logging.getLogger("bot.alerts.webhook")

WEBHOOK_PATH = "/meraki/webhook"
MAX_BODY_BYTES = 256 * 1024
VPN_WORDS = ("vpn", "site-to-site", "ipsec", "peer", "tunnel")


class WebhookAlert(BaseModel):
    """The default Meraki payload template (every field optional: network-level alerts omit devices)."""

    model_config = ConfigDict(extra="ignore")

    version: str | None = None
    sentAt: str | None = None
    organizationId: str | None = None
    networkId: str | None = None
    networkName: str | None = None
    deviceSerial: str | None = None
    deviceName: str | None = None
    deviceModel: str | None = None
    alertId: str | None = None
    alertType: str | None = None
    alertTypeId: str | None = None
    alertLevel: str | None = None
    occurredAt: str | None = None
    alertData: dict[str, Any] = Field(default_factory=dict)


AlertHandler = Callable[[WebhookAlert], Awaitable[None]]


def secret_matches(given: object, expected: SecretStr | None) -> bool:
    if expected is None or not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.get_secret_value().encode())


def webhook_handler(
    secret: SecretStr | None, on_alert: AlertHandler
) -> Callable[[web.Request], Awaitable[web.Response]]:
    tasks: set[asyncio.Task[None]] = set()

    async def receive_meraki_webhook(request: web.Request) -> web.Response:
        raw = await _read_capped(request)
        if raw is None:
            return web.json_response({"error": "body too large"}, status=413)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # also invalid UTF-8, and nesting past the interpreter's limit
            return web.json_response({"error": "body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "body is not a JSON object"}, status=400)
        if not secret_matches(body.pop("sharedSecret", None), secret):
            log.warning("meraki webhook refused: shared secret missing or wrong")
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            alert = WebhookAlert.model_validate(body)
        except ValidationError:
            return web.json_response({"error": "not a Meraki alert payload"}, status=400)
        log.info("meraki webhook %s for network %s", alert.alertTypeId, alert.networkId)
        # Meraki watches how fast receivers answer: acknowledge now, act afterwards.
        task = asyncio.create_task(_guarded(on_alert, alert))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.json_response({"status": "accepted"})

    return receive_meraki_webhook


async def _read_capped(request: web.Request) -> bytes | None:
    """The body, or None past MAX_BODY_BYTES (read in chunks, so a huge body is never held whole)."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _guarded(on_alert: AlertHandler, alert: WebhookAlert) -> None:
    try:
        await on_alert(alert)
    except Exception:
        log.exception("meraki webhook %s: handling failed", alert.alertTypeId)


def touches_vpn(alert: WebhookAlert) -> bool:
    """Whether a settings_changed alert is about VPN settings (its page name, URL or change labels)."""
    data = alert.alertData
    labels = [str(data.get("name", "")), str(data.get("url", ""))]
    changes = data.get("changes")
    if isinstance(changes, dict):
        for key, change in changes.items():
            labels.append(str(key))
            if isinstance(change, dict):
                labels.append(str(change.get("label", "")))
    text = " ".join(labels).lower()
    return any(word in text for word in VPN_WORDS)


def changed_by(alert: WebhookAlert) -> list[str]:
    changes = alert.alertData.get("changes")
    who: list[str] = []
    if isinstance(changes, dict):
        for change in changes.values():
            if isinstance(change, dict) and change.get("changedBy"):
                who.append(str(change["changedBy"]))
    return list(dict.fromkeys(who))


def changed_labels(alert: WebhookAlert) -> list[str]:
    """The names of the changed settings only: old and new values can hold a pre-shared key."""
    changes = alert.alertData.get("changes")
    labels: list[str] = []
    if isinstance(changes, dict):
        for key, change in changes.items():
            label = change.get("label") if isinstance(change, dict) else None
            labels.append(str(label or key))
    return list(dict.fromkeys(labels))
