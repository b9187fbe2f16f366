"""`/vpn` in the local shell: the demo organisation on a fresh machine, piped input, both languages."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.dashboard.client import DashboardClient
from bot.dashboard.emulator import DashboardEmulator, Fault
from bot.live import LiveService
from bot.live_connection import LiveConnection
from bot.settings import Settings
from bot.shell import Shell
from bot.shell_vpn import vpn_shell_command
from tests.live_helpers import PSKS
from tests.test_slack_events import PSK_RAW

ROOT = Path(__file__).parent.parent
KEY = "shell-test-key"


def test_python_m_bot_serves_the_demo_organisation_to_piped_input() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MERAKI_"))}
    stdin = f"/vpn status\n/vpn frankfurt-aws\n{PSK_RAW}\n\n/vpn peers\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot"], input=stdin, capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("[Demo organisation:") == 3
    status, rest = out.split("Healthy: the tunnel with 203.0.113.40", 1)
    assert "Third-party VPN peers: 5 of 7 unreachable" in status
    assert status.index("azure-prod-vnet (203.0.113.10) — Tokyo DC: unreachable") < status.index(
        "frankfurt-aws (203.0.113.40) — Frankfurt Hub: reachable"
    )
    lookup, paste = rest.split("Failing", 1)
    assert "Tunnel established" in lookup and "Dashboard:" in lookup and "Frankfurt Hub" in lookup
    assert "reachability: reachable" in lookup and "MX 18.211 (IKEv2 supported" in lookup
    assert "INVALID-HASH-INFORMATION" in paste and "Configured third-party peers (7)" in paste
    assert not any(psk in result.stdout + result.stderr for psk in PSKS)


@pytest.fixture
async def connection() -> AsyncIterator[tuple[LiveConnection, DashboardEmulator]]:
    async with DashboardEmulator(api_key=KEY) as emu, DashboardClient(
        KEY, base_url=emu.base_url, rps=50, failure_backoff=0.01
    ) as client:
        yield LiveConnection(Settings(_env_file=None), service=LiveService(client, demo=True)), emu


async def shell(stdin: str, connection: LiveConnection) -> str:
    out = io.StringIO()
    command = vpn_shell_command(Settings(_env_file=None), connection)
    assert await Shell(Settings(_env_file=None), (command,), stdin=io.StringIO(stdin), stdout=out).run() == 0
    return out.getvalue()


async def test_japanese_lookup_miss_and_help(connection) -> None:
    live, _ = connection
    out = await shell("lang ja\n/vpn nyc-opnsense 6\n/vpn pa\n/vpn help\nhelp\n", live)
    assert "デモ組織" in out and "到達性: 到達可能" in out and "直近 6 時間" in out
    assert "pa に当てはまるピアが複数" in out and "paris-asa, partner-osaka-ikev2" in out
    assert "/vpn status" in out and "/vpn <peer> [hours]" in out


async def test_dashboard_fault_prints_the_sentence(connection) -> None:
    live, emu = connection
    emu.inject(Fault(path="thirdPartyVPNPeers", status=401))
    out = await shell("/vpn azure-prod-vnet\n", live)
    assert "rejected the API key (401)" in out


async def test_the_shell_closes_the_connection_it_opened() -> None:
    connection = LiveConnection(Settings(_env_file=None, meraki_api_key=None))
    out = await shell("/vpn peers\n", connection)
    assert "azure-prod-vnet — 203.0.113.10" in out
    assert not connection.connected


@pytest.mark.parametrize(
    "said", ["check azure-prod-vnet", "@VPN Doctor what is wrong with azure-prod-vnet over the last 6 hours?"]
)
async def test_a_sentence_naming_a_peer_gets_its_live_lookup_as_in_slack(connection, said: str) -> None:
    live, _ = connection
    out = await shell(f"{said}\n", live)
    assert "Dashboard:" in out and "azure-prod-vnet" in out and "did not recognise" not in out


async def test_a_sentence_naming_no_peer_is_still_not_recognised(connection) -> None:
    live, _ = connection
    assert "did not recognise" in await shell("check the weather\n", live)
