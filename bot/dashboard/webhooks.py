"""Point every MX network's VPN alerts at the bot's webhook: what would change (plan), then change it (apply).

For each network with an appliance: the bot's receiver must exist among the network's webhook
HTTP servers (found by its URL), and the *VPN connectivity change* alert must be enabled with
that receiver among its destinations. Other alerts and destinations are left as they are.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.dashboard.client import DashboardClient
from bot.dashboard.models import Network

VPN_ALERT = "vpnConnectivityChange"
MERAKI_TEMPLATE = "wpt_00001"  # the included "Meraki (default)" payload template the receiver reads
SERVER_NAME = "VPN Doctor"

Action = Literal["create-receiver", "route-vpn-alert"]


@dataclass
class NetworkPlan:
    network: Network
    actions: list[Action] = field(default_factory=list)
    server_id: str | None = None

    @property
    def ready(self) -> bool:
        return not self.actions


def server_id_for(url: str) -> str:
    """The Dashboard names a receiver by its URL in base64."""
    return base64.b64encode(url.encode()).decode()


async def plan(client: DashboardClient, url: str) -> list[NetworkPlan]:
    plans = []
    for network in await client.networks():
        if "appliance" not in network.productTypes:
            continue
        servers = (await client.get(f"/networks/{network.id}/webhooks/httpServers")).data or []
        mine = next((s for s in servers if isinstance(s, dict) and s.get("url") == url), None)
        found = NetworkPlan(network, server_id=str(mine["id"]) if mine else None)
        if mine is None:
            found.actions.append("create-receiver")
        settings = (await client.get(f"/networks/{network.id}/alerts/settings")).data or {}
        if not _routed(settings, found.server_id or server_id_for(url)) or mine is None:
            found.actions.append("route-vpn-alert")
        plans.append(found)
    return plans


async def apply(client: DashboardClient, url: str, secret: str, plans: list[NetworkPlan]) -> int:
    """Carry out the plans; returns the number of changes made."""
    changes = 0
    for found in plans:
        network_id = found.network.id
        if "create-receiver" in found.actions:
            created = await client.send("POST", f"/networks/{network_id}/webhooks/httpServers", {
                "name": SERVER_NAME, "url": url, "sharedSecret": secret,
                "payloadTemplate": {"payloadTemplateId": MERAKI_TEMPLATE},
            })
            found.server_id = str((created or {}).get("id") or server_id_for(url))
            changes += 1
        if "route-vpn-alert" in found.actions:
            settings = (await client.get(f"/networks/{network_id}/alerts/settings")).data or {}
            await client.send("PUT", f"/networks/{network_id}/alerts/settings",
                              _with_vpn_alert(settings, found.server_id or server_id_for(url)))
            changes += 1
    return changes


def _routed(settings: Any, server_id: str) -> bool:
    alert = next((a for a in _alerts(settings) if a.get("type") == VPN_ALERT), None)
    targets = ((alert or {}).get("alertDestinations") or {}).get("httpServerIds") or []
    return bool(alert and alert.get("enabled") and server_id in targets)


def _alerts(settings: Any) -> list[dict[str, Any]]:
    alerts = settings.get("alerts") if isinstance(settings, dict) else None
    return [a for a in alerts if isinstance(a, dict)] if isinstance(alerts, list) else []


def _with_vpn_alert(settings: Any, server_id: str) -> dict[str, Any]:
    """The alert settings with the VPN alert enabled and sent to the receiver, the rest unchanged."""
    alerts = _alerts(settings)
    alert = next((a for a in alerts if a.get("type") == VPN_ALERT), None)
    if alert is None:
        alert = {"type": VPN_ALERT, "enabled": True, "alertDestinations": {"httpServerIds": []}}
        alerts.append(alert)
    alert["enabled"] = True
    destinations = alert.setdefault("alertDestinations", {})
    ids = destinations.setdefault("httpServerIds", [])
    if server_id not in ids:
        ids.append(server_id)
    return {"alerts": alerts}
