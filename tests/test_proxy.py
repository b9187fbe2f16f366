"""An outbound proxy (HTTP_PROXY / HTTPS_PROXY, NO_PROXY) carries the bot's Slack and Dashboard calls.

A small forwarding proxy on 127.0.0.1 records each absolute-form request and passes it on; the
real process (`python -m bot`) is pointed at it the way corporate networks do, by environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.dashboard.emulator import DashboardEmulator
from tests.test_ops_http import bot_process, pasted_lines

KEY = "proxy-test-dashboard-key"


@asynccontextmanager
async def forwarding_proxy() -> AsyncIterator[tuple[str, list[str]]]:
    seen: list[str] = []
    client = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.StreamResponse:
        seen.append(str(request.url))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "proxy-connection")}
        async with client.request(request.method, str(request.url), headers=headers, data=await request.read(),
                                  allow_redirects=False) as upstream:
            body = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding", "connection")}
            return web.Response(status=upstream.status, body=body, headers=kept)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}", seen
    finally:
        await runner.cleanup()
        await client.close()


async def test_slack_and_dashboard_calls_go_through_the_configured_proxy(tmp_path: Path) -> None:
    async with forwarding_proxy() as (proxy, seen), DashboardEmulator(api_key=KEY) as dashboard:
        env = {"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "NO_PROXY": "", "no_proxy": "",
               "MERAKI_API_KEY": KEY, "MERAKI_BASE_URL": dashboard.base_url}
        async with bot_process(tmp_path, **env) as bot:
            await bot.mention(pasted_lines())
            await bot.emulator.wait_for("chat.postMessage", 1, timeout=30)
    assert any("/api/auth.test" in url for url in seen), seen
    assert any("/api/chat.postMessage" in url for url in seen), seen
    assert any("/organizations" in url for url in seen), seen


async def test_no_proxy_keeps_the_named_hosts_direct(tmp_path: Path) -> None:
    async with forwarding_proxy() as (proxy, seen):
        env = {"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "NO_PROXY": "127.0.0.1,localhost"}
        async with bot_process(tmp_path, **env) as bot:
            await bot.mention(pasted_lines())
            await bot.emulator.wait_for("chat.postMessage", 1, timeout=30)
    assert seen == []
