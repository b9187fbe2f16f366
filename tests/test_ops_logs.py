"""bot.logs: JSON lines with the request's fields, secrets masked wherever they appear."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from bot.logs import (
    JsonFormatter,
    Masker,
    RedactTokens,
    TextFormatter,
    bind_request,
    configure_logging,
    current_correlation_id,
    request_context,
    secret_values,
    unbind_request,
)
from bot.settings import Settings

SECRET = "meraki-key-0123456789abcdef"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A JSON handler on a logger of our own, so pytest's capture and other tests are untouched."""
    out = io.StringIO()
    masker = Masker([SECRET, None, "short"])
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter(masker))
    handler.addFilter(RedactTokens(masker))
    logger = logging.getLogger("tests.ops.logs")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield out
    logger.handlers[:] = []
    logger.propagate = True


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_record_is_one_json_object_with_the_request_fields(stream: io.StringIO) -> None:
    log = logging.getLogger("tests.ops.logs")
    log.info("outside any request")
    token = bind_request("abc123", "T1", "C9")
    try:
        log.warning("inside %s", "one")
        assert current_correlation_id() == "abc123"
    finally:
        unbind_request(token)
    first, second = lines(stream)
    assert set(first) == {"time", "level", "logger", "event"}
    assert first["event"] == "outside any request"
    assert str(first["time"]).endswith("Z")
    assert second == {
        "time": second["time"],
        "level": "WARNING",
        "logger": "tests.ops.logs",
        "event": "inside one",
        "correlation_id": "abc123",
        "team": "T1",
        "channel": "C9",
    }
    assert current_correlation_id() is None


def test_secrets_are_masked_in_messages_and_tracebacks(stream: io.StringIO) -> None:
    log = logging.getLogger("tests.ops.logs")
    log.info("calling with %s and xoxb-1234-5678-abcdef and xapp-1-A1-xyz", SECRET)
    try:
        raise RuntimeError(f"request failed: key={SECRET}")
    except RuntimeError:
        log.exception("boom")
    text = stream.getvalue()
    assert SECRET not in text and "xoxb-1234" not in text and "xapp-1-A1" not in text
    first, second = lines(stream)
    assert first["event"] == "calling with *** and xoxb-*** and xapp-***"
    assert "RuntimeError: request failed: key=***" in str(second["exc"])
    # Values too short to be secrets are left alone rather than blanking ordinary words.
    log.info("a short word")
    assert lines(stream)[-1]["event"] == "a short word"


def test_a_json_message_is_merged_not_nested(stream: io.StringIO) -> None:
    log = logging.getLogger("tests.ops.logs")
    log.info(json.dumps({"event": "vpn_live_command", "user": "U1", "level": "forged"}))
    (entry,) = lines(stream)
    assert entry["event"] == "vpn_live_command" and entry["user"] == "U1"
    assert entry["level"] == "INFO"  # the record's own fields win


async def test_bolt_middleware_binds_a_fresh_id_per_request_and_tasks_inherit_it() -> None:
    seen: list[str | None] = []
    response = object()

    async def listener() -> None:
        seen.append(current_correlation_id())

    async def next_middleware() -> None:
        return None

    async def one_request() -> None:
        """What Bolt does in the task handling one request: global middleware, then the listener task."""
        assert await request_context(SimpleNamespace(team_id="T1", channel_id="C1"), response, next_middleware) is (
            response
        )
        await asyncio.create_task(listener())
        seen.append(current_correlation_id())

    await asyncio.create_task(one_request())
    await asyncio.create_task(one_request())
    assert None not in seen and seen[0] == seen[1] and seen[2] == seen[3] and seen[0] != seen[2]
    assert current_correlation_id() is None  # nothing leaks out of the request's task


def test_configure_logging_installs_one_masked_handler_on_the_root() -> None:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        configure_logging("warning", "json", secrets=[SECRET])
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter) and root.level == logging.WARNING
        configure_logging("INFO", "text")
        assert isinstance(root.handlers[0].formatter, TextFormatter)
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def test_every_secret_setting_is_handed_to_the_masker() -> None:
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-a-b-c", slack_signing_secret="signing-0123", meraki_api_key=SECRET
    )
    assert sorted(secret_values(settings)) == sorted(["xoxb-a-b-c", "signing-0123", SECRET])
