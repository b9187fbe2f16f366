"""`vpn-doctor serve` / `python -m bot`: pick Socket Mode, HTTP mode or the local shell.

- SLACK_BOT_TOKEN + SLACK_APP_TOKEN → Socket Mode (plus /healthz, /readyz, /metrics on PORT);
- SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET → HTTP: POST /slack/events, GET /healthz, /readyz, /metrics on PORT;
- neither → the local shell, so `make run` works on a laptop without any Slack app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from bot import metrics
from bot.logs import configure_logging, secret_values
from bot.settings import Settings
from bot.shell import ShellCommand, run_shell
from bot.web import HealthCheck, RouteSetup, create_web_app, slack_routes

log = logging.getLogger(__name__)


def shell_commands(settings: Settings) -> list[ShellCommand]:
    """Extra commands for the local shell beyond help/lang/quit; add new ones here."""
    from bot.shell_vpn import vpn_shell_command

    return [vpn_shell_command(settings)]


def service_routes(settings: Settings) -> list[RouteSetup]:
    """HTTP routes served next to Slack's in both modes; add new ones here."""
    return []


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the Slack app until `stop` is set, then shut down cleanly."""
    from bot.alerts import RunningAlerts, start_alerts
    from bot.app import create_app
    from bot.chat import warm_up
    from bot.health import failing, operations, tasks_check
    from bot.services import Services

    await asyncio.to_thread(warm_up)
    # The trace times every Slack Web API call made on the shared session (Bolt's clients copy it).
    session = aiohttp.ClientSession(
        trace_configs=[metrics.slack_trace(settings.slack_api_url)], trust_env=True  # HTTPS_PROXY / NO_PROXY
    )
    services = Services(settings=settings, session=session)
    bolt_app = create_app(settings, session=session, services=services)
    await services.start()
    routes = service_routes(settings)
    # None unless VPN_DOCTOR_ALERT_CHANNEL is set; alerts poll through the Services' Dashboard connection.
    alerts = await start_alerts(settings, bolt_app, routes, session, services)
    state = alerts.store if isinstance(alerts, RunningAlerts) else None
    ops = await operations(bolt_app.client, services.live, state, settings.vpn_doctor_state.split("://", 1)[0])
    if isinstance(alerts, RunningAlerts):
        supervisor = alerts.service.tasks
        ops.add("tasks", tasks_check(lambda: dict(supervisor.down)))
    elif alerts is not None:
        ops.add("state", failing(alerts.reason))
    routes.append(ops.route)  # GET /readyz and /metrics
    metrics.started(settings.mode)
    checks: list[HealthCheck] = []
    socket_handler = None
    if settings.mode == "socket":
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(bolt_app, settings.reveal(settings.slack_app_token))
        checks.append(_socket_connected(socket_handler))
    else:
        routes.insert(0, slack_routes(bolt_app))
    runner = web.AppRunner(create_web_app(settings, routes, checks), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.bind_address, settings.port).start()
    port = runner.addresses[0][1] if runner.addresses else settings.port  # PORT=0: the one the system chose
    log.info("serving mode=%s on %s:%d", settings.mode, settings.bind_address, port)
    try:
        if socket_handler is not None:
            await socket_handler.connect_async()
        await stop.wait()
    finally:
        log.info("shutting down")
        if alerts is not None:
            await alerts.stop()
        if socket_handler is not None:
            await socket_handler.close_async()
        await runner.cleanup()
        grace = settings.vpn_doctor_shutdown_grace_seconds
        started = asyncio.get_running_loop().time()
        await services.in_flight.finish(grace)
        await _finish_in_flight(max(0.0, grace - (asyncio.get_running_loop().time() - started)))
        await services.aclose()
        await session.close()


def _socket_connected(handler: object) -> Callable[[], Awaitable[bool]]:
    async def socket_mode_connected() -> bool:
        return await handler.client.is_connected()  # type: ignore[attr-defined]

    return socket_mode_connected


async def _finish_in_flight(timeout: float) -> None:
    """Other tasks (a help reply, an alert post) get what is left of the grace period.

    A server's connection loop is not work in flight: ours ended with the runner, and any left
    belong to the in-process demo Dashboard, idle on keep-alive connections until it is closed.
    It is closed after this wait, so a `/vpn` still running can finish its lookups.
    """
    pending = [
        t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not _serves_a_connection(t)
    ]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def _serves_a_connection(task: asyncio.Task[object]) -> bool:
    return getattr(task.get_coro(), "cr_code", None) is web.RequestHandler.start.__code__


async def _serve_until_signalled(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await serve(settings, stop)


def run_serve() -> int:
    settings = Settings()
    if settings.mode == "shell":
        # A person reads the shell: its replies, not the service's INFO records, unless asked for them.
        level = settings.log_level if "LOG_LEVEL" in os.environ else "WARNING"
        configure_logging(level, "text", secrets=secret_values(settings))
        return run_shell(settings, shell_commands(settings))
    configure_logging(settings.log_level, settings.log_format, secrets=secret_values(settings))
    asyncio.run(_serve_until_signalled(settings))
    return 0
