"""A small aiohttp client for the handful of Dashboard endpoints the bot reads.

Hand-written rather than the official SDK so that it runs on the bot's own aiohttp
stack, follows absolute Link URLs (shard hosts, local emulators), paces itself per
organisation, and keeps the API key away from any host that is not Meraki's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from pydantic import SecretStr, ValidationError
from yarl import URL

from bot import metrics
from bot.dashboard.cache import TTLCache
from bot.dashboard.errors import DashboardError, Reason
from bot.dashboard.models import (
    Device,
    Event,
    EventsPage,
    EventType,
    Network,
    Organization,
    ThirdPartyPeer,
    UplinkStatus,
    VpnStatus,
)
from bot.dashboard.ratelimit import SlidingWindowLimiter
from bot.dashboard.settings import DEFAULT_BASE_URL, DashboardSettings
from bot.dashboard.shapes import describe, unique, valid_items

log = logging.getLogger("bot.dashboard")

MERAKI_DOMAINS = ("meraki.com", "meraki.ca", "meraki.cn", "meraki.in", "gov-meraki.com")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
VENDOR = "VPNDoctorBot"


def _product_version() -> str:
    try:
        return version("vpn-doctor")
    except PackageNotFoundError:
        return "0"


USER_AGENT = f"VPNDoctor/{_product_version()} {VENDOR}"


def is_meraki_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in MERAKI_DOMAINS)


@dataclass
class CallCounter:
    """Dashboard requests made on behalf of one lookup (retries and pages included).

    Counters nest: a request counts in every enclosing `count_calls()` block, so a
    command that wraps a lookup still knows its calls when the lookup fails half-way.
    """

    count: int = 0
    parent: CallCounter | None = None


_current_counter: ContextVar[CallCounter | None] = ContextVar("dashboard_calls", default=None)


@contextmanager
def count_calls() -> Iterator[CallCounter]:
    """Count the requests made by the code inside the block (and the tasks it starts)."""
    counter = CallCounter(parent=_current_counter.get())
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)


@dataclass
class Reply:
    data: Any
    links: dict[str, URL] = field(default_factory=dict)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_strings(body: bytes) -> list[str]:
    try:
        data = json.loads(body)
    except ValueError:
        return []
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        return [str(e) for e in data["errors"]]
    return []


def _links(resp: aiohttp.ClientResponse) -> dict[str, URL]:
    found: dict[str, URL] = {}
    for rel, link in resp.links.items():
        url = link.get("url")
        if isinstance(url, URL):
            found[str(rel)] = url if url.is_absolute() else resp.url.join(url)
    return found


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


Params = Sequence[tuple[str, str]]


class DashboardClient:
    """One organisation's Dashboard, paced, retried, cached; use as an async context manager."""

    def __init__(
        self,
        api_key: SecretStr | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        org_id: str | None = None,
        rps: float = 5.0,
        session: aiohttp.ClientSession | None = None,
        limiter: SlidingWindowLimiter | None = None,
        cache: TTLCache | None = None,
        timeout: float = 10.0,
        max_busy_tries: int = 5,
        max_failure_tries: int = 3,
        backoff_cap: float = 60.0,
        failure_backoff: float = 0.5,
        max_pages: int = 20,
    ) -> None:
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self.base_url = base_url.rstrip("/")
        self._base_host = URL(self.base_url).host
        self._org_id = org_id
        self._rate_key = org_id or "default"
        self._session = session
        self._owns_session = session is None
        self.limiter = limiter or SlidingWindowLimiter(rps)
        self.cache = cache or TTLCache()
        self.timeout = timeout
        self.max_busy_tries = max_busy_tries
        self.max_failure_tries = max_failure_tries
        self.backoff_cap = backoff_cap
        self.failure_backoff = failure_backoff
        self.max_pages = max_pages
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: DashboardSettings, **kwargs: Any) -> DashboardClient:
        if settings.meraki_api_key is None:
            raise ValueError("MERAKI_API_KEY is not set")
        return cls(
            settings.meraki_api_key,
            base_url=settings.meraki_base_url,
            org_id=settings.meraki_org_id,
            rps=settings.vpn_doctor_meraki_rps,
            **kwargs,
        )

    async def __aenter__(self) -> DashboardClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=True)  # HTTPS_PROXY / NO_PROXY
        return self._session

    def trusts(self, host: str | None) -> bool:
        """The API key goes only to Meraki's own hosts and to the configured base URL's host."""
        return host is not None and (host == self._base_host or is_meraki_host(host))

    def _headers(self, target: URL) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.trusts(target.host):
            headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        return headers

    def _count(self) -> None:
        self.calls += 1
        counter = _current_counter.get()
        while counter is not None:
            counter.count += 1
            counter = counter.parent

    def _busy_wait(self, attempt: int, headers: CIMultiDictProxy[str]) -> float:
        wait = _retry_after(headers.get("Retry-After"))
        if wait is None:
            wait = (2**attempt) * (1 + random.random())
        return min(wait, self.backoff_cap)

    def _target(self, path_or_url: str | URL) -> URL:
        if isinstance(path_or_url, URL) and path_or_url.is_absolute():
            return path_or_url
        text = str(path_or_url)
        if text.startswith(("http://", "https://")):
            return URL(text, encoded=True)
        return URL(self.base_url + "/" + text.lstrip("/"), encoded=True)

    async def get(self, path_or_url: str | URL, params: Params | None = None) -> Reply:
        """One GET with pacing, manual redirects, and retries for 429, 5xx and time-outs."""
        target = self._target(path_or_url)
        query: Params | None = params
        busy_tries = failure_tries = redirects = 0
        while True:
            await self.limiter.acquire(self._rate_key)
            self._count()
            sent = time.perf_counter()
            try:
                async with self._http().get(
                    target,
                    params=query,
                    headers=self._headers(target),
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as resp:
                    status = resp.status
                    log.debug("dashboard GET %s%s -> %s", resp.url.host, resp.url.path, status)
                    metrics.dashboard_call(target.path, status, time.perf_counter() - sent)
                    if status in REDIRECT_STATUSES and "Location" in resp.headers:
                        redirects += 1
                        if redirects > MAX_REDIRECTS:
                            raise DashboardError(status, Reason.UNAVAILABLE, path=target.path)
                        target = resp.url.join(URL(resp.headers["Location"], encoded=True))
                        query = None
                        continue
                    body = await resp.read()
                    if 200 <= status < 300:
                        try:
                            data = json.loads(body) if body else None
                        except ValueError as exc:
                            raise DashboardError(status, Reason.UNAVAILABLE, path=target.path) from exc
                        return Reply(data, _links(resp))
                    request_id = resp.headers.get("X-Request-Id")
                    error = DashboardError(
                        status, errors=_error_strings(body), path=target.path, request_id=request_id
                    )
                    if status == 429:
                        busy_tries += 1
                        if busy_tries >= self.max_busy_tries:
                            raise error
                        wait = self._busy_wait(busy_tries, resp.headers)
                        log.warning(
                            "dashboard busy (429) on %s, retry %d in %.1fs, request id %s",
                            target.path, busy_tries, wait, request_id,
                        )
                        await asyncio.sleep(wait)
                        continue
                    if status >= 500:
                        failure_tries += 1
                        if failure_tries >= self.max_failure_tries:
                            raise error
                        log.warning(
                            "dashboard error %d on %s, retry %d, request id %s",
                            status, target.path, failure_tries, request_id,
                        )
                        await asyncio.sleep(self.failure_backoff * failure_tries)
                        continue
                    raise error
            except (TimeoutError, aiohttp.ClientError) as exc:
                metrics.dashboard_call(target.path, "error", time.perf_counter() - sent)
                failure_tries += 1
                if failure_tries >= self.max_failure_tries:
                    raise DashboardError(
                        0, Reason.UNAVAILABLE, errors=[type(exc).__name__], path=target.path
                    ) from exc
                log.warning("dashboard %s on %s, retry %d", type(exc).__name__, target.path, failure_tries)
                await asyncio.sleep(self.failure_backoff * failure_tries)

    async def send(self, method: str, path: str, body: Any) -> Any:
        """One write (POST, PUT) with pacing; only a 429 is retried, since the Dashboard refuses those
        before doing anything, while a failed write may or may not have happened."""
        target = self._target(path)
        busy_tries = 0
        while True:
            await self.limiter.acquire(self._rate_key)
            self._count()
            async with self._http().request(
                method, target, json=body, headers=self._headers(target), allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                data = await resp.read()
                log.debug("dashboard %s %s -> %s", method, target.path, resp.status)
                if 200 <= resp.status < 300:
                    return json.loads(data) if data else None
                error = DashboardError(resp.status, errors=_error_strings(data), path=target.path,
                                       request_id=resp.headers.get("X-Request-Id"))
                busy_tries += 1
                if resp.status != 429 or busy_tries >= self.max_busy_tries:
                    raise error
                await asyncio.sleep(self._busy_wait(busy_tries, resp.headers))

    async def get_all(self, path: str, params: Params | None = None) -> list[Any]:
        """Every item of a list endpoint, following absolute `next` links (shard hosts too)."""
        items: list[Any] = []
        target: str | URL = path
        query = params
        seen = {str(self._target(path).with_query(list(params or [])))}
        for _ in range(self.max_pages):
            reply = await self.get(target, query)
            page = reply.data if isinstance(reply.data, list) else []
            items.extend(page)
            following = reply.links.get("next")
            if not page or following is None or str(following) in seen:
                break
            seen.add(str(following))
            target, query = following, None
        return unique(items)

    # Organisation-level reads ------------------------------------------------------------

    async def organizations(self) -> list[Organization]:
        return valid_items(Organization, await self.get_all("/organizations"), "organizations")

    async def organization_id(self) -> str:
        """The configured organisation, or the only one the key can see."""
        if self._org_id:
            return self._org_id

        async def load() -> str:
            orgs = await self.organizations()
            if len(orgs) != 1:
                raise DashboardError(400, Reason.NO_ORGANIZATION, path="/organizations")
            return orgs[0].id

        return await self.cache.get_or_load(("org",), load)

    async def peers(self) -> list[ThirdPartyPeer]:
        org = await self.organization_id()

        async def load() -> list[ThirdPartyPeer]:
            reply = await self.get(f"/organizations/{org}/appliance/vpn/thirdPartyVPNPeers")
            data = reply.data if isinstance(reply.data, dict) else {}
            return valid_items(ThirdPartyPeer, data.get("peers"), "thirdPartyVPNPeers")

        return await self.cache.get_or_load(("peers", org), load)

    async def networks(self) -> list[Network]:
        org = await self.organization_id()

        async def load() -> list[Network]:
            return valid_items(Network, await self.get_all(f"/organizations/{org}/networks"), "networks")

        return await self.cache.get_or_load(("networks", org), load)

    async def appliances(self) -> list[Device]:
        org = await self.organization_id()

        async def load() -> list[Device]:
            raw = await self.get_all(f"/organizations/{org}/devices", [("productTypes[]", "appliance")])
            return valid_items(Device, raw, "devices")

        return await self.cache.get_or_load(("appliances", org), load)

    async def vpn_statuses(self, network_ids: Sequence[str] = ()) -> list[VpnStatus]:
        org = await self.organization_id()
        params = [("networkIds[]", n) for n in network_ids]
        raw = await self.get_all(f"/organizations/{org}/appliance/vpn/statuses", params)
        return valid_items(VpnStatus, raw, "vpn statuses")

    async def uplink_statuses(self, network_ids: Sequence[str] = ()) -> list[UplinkStatus]:
        org = await self.organization_id()
        params = [("networkIds[]", n) for n in network_ids]
        raw = await self.get_all(f"/organizations/{org}/appliance/uplink/statuses", params)
        return valid_items(UplinkStatus, raw, "uplink statuses")

    # Network-level reads -----------------------------------------------------------------

    async def event_types(self, network: Network) -> list[EventType]:
        """The network's event type catalogue, shared by networks with the same product types."""

        async def load() -> list[EventType]:
            reply = await self.get(f"/networks/{network.id}/events/eventTypes")
            return valid_items(EventType, reply.data, "event types")

        return await self.cache.get_or_load(("event-types", tuple(sorted(network.productTypes))), load)

    async def network_events(
        self,
        network_id: str,
        since: datetime,
        *,
        until: datetime | None = None,
        included_types: Sequence[str] = (),
        per_page: int = 1000,
        max_pages: int = 5,
    ) -> list[Event]:
        """Appliance events between `since` and `until` (default now), newest first.

        The `next` link of this endpoint never ends, so the walk goes backwards: the
        first page is the newest, then `prev` (endingBefore) until a page starts before
        `since`, a page comes back empty, or `max_pages` pages were read.
        """
        end = until or datetime.now(UTC)
        query: Params | None = [
            ("productType", "appliance"),
            ("perPage", str(per_page)),
            *(("includedEventTypes[]", t) for t in included_types),
        ]
        if until is not None:
            query = [*query, ("endingBefore", _iso(until))]
        target: str | URL = f"/networks/{network_id}/events"
        events: list[Event] = []
        seen_events: set[tuple[datetime, str, str]] = set()
        seen_links: set[str] = set()
        for _ in range(max_pages):
            reply = await self.get(target, query)
            page = _events_page(reply.data)
            for event in page.events:
                key = (event.occurredAt, event.type, event.msg)
                if since <= event.occurredAt <= end and key not in seen_events:
                    seen_events.add(key)
                    events.append(event)
            if not page.events:
                break
            oldest = page.pageStartAt or min(e.occurredAt for e in page.events)
            if oldest <= since:
                break
            older = reply.links.get("prev")
            if older is None:
                older = self._target(f"/networks/{network_id}/events").with_query(
                    [*(query or []), ("endingBefore", _iso(oldest))]
                )
            if str(older) in seen_links:
                break
            seen_links.add(str(older))
            target, query = older, None
        events.sort(key=lambda e: e.occurredAt, reverse=True)
        return events


def _events_page(data: Any) -> EventsPage:
    """A page of events; an event of an odd shape is skipped, a page of an odd shape reads as empty."""
    if not isinstance(data, dict):
        return EventsPage()
    fields = {k: v for k, v in data.items() if k != "events"}
    try:
        page = EventsPage.model_validate(fields)
    except ValidationError as error:
        log.warning("dashboard events page: unreadable header (%s)", describe(error))
        page = EventsPage()
    page.events = valid_items(Event, data.get("events"), "events")
    return page
