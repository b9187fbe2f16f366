"""Socket Mode end to end: `python -m bot` with an app-level token, connected to the Slack emulator.

The bot runs as its own process, as deployed. It asks the emulator's `apps.connections.open`
for a WebSocket URL with the app token, connects, and gets Slack's envelopes over that socket
(built from the Socket Mode samples in tests/fixtures/slack); the emulator records each
acknowledgement and every Web API call the answers make.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.slack_emulator import ApiCall, SlackEmulator, fixture
from tests.slack_helpers import CHANNEL, USER, mention_body
from tests.test_ops_http import _collect, pasted_lines, served_at

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 15.0
STOP_SECONDS = 3.0
ACK_SECONDS = 1.0  # well inside the 3 s after which Slack re-delivers
ANSWER_SECONDS = 15.0
HEALTH_SECONDS = 5.0
SAMPLES = {"events_api": "socket_mode_events_api_retry.json", "slash_commands": "socket_mode_slash_commands.json"}


def envelope(kind: str, payload: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = "") -> dict[str, Any]:
    """A Socket Mode envelope of `kind` around `payload`, with a fresh envelope_id, as Slack sends it."""
    body = fixture(SAMPLES[kind])
    body.update(envelope_id=str(uuid.uuid4()), payload=payload)
    if kind == "events_api":
        body.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
    return body


def slash_payload(text: str, response_url: str) -> dict[str, Any]:
    payload = fixture(SAMPLES["slash_commands"])["payload"]
    payload.update(command="/vpn", text=text, channel_id=CHANNEL, user_id=USER, response_url=response_url)
    return payload


@dataclass
class SocketBot:
    base: str
    emulator: SlackEmulator
    http: aiohttp.ClientSession
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)

    async def health(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.base + "/healthz") as response:
            return response.status, await response.json()

    async def wait_health(self, status: int, timeout: float = HEALTH_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if (await self.health())[0] == status:
                    return
            except aiohttp.ClientConnectionError:
                if self.process.returncode is not None:
                    raise AssertionError("the bot exited:\n" + "\n".join(self.stderr)) from None
            if time.monotonic() > deadline:
                raise AssertionError(f"/healthz did not turn {status}:\n" + "\n".join(self.stderr))
            await asyncio.sleep(0.05)

    async def deliver(self, sent: dict[str, Any]) -> ApiCall:
        """Push one envelope and return its acknowledgement, checking it came in time."""
        pushed_at = await self.emulator.push(sent)
        (ack,) = await self.emulator.wait_for(
            "socket.ack", timeout=5.0, where=lambda c: c.get("envelope_id") == sent["envelope_id"]
        )
        assert ack.at - pushed_at < ACK_SECONDS, f"ack after {ack.at - pushed_at:.2f} s"
        return ack

    async def stop(self) -> int | None:
        """SIGTERM, as Kubernetes sends it; the exit code, or None if it did not end in time."""
        if self.process.returncode is None:
            self.process.terminate()
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            return None

    async def wait_log(self, fragment: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr:
                if fragment in line:
                    return json.loads(line)
            await asyncio.sleep(0.05)
        raise AssertionError(f"no log line with {fragment!r}:\n" + "\n".join(self.stderr))


@asynccontextmanager
async def socket_bot(tmp_path: Path, **env: str) -> AsyncIterator[SocketBot]:
    """The bot in Socket Mode (no signing secret at all), yielded once /healthz says it is connected."""
    emulator = SlackEmulator()
    await emulator.start()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VPN_DOCTOR_", "MERAKI_"))}
    environment.update(
        SLACK_BOT_TOKEN=emulator.token,
        SLACK_APP_TOKEN=emulator.app_token,
        SLACK_API_URL=emulator.api_url,
        PORT="0",  # the bot binds a free port and logs it: no window for another process to take it
        BIND_ADDRESS="127.0.0.1",
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
    )
    environment.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", env=environment, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    bot = SocketBot("", emulator, aiohttp.ClientSession(), process)
    reader = asyncio.create_task(_collect(process.stderr, bot.stderr))
    try:
        bot.base = await served_at(bot.stderr, process)
        await bot.wait_health(200, START_SECONDS)
        yield bot
    finally:
        if await bot.stop() is None:
            process.kill()
            await process.wait()
        await reader
        await bot.http.close()
        await emulator.stop()


def assert_no_tokens(bot: SocketBot) -> None:
    text = "\n".join(bot.stderr)
    assert text, "the bot logged nothing"
    for token in (bot.emulator.token, bot.emulator.app_token):
        assert token not in text
    assert "xapp-1-" not in text and "xoxb-emulated" not in text


def thread_replies(emulator: SlackEmulator, thread_ts: str) -> list[ApiCall]:
    return [c for c in emulator.calls_to("chat.postMessage") if c.get("thread_ts") == thread_ts]


async def test_connects_with_the_app_token_and_answers_a_mention_in_its_thread(tmp_path: Path) -> None:
    async with socket_bot(tmp_path) as bot:
        emulator = bot.emulator
        (opened,) = emulator.calls_to("apps.connections.open")
        assert opened.token == emulator.app_token
        assert len(emulator.calls_to("socket.connect")) == 1
        status, body = await bot.health()
        assert (status, body) == (200, {"status": "ok"})

        event = mention_body(pasted_lines())
        ack = await bot.deliver(envelope("events_api", event))
        assert "payload" not in ack.args  # an event is acknowledged without content

        ts = event["event"]["ts"]
        (reply,) = await emulator.wait_for(
            "chat.postMessage", timeout=ANSWER_SECONDS, where=lambda c: c.get("thread_ts") == ts
        )
        assert reply.token == emulator.token  # Web API calls use the bot token, not the app token
        assert reply["channel"] == CHANNEL
        assert reply["metadata"]["event_type"] == "vpn_diagnosis"
        assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]
        await emulator.settle()
        assert len(thread_replies(emulator, ts)) == 1

        assert await bot.stop() == 0
        assert emulator.open_sockets == []  # the bot closed its connection on the way out
    assert_no_tokens(bot)


async def test_a_redelivered_envelope_is_acknowledged_and_not_answered_twice(tmp_path: Path) -> None:
    async with socket_bot(tmp_path) as bot:
        event = mention_body(pasted_lines())
        first = envelope("events_api", event)
        await bot.deliver(first)
        retry = envelope("events_api", event, retry_attempt=1, retry_reason="timeout")
        assert retry["envelope_id"] != first["envelope_id"]
        await bot.deliver(retry)

        ts = event["event"]["ts"]
        await bot.emulator.wait_for(
            "chat.postMessage", timeout=ANSWER_SECONDS, where=lambda c: c.get("thread_ts") == ts
        )
        await bot.emulator.settle()
        assert len(thread_replies(bot.emulator, ts)) == 1
        ignored = await bot.wait_log("ignored a repeated delivery")
        assert f"event_id={event['event_id']}" in ignored["event"] and "retry=1" in ignored["event"]


async def test_vpn_status_slash_command_is_acknowledged_and_answered_from_the_demo_organisation(
    tmp_path: Path,
) -> None:
    async with socket_bot(tmp_path) as bot:
        emulator = bot.emulator
        sent = envelope("slash_commands", slash_payload("status", emulator.response_url("vpn")))
        assert sent["accepts_response_payload"] is True
        await bot.deliver(sent)

        (message,) = await emulator.wait_for("chat.postMessage", timeout=ANSWER_SECONDS)
        assert message["channel"] == CHANNEL and not message.get("thread_ts")
        text = message["text"] + json.dumps(message.get("blocks") or [], ensure_ascii=False)
        assert "5 of 7 unreachable" in text and "Demo organisation" in text
        audit = await bot.wait_log('"vpn_live_command"')
        assert (audit["source"], audit["command"], audit["outcome"]) == ("slash", "status", "answered")
        assert audit["demo"] is True


async def test_healthz_is_503_while_the_socket_is_down_and_200_after_the_reconnect(tmp_path: Path) -> None:
    async with socket_bot(tmp_path) as bot:
        emulator = bot.emulator
        emulator.hold_connections()
        assert await emulator.drop_sockets() == 1

        # The client asks for a new URL at once; the emulator keeps that call waiting.
        await emulator.wait_for("apps.connections.open", 2, timeout=HEALTH_SECONDS)
        await bot.wait_health(503)
        status, body = await bot.health()
        assert (status, body) == (503, {"status": "unhealthy", "failing": ["socket_mode_connected"]})

        emulator.release_connections()
        await emulator.wait_for("socket.connect", 2, timeout=HEALTH_SECONDS)
        await bot.wait_health(200)
        reopened = emulator.calls_to("apps.connections.open")[1]
        assert reopened.token == emulator.app_token

        event = mention_body(pasted_lines())
        await bot.deliver(envelope("events_api", event))  # over the new connection
        ts = event["event"]["ts"]
        await emulator.wait_for("chat.postMessage", timeout=ANSWER_SECONDS, where=lambda c: c.get("thread_ts") == ts)


async def test_no_token_in_the_log_even_at_debug_level_across_a_reconnect(tmp_path: Path) -> None:
    async with socket_bot(tmp_path, LOG_LEVEL="DEBUG") as bot:
        event = mention_body(pasted_lines())
        await bot.deliver(envelope("events_api", event))
        ts = event["event"]["ts"]
        await bot.emulator.wait_for(
            "chat.postMessage", timeout=ANSWER_SECONDS, where=lambda c: c.get("thread_ts") == ts
        )
        await bot.emulator.drop_sockets()
        await bot.emulator.wait_for("socket.connect", 2, timeout=HEALTH_SECONDS)
        await bot.wait_health(200)
    assert_no_tokens(bot)
    assert any("apps.connections.open" in line for line in bot.stderr), "the debug log shows the Web API calls"
