"""The aiohttp application the service exposes: Slack events, health, and whatever else is plugged in.

Routes are added by `RouteSetup` callables (`(web.Application) -> None`), so another
part of the service (a webhook receiver, metrics) joins by appending one function to
the list passed to `create_web_app`. Shared objects sit on the application under
`web.AppKey`s for those routes to read.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.settings import Settings
from bot.slack_gate import Rejected, check_body, check_signature

log = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

RouteSetup = Callable[[web.Application], None]
HealthCheck = Callable[[], Awaitable[bool]]

SETTINGS_KEY = web.AppKey("settings", Settings)
BOLT_APP_KEY = web.AppKey("bolt_app", AsyncApp)
HEALTH_CHECKS_KEY = web.AppKey("health_checks", list[HealthCheck])


def slack_events(bolt_app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle_slack_events(request: web.Request) -> web.Response:
        """Bolt sees a request only once its signature and body have passed the gate."""
        settings = request.app[SETTINGS_KEY]
        secret = (settings.reveal(settings.slack_signing_secret) or "").encode()
        body = await request.read()
        try:
            check_signature(secret, body, request.headers)
            check_body(body, request.content_type)
        except Rejected as rejected:
            log.warning("rejected slack request status=%d reason=%s", rejected.status, rejected.reason)
            # 401 answers as Bolt itself does; a 400 says what was wrong with the body.
            answer = "invalid request" if rejected.status == 401 else rejected.reason
            return web.json_response({"error": answer}, status=rejected.status)
        return await to_aiohttp_response(await bolt_app.async_dispatch(await to_bolt_request(request)))

    return handle_slack_events


async def healthz(request: web.Request) -> web.Response:
    """200 while every registered check passes (e.g. the Socket Mode connection is up), else 503."""
    failing = [check.__name__ for check in request.app[HEALTH_CHECKS_KEY] if not await check()]
    if failing:
        return web.json_response({"status": "unhealthy", "failing": failing}, status=503)
    return web.json_response({"status": "ok"})


def slack_routes(bolt_app: AsyncApp) -> RouteSetup:
    def add(app: web.Application) -> None:
        app[BOLT_APP_KEY] = bolt_app
        app.router.add_post(SLACK_EVENTS_PATH, slack_events(bolt_app))

    return add


def create_web_app(
    settings: Settings,
    routes: Iterable[RouteSetup] = (),
    health_checks: Iterable[HealthCheck] = (),
) -> web.Application:
    app = web.Application()
    app[SETTINGS_KEY] = settings
    app[HEALTH_CHECKS_KEY] = list(health_checks)
    app.router.add_get(HEALTH_PATH, healthz)
    for setup in routes:
        setup(app)
    return app
