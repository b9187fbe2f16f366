"""A local emulation of the Meraki Dashboard API over real HTTP.

It serves the demo organisation (or any DemoData) with the official response shapes,
Link-header pagination with absolute URLs (optionally naming a shard host), the
events endpoint's newest-first pages and never-ending `next` link, and injectable
faults. Every request is recorded so tests can check pacing and header scoping.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.dashboard.emulator.data import DemoData, iso
from bot.dashboard.emulator.faults import Fault

API_PREFIX = "/api/v1"
# Re-anchor the scripted event history at most this often so it stays "recent".
ANCHOR_REFRESH = timedelta(hours=1)
SHUTDOWN_SECONDS = 1.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    host: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    at: float

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _occurred(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurredAt"].replace("Z", "+00:00"))


class DashboardEmulator:
    """Use as `async with DashboardEmulator() as emu:`; `emu.base_url` is the API root."""

    def __init__(
        self,
        data: DemoData | None = None,
        *,
        api_key: str = "emulator-key",
        shard_host: str | None = None,
        latency: float = 0.0,
        page_size: int | None = None,
        endless_next: bool = False,
    ) -> None:
        self.data = data or DemoData.load()
        self.api_key = api_key
        self.shard_host = shard_host
        self.latency = latency
        self.page_size = page_size
        self.endless_next = endless_next
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        # Webhook receivers and alert settings per network, as the write endpoints leave them.
        self.http_servers: dict[str, list[dict[str, Any]]] = {}
        self.alert_settings: dict[str, dict[str, Any]] = {}
        self.read_only = False  # a read-only key: writes get 403, as the Dashboard answers them
        self._anchor = datetime.now(UTC)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # Lifecycle ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        routes = [
            ("/organizations", self._organizations),
            ("/organizations/{org}/networks", self._networks),
            ("/organizations/{org}/devices", self._devices),
            ("/organizations/{org}/appliance/vpn/thirdPartyVPNPeers", self._peers),
            ("/organizations/{org}/appliance/vpn/statuses", self._vpn_statuses),
            ("/organizations/{org}/appliance/uplink/statuses", self._uplink_statuses),
            ("/networks/{network}/events", self._events),
            ("/networks/{network}/events/eventTypes", self._event_types),
        ]
        for path, handler in routes:
            app.router.add_get(API_PREFIX + path, handler)
        servers = API_PREFIX + "/networks/{network}/webhooks/httpServers"
        settings = API_PREFIX + "/networks/{network}/alerts/settings"
        app.router.add_get(servers, self._http_servers)
        app.router.add_post(servers, self._create_http_server)
        app.router.add_get(settings, self._alert_settings)
        app.router.add_put(settings, self._put_alert_settings)
        return app

    async def start(self) -> DashboardEmulator:
        # A local double has no request worth a minute's wait (aiohttp's default) when it closes.
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DashboardEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    def url_on(self, host: str) -> str:
        """The API root as reached under another host name (e.g. a shard host)."""
        return f"http://{host}:{self.port}{API_PREFIX}"

    def inject(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def requests_to(self, fragment: str) -> list[RecordedRequest]:
        return [r for r in self.requests if fragment in r.path]

    def set_reachability(self, network_id: str, peer_name: str, reachability: str) -> None:
        """Flip one third-party peer's status on one MX network (alert tests and benchmarks)."""
        for status in self.data.vpn_statuses:
            if status["networkId"] != network_id:
                continue
            for peer in status["thirdPartyVpnPeers"]:
                if peer["name"] == peer_name:
                    peer["reachability"] = reachability
                    return
        raise KeyError(f"{peer_name} is not a third-party peer of {network_id}")

    # Plumbing ----------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = datetime.now(UTC)
        if now - self._anchor > ANCHOR_REFRESH:
            self._anchor = now
        return self._anchor

    def _fault_for(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(path):
                fault.hits += 1
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                host=request.host.split(":")[0],
                path=request.path,
                query=tuple(request.query.items()),
                headers=dict(request.headers),
                at=time.monotonic(),
            )
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._fault_for(request.path)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            return web.json_response(fault.error_body(), status=fault.status, headers=headers)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"errors": ["Invalid API key"]}, status=401)
        response = await handler(request)
        if fault is not None and fault.link_next is not None:
            response.headers["Link"] = f"<{fault.link_next}>; rel=next"
        return response

    def _network_or_404(self, request: web.Request) -> str | web.Response:
        network = request.match_info["network"]
        if not any(n["id"] == network for n in self.data.networks):
            return web.json_response({"errors": ["Network not found"]}, status=404)
        return network

    async def _http_servers(self, request: web.Request) -> web.Response:
        network = self._network_or_404(request)
        if isinstance(network, web.Response):
            return network
        return web.json_response([{k: v for k, v in s.items() if k != "sharedSecret"}
                                  for s in self.http_servers.get(network, [])])

    async def _write(self, request: web.Request) -> tuple[str, dict[str, Any]] | web.Response:
        """The network and JSON object of a write, or the Dashboard's refusal of it."""
        network = self._network_or_404(request)
        if isinstance(network, web.Response):
            return network
        if self.read_only:
            return web.json_response({"errors": ["This API key is read-only"]}, status=403)
        body = await request.json()
        if not isinstance(body, dict):
            return web.json_response({"errors": ["Invalid request body"]}, status=400)
        return network, body

    async def _create_http_server(self, request: web.Request) -> web.Response:
        found = await self._write(request)
        if isinstance(found, web.Response):
            return found
        network, body = found
        if not body.get("name") or not body.get("url"):
            return web.json_response({"errors": ["'name' and 'url' must be specified"]}, status=400)
        url = str(body["url"])
        server = {
            "id": base64.b64encode(url.encode()).decode(),
            "name": str(body["name"]),
            "url": url,
            "networkId": network,
            "payloadTemplate": {"payloadTemplateId": (body.get("payloadTemplate") or {}).get("payloadTemplateId",
                                                                                            "wpt_00001"),
                                "name": "Meraki (included)"},
            "sharedSecret": body.get("sharedSecret", ""),
        }
        self.http_servers.setdefault(network, []).append(server)
        return web.json_response({k: v for k, v in server.items() if k != "sharedSecret"}, status=201)

    async def _alert_settings(self, request: web.Request) -> web.Response:
        network = self._network_or_404(request)
        if isinstance(network, web.Response):
            return network
        default = {"defaultDestinations": {"emails": [], "allAdmins": False, "snmp": False, "httpServerIds": []},
                   "alerts": [{"type": "gatewayDown", "enabled": True,
                               "alertDestinations": {"emails": [], "allAdmins": True, "snmp": False,
                                                     "httpServerIds": []}, "filters": {"timeout": 60}}]}
        return web.json_response(self.alert_settings.get(network, default))

    async def _put_alert_settings(self, request: web.Request) -> web.Response:
        found = await self._write(request)
        if isinstance(found, web.Response):
            return found
        network, body = found
        self.alert_settings[network] = body
        return web.json_response(body)

    def _link_base(self, request: web.Request) -> str:
        host = self.shard_host or request.host.split(":")[0]
        return f"{request.scheme}://{host}:{self.port}"

    def _link(self, request: web.Request, rel: str, changes: dict[str, str], drop: tuple[str, ...]) -> str:
        query = [(k, v) for k, v in request.query.items() if k not in changes and k not in drop]
        query.extend(changes.items())
        url = request.url.with_query(query)
        return f"<{self._link_base(request)}{url.raw_path_qs}>; rel={rel}"

    def _org_or_404(self, request: web.Request) -> web.Response | None:
        if request.match_info["org"] != self.data.org_id:
            return web.json_response({"errors": ["Not found"]}, status=404)
        return None

    def _per_page(self, request: web.Request, default: int) -> int:
        try:
            wanted = int(request.query.get("perPage", default))
        except ValueError:
            wanted = default
        if self.page_size is not None:
            wanted = min(wanted, self.page_size)
        return max(1, wanted)

    def _paged(self, request: web.Request, items: list[dict[str, Any]], id_key: str) -> web.Response:
        """A list page with first/next links; ids are the page tokens, as Meraki does."""
        per_page = self._per_page(request, 1000)
        start = 0
        after = request.query.get("startingAfter")
        if after is not None:
            ids = [str(item[id_key]) for item in items]
            start = ids.index(after) + 1 if after in ids else len(items)
        page = items[start : start + per_page]
        links = [self._link(request, "first", {}, ("startingAfter", "endingBefore"))]
        more = start + per_page < len(items)
        last = str(page[-1][id_key]) if page else after
        if last is not None and (more or self.endless_next):
            links.append(self._link(request, "next", {"startingAfter": last}, ("endingBefore",)))
        return web.json_response(page, headers={"Link": ", ".join(links)})

    # Endpoints ---------------------------------------------------------------------------

    async def _organizations(self, request: web.Request) -> web.Response:
        return self._paged(request, self.data.organizations, "id")

    async def _networks(self, request: web.Request) -> web.Response:
        return self._org_or_404(request) or self._paged(request, self.data.networks, "id")

    async def _devices(self, request: web.Request) -> web.Response:
        if (missing := self._org_or_404(request)) is not None:
            return missing
        devices = self.data.devices
        if types := request.query.getall("productTypes[]", []):
            devices = [d for d in devices if d.get("productType") in types]
        if networks := request.query.getall("networkIds[]", []):
            devices = [d for d in devices if d.get("networkId") in networks]
        return self._paged(request, devices, "serial")

    async def _peers(self, request: web.Request) -> web.Response:
        return self._org_or_404(request) or web.json_response(self.data.peers)

    def _by_network(self, request: web.Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if networks := request.query.getall("networkIds[]", []):
            return [item for item in items if item.get("networkId") in networks]
        return items

    async def _vpn_statuses(self, request: web.Request) -> web.Response:
        if (missing := self._org_or_404(request)) is not None:
            return missing
        return self._paged(request, self._by_network(request, self.data.vpn_statuses), "networkId")

    async def _uplink_statuses(self, request: web.Request) -> web.Response:
        if (missing := self._org_or_404(request)) is not None:
            return missing
        return self._paged(request, self._by_network(request, self.data.uplink_statuses), "networkId")

    async def _event_types(self, request: web.Request) -> web.Response:
        if self.data.network(request.match_info["network"]) is None:
            return web.json_response({"errors": ["Not found"]}, status=404)
        return web.json_response(self.data.event_types)

    async def _events(self, request: web.Request) -> web.Response:
        network_id = request.match_info["network"]
        if self.data.network(network_id) is None:
            return web.json_response({"errors": ["Not found"]}, status=404)
        if request.query.get("productType", "appliance") != "appliance":
            return web.json_response({"message": "No events", "events": []})
        now = self._now()
        events = self.data.events(network_id, now)
        if included := request.query.getall("includedEventTypes[]", []):
            events = [e for e in events if e["type"] in included]
        if excluded := request.query.getall("excludedEventTypes[]", []):
            events = [e for e in events if e["type"] not in excluded]
        per_page = self._per_page(request, 10)
        before = _parse_time(request.query.get("endingBefore", ""))
        after = _parse_time(request.query.get("startingAfter", ""))
        if before is not None:
            events = [e for e in events if _occurred(e) < before]
        if after is not None:
            newer = [e for e in events if _occurred(e) > after]
            page = newer[-per_page:]
        else:
            page = events[:per_page]
        drop = ("startingAfter", "endingBefore")
        if page:
            start_at, end_at = page[-1]["occurredAt"], page[0]["occurredAt"]
        else:
            start_at = end_at = iso(before or now)
        # The next link is always there, even past the newest event; prev only when a page had events.
        links = [self._link(request, "next", {"startingAfter": end_at}, drop)]
        if page:
            links.insert(0, self._link(request, "prev", {"endingBefore": start_at}, drop))
        body = {
            "message": None if page else "No events found",
            "pageStartAt": start_at,
            "pageEndAt": end_at,
            "events": page,
        }
        return web.json_response(body, headers={"Link": ", ".join(links)})
