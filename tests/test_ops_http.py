"""/readyz, /metrics and the JSON log of the real service: `python -m bot` in HTTP mode, as deployed.

The bot runs as its own process (so its logging set-up, its aiohttp session and its start-up
are the production ones) against the Slack Web API emulator served from this process, and
against a Dashboard emulator or a closed port when a test needs the Dashboard to fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.alerts.state.sqlite_store import SqliteStore
from bot.dashboard.emulator import DashboardEmulator
from tests.redis_server import RedisServer, redis_server  # noqa: F401  (the session fixture)
from tests.slack_emulator import SlackEmulator
from tests.slack_helpers import SIGNING_SECRET, mention_body, sign

ROOT = Path(__file__).resolve().parent.parent
PASTE = ROOT / "tests" / "fixtures" / "logs" / "psk-mismatch" / "dashboard-positive.log"
START_SECONDS = 60.0
STOP_SECONDS = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_SERVING = re.compile(r"serving mode=\w+ on 127\.0\.0\.1:(\d+)")


async def served_at(stderr: list[str], process: asyncio.subprocess.Process) -> str:
    """The bot's base URL, from the start-up line that names the port it bound."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        for line in stderr:
            if found := _SERVING.search(line):
                return f"http://127.0.0.1:{found[1]}"
        if process.returncode is not None or time.monotonic() > deadline:
            raise AssertionError("the bot did not start:\n" + "\n".join(stderr))
        await asyncio.sleep(0.05)


def pasted_lines() -> str:
    """The fixture's log lines without its YAML header."""
    text = PASTE.read_text(encoding="utf-8")
    return text.split("---\n", 2)[2].strip()


@dataclass
class RunningBot:
    base: str
    emulator: SlackEmulator
    http: aiohttp.ClientSession
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.base + path) as response:
            return response.status, await response.text()

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        status, text = await self.get("/readyz")
        return status, json.loads(text)

    async def mention(self, text: str) -> None:
        await self.post_event(mention_body(text))

    async def post_event(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body)
        headers = {"Content-Type": "application/json", **sign(raw), **(headers or {})}
        async with self.http.post(self.base + "/slack/events", data=raw.encode(), headers=headers) as response:
            assert response.status == 200

    async def post_form(self, raw: str) -> int:
        """A signed form body (a slash command), as Slack posts it."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(raw)}
        async with self.http.post(self.base + "/slack/events", data=raw.encode(), headers=headers) as response:
            return response.status


async def _collect(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode("utf-8", "replace").rstrip("\n"))


@asynccontextmanager
async def bot_process(
    tmp_path: Path, *, token: str | None = None, limits: Callable[[], None] | None = None, **env: str
) -> AsyncIterator[RunningBot]:
    """`python -m bot` in HTTP mode in `tmp_path`; `limits` runs in the child before the interpreter starts."""
    emulator = SlackEmulator()
    await emulator.start()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VPN_DOCTOR_", "MERAKI_"))}
    environment.update(
        SLACK_BOT_TOKEN=token or emulator.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=emulator.api_url,
        PORT="0",  # the bot binds a free port and logs it: no window for another process to take it
        BIND_ADDRESS="127.0.0.1",
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
    )
    environment.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=environment, cwd=tmp_path, stderr=asyncio.subprocess.PIPE, preexec_fn=limits
    )
    assert process.stderr is not None
    bot = RunningBot("", emulator, aiohttp.ClientSession(), process)
    reader = asyncio.create_task(_collect(process.stderr, bot.stderr))
    try:
        bot.base = await served_at(bot.stderr, process)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if (await bot.get("/healthz"))[0] == 200:
                    break
            except aiohttp.ClientConnectionError:
                if process.returncode is not None or time.monotonic() > deadline:
                    raise AssertionError("the bot did not start:\n" + "\n".join(bot.stderr)) from None
                await asyncio.sleep(0.1)
        yield bot
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            # An idle bot exits within a second of SIGTERM; these tests check nothing after it.
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
        await reader
        await bot.http.close()
        await emulator.stop()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def sample(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_ready_metrics_and_json_logs_after_one_diagnosis(tmp_path: Path) -> None:
    async with bot_process(tmp_path) as bot:
        status, body = await bot.readyz()
        assert status == 200, body
        assert body["status"] == "ready" and body["reasons"] == []
        assert body["checks"]["dashboard"] == {"ok": True, "detail": "demo organisation"}
        assert body["checks"]["state"] == {"ok": True, "detail": "alerts off"}
        assert body["checks"]["slack"]["ok"] and "T111" in body["checks"]["slack"]["detail"]

        await bot.mention(pasted_lines())
        await bot.emulator.wait_for("chat.postMessage", 1, timeout=20)
        await bot.emulator.wait_for("reactions.add", 2, timeout=10)  # the result reaction comes last

        status, text = await bot.get("/metrics")
        assert status == 200
        found = samples(text)
        assert sample(found, "vpn_doctor_diagnoses_total", source="paste", verdict="failing") == 1
        assert sample(found, "vpn_doctor_findings_total", source="paste", finding="psk-mismatch") == 1
        assert sample(found, "vpn_doctor_slack_api_requests_total", method="chat.postMessage", status="200") == 1
        assert sample(found, "vpn_doctor_slack_api_requests_total", method="auth.test", status="200") >= 1
        assert sample(found, "vpn_doctor_slack_api_request_seconds_count", method="chat.postMessage") == 1
        dashboard = [k for k in found if k[0] == "vpn_doctor_dashboard_requests_total"]
        assert dashboard, "the demo Dashboard's start-up reads are counted"
        assert sample(found, "vpn_doctor_info", version=_version(found), mode="http") == 1
        assert sample(found, "vpn_doctor_open_incidents") == 0

    _check_log_lines(bot.stderr, secrets=[bot.emulator.token, SIGNING_SECRET], pasted=pasted_lines())


def _version(found: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> str:
    (labels,) = [dict(k[1]) for k in found if k[0] == "vpn_doctor_info"]
    return labels["version"]


def _check_log_lines(lines: list[str], *, secrets: list[str], pasted: str) -> None:
    assert lines, "the bot logged nothing"
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "event"} <= set(entry)
    text = "\n".join(lines)
    for secret in secrets:
        assert secret not in text
    for line in pasted.splitlines():
        message = line.split("msg: ", 1)[-1]
        assert message not in text, f"pasted text in the log: {message!r}"
    answered = [e for e in entries if str(e["event"]).startswith("answered ")]
    assert len(answered) == 1
    assert answered[0]["channel"] == "C111" and answered[0]["team"] and len(answered[0]["correlation_id"]) == 12


async def test_readyz_is_503_with_the_reason_when_slack_refuses_the_token(tmp_path: Path) -> None:
    async with bot_process(tmp_path, token="xoxb-revoked-token") as bot:
        status, body = await bot.readyz()
        assert status == 503
        assert body["status"] == "not ready"
        assert body["reasons"] == ["slack: invalid_auth"]
        status, _ = await bot.get("/healthz")
        assert status == 200  # alive, just not ready


async def test_readyz_is_503_when_the_dashboard_rejects_the_key_or_does_not_answer(tmp_path: Path) -> None:
    async with DashboardEmulator(api_key="the-real-key") as dashboard:
        env = {"MERAKI_API_KEY": "a-revoked-key", "MERAKI_BASE_URL": dashboard.base_url}
        async with bot_process(tmp_path, **env) as bot:
            status, body = await bot.readyz()
            assert status == 503
            assert body["reasons"] == ["dashboard: key-invalid (401)"]
            _, text = await bot.get("/metrics")
            found = samples(text)
            assert sample(found, "vpn_doctor_dashboard_requests_total", endpoint="/organizations", status="401") >= 1
    closed = f"http://127.0.0.1:{free_port()}/api/v1"
    async with bot_process(tmp_path, MERAKI_API_KEY="some-key", MERAKI_BASE_URL=closed) as bot:
        status, body = await bot.readyz()
        assert status == 503
        assert body["reasons"] == ["dashboard: unavailable"]


async def test_readyz_checks_the_alert_state_store(tmp_path: Path) -> None:
    env = {"VPN_DOCTOR_ALERT_CHANNEL": "C0ALERTS", "VPN_DOCTOR_POLL_SECONDS": "3600"}
    async with bot_process(tmp_path, **env) as bot:
        status, body = await bot.readyz()
        assert status == 200, body
        assert body["checks"]["state"] == {"ok": True, "detail": "sqlite, 0 open incidents"}
    assert (tmp_path / "vpn-doctor-state.sqlite3").exists()
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    async with bot_process(tmp_path, VPN_DOCTOR_STATE=dead_redis, **env) as bot:
        status, body = await bot.readyz()
        assert status == 503
        (reason,) = body["reasons"]
        assert reason.startswith("state: ") and "Error" in reason


PAGE = 65_536
FILE_LIMIT = 40_000


def full_disk() -> None:
    """In the child: no file may grow past 40 KB (writes fail with EFBIG, as on a full disk)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


async def _readable_state_file(path: Path) -> None:
    """A complete state file whose 64 KB pages cannot be written under the limit, while reads still work."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA page_size={PAGE}")
        db.execute("PRAGMA journal_mode=WAL")
    await SqliteStore(path).close()


@pytest.mark.parametrize("damage", ["corrupt-file", "unwritable-folder", "full-disk"])
async def test_a_broken_state_store_turns_alerts_off_but_the_bot_keeps_answering(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    limits = None
    if damage == "full-disk":
        await _readable_state_file(folder / "alerts.sqlite3")  # opens and reads; writing fails
        limits = full_disk
    else:
        (folder / "alerts.sqlite3").write_bytes(b"this is not a SQLite database" * 100)
    env = {
        "VPN_DOCTOR_ALERT_CHANNEL": "C0ALERTS",
        "VPN_DOCTOR_POLL_SECONDS": "3600",
        "VPN_DOCTOR_STATE": f"sqlite:///{folder / 'alerts.sqlite3'}",
    }
    if damage == "unwritable-folder":
        env["VPN_DOCTOR_STATE"] = "sqlite:////proc/vpn-doctor/alerts.sqlite3"  # even root cannot create it
    async with bot_process(tmp_path, limits=limits, **env) as bot:
        status, body = await bot.readyz()
        assert status == 503
        (reason,) = body["reasons"]
        assert reason.startswith("state: sqlite state store unavailable"), reason
        in_alerts = "C0ALERTS"
        (notice,) = await bot.emulator.wait_for("chat.postMessage", 1, where=lambda c: c.get("channel") == in_alerts)
        assert "Alerts are off" in notice["text"]
        await bot.mention(pasted_lines())
        await bot.emulator.wait_for("chat.postMessage", 1, where=lambda c: c.get("channel") != in_alerts)
        assert bot.process.returncode is None
        assert len([c for c in bot.emulator.calls_to("chat.postMessage") if c.get("channel") == in_alerts]) == 1


async def test_two_http_replicas_share_a_real_redis_and_are_ready(tmp_path: Path, redis_server: RedisServer) -> None:  # noqa: F811
    env = {"VPN_DOCTOR_ALERT_CHANNEL": "C0ALERTS", "VPN_DOCTOR_POLL_SECONDS": "3600"}
    env["VPN_DOCTOR_STATE"] = redis_server.url
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    async with bot_process(tmp_path / "a", **env) as first, bot_process(tmp_path / "b", **env) as second:
        for bot in (first, second):
            status, body = await bot.readyz()
            assert status == 200, body
            state = body["checks"]["state"]
            assert state["ok"] and state["detail"].startswith("redis, "), state
