"""`vpn-doctor webhooks plan|apply` against the Dashboard emulator: every MX network set up in one go."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.dashboard.emulator import DashboardEmulator
from bot.dashboard.webhooks import VPN_ALERT, server_id_for

KEY = "webhooks-test-key"
URL = "https://vpn-doctor.example.net/meraki/webhook"
SECRET = "webhooks-test-secret-9f2c"
SCRIPT = Path(sys.executable).parent / "vpn-doctor"


async def cli(emu: DashboardEmulator, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MERAKI_", "VPN_DOCTOR_", "SLACK_"))}
    env.update(MERAKI_API_KEY=KEY, MERAKI_BASE_URL=emu.base_url, MERAKI_WEBHOOK_SECRET=SECRET)
    proc = await asyncio.create_subprocess_exec(
        str(SCRIPT), "webhooks", *args, "--url", URL, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def appliance_networks(emu: DashboardEmulator) -> list[str]:
    return [n["id"] for n in emu.data.networks if "appliance" in n["productTypes"]]


async def test_plan_lists_every_mx_network_and_changes_nothing() -> None:
    async with DashboardEmulator(api_key=KEY) as emu:
        code, out, err = await cli(emu, "plan")
        assert code == 0, err
        networks = appliance_networks(emu)
        assert f"{len(networks)} MX network(s), {2 * len(networks)} change(s) to make" in out
        assert not emu.http_servers and not emu.alert_settings
        assert not [r for r in emu.requests if r.method != "GET"]


async def test_apply_creates_the_receiver_and_routes_the_vpn_alert_then_plan_says_ready() -> None:
    async with DashboardEmulator(api_key=KEY) as emu:
        code, out, err = await cli(emu, "apply", "--yes")
        assert code == 0, err
        networks = appliance_networks(emu)
        assert f"{2 * len(networks)} change(s) made." in out
        for network in networks:
            (server,) = emu.http_servers[network]
            assert server["url"] == URL and server["sharedSecret"] == SECRET
            assert server["payloadTemplate"]["payloadTemplateId"] == "wpt_00001"
            alerts = emu.alert_settings[network]["alerts"]
            assert any(a["type"] == "gatewayDown" for a in alerts), "other alerts are kept"
            (vpn,) = [a for a in alerts if a["type"] == VPN_ALERT]
            assert vpn["enabled"] and server_id_for(URL) in vpn["alertDestinations"]["httpServerIds"]
        code, out, _ = await cli(emu, "plan")
        assert code == 0 and "0 change(s) to make" in out and out.count(": ready") == len(networks)
        assert SECRET not in out


async def test_apply_without_yes_and_without_a_terminal_changes_nothing() -> None:
    async with DashboardEmulator(api_key=KEY) as emu:
        code, _, err = await cli(emu, "apply")
        assert code == 2 and "--yes" in err
        assert not emu.http_servers


async def test_a_read_only_key_is_told_so_in_one_line() -> None:
    async with DashboardEmulator(api_key=KEY) as emu:
        emu.read_only = True
        code, _, err = await cli(emu, "apply", "--yes")
        assert code == 2 and "403" in err and len(err.strip().splitlines()) == 1
