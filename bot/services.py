"""What listeners share for the app's lifetime: settings, the repeat filter, caches, HTTP.

Handed to listeners through Bolt's context (`context["services"]`), so listener
modules stay plain functions and tests build a fresh set per app.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import InitVar, dataclass, field
from typing import ParamSpec, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.dedupe import SeenStore, open_seen_store
from bot.in_flight import InFlight
from bot.live import LiveService
from bot.live_connection import LiveConnection
from bot.settings import Settings
from knowledge.models import Lang

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

LOCALE_TTL_SECONDS = 3600.0
CONTEXT_KEY = "services"


def lang_of_locale(locale: str | None) -> Lang | None:
    """Slack locales look like `ja-JP` / `en-US`; other languages fall back to the default."""
    if not locale:
        return None
    prefix = locale.split("-", 1)[0].lower()
    if prefix == "ja":
        return "ja"
    if prefix == "en":
        return "en"
    return None


@dataclass
class UserLanguages:
    """Each user's Slack locale, looked up once an hour at most (users.info is rate-limited)."""

    ttl_seconds: float = LOCALE_TTL_SECONDS
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, tuple[Lang | None, float]] = field(default_factory=dict)

    async def lookup(self, client: AsyncWebClient, user_id: str | None) -> Lang | None:
        if not user_id:
            return None
        now = self.clock()
        cached = self._cache.get(user_id)
        if cached and cached[1] > now:
            return cached[0]
        lang: Lang | None = None
        try:
            response = await client.users_info(user=user_id, include_locale=True)
            lang = lang_of_locale((response.get("user") or {}).get("locale"))
        except SlackApiError as exc:
            log.warning("users.info failed user=%s error=%s", user_id, exc.response.get("error"))
        self._cache[user_id] = (lang, now + self.ttl_seconds)
        return lang


@dataclass
class Services:
    settings: Settings
    # The repeat filter, kept where VPN_DOCTOR_STATE says (Redis the replicas share, or the SQLite file).
    seen_store: InitVar[SeenStore | None] = None
    languages: UserLanguages = field(default_factory=UserLanguages)
    session: aiohttp.ClientSession | None = None
    _own_session: aiohttp.ClientSession | None = None
    # Live Dashboard lookups; tests pass a `live_service` aimed at their own Dashboard emulator.
    live_service: InitVar[LiveService | None] = None
    live: LiveConnection = field(init=False)
    # Answers owed to people right now: a shutdown finishes them or marks them as not answered.
    in_flight: InFlight = field(default_factory=InFlight)
    seen: SeenStore = field(init=False)
    # One worker: diagnosis is CPU-bound Python (threads would only contend for the GIL) and
    # keeping it off the event loop lets acknowledgements go out while a long log is read.
    _diagnosis_worker: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="diagnose")
    )

    def __post_init__(self, seen_store: SeenStore | None, live_service: LiveService | None) -> None:
        self.seen = seen_store or open_seen_store(self.settings.vpn_doctor_state)
        self.live = LiveConnection(self.settings, service=live_service)

    async def start(self) -> None:
        """Connect to the Dashboard (or start the demo one) before the first `/vpn` waits for it."""
        await self.live.start()

    async def run_diagnosis(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._diagnosis_worker, lambda: func(*args, **kwargs))

    async def language(self, client: AsyncWebClient, user_id: str | None, requested: Lang | None) -> Lang:
        """`lang:xx` in the message, else the user's Slack locale, else VPN_DOCTOR_LANG."""
        if requested:
            return requested
        return await self.languages.lookup(client, user_id) or self.settings.vpn_doctor_lang

    def http(self) -> aiohttp.ClientSession:
        """The shared session, or one of our own created on first use inside the event loop."""
        if self.session is not None:
            return self.session
        if self._own_session is None or self._own_session.closed:
            self._own_session = aiohttp.ClientSession(trust_env=True)  # HTTPS_PROXY / NO_PROXY
        return self._own_session

    async def aclose(self) -> None:
        self._diagnosis_worker.shutdown(wait=False, cancel_futures=True)
        await self.live.aclose()
        await self.seen.aclose()
        if self._own_session is not None and not self._own_session.closed:
            await self._own_session.close()
