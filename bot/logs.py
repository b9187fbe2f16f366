"""Logging set-up: one JSON object per line on stderr (or one text line), secrets masked.

Each record carries time, level, logger and event (the message), plus the correlation id,
team and channel of the Slack request being handled: a Bolt middleware (`request_context`)
binds them in a context variable, which the listener tasks Bolt starts inherit.

Our own modules never log tokens or pasted text; masking is the second line of defence for
third-party messages and tracebacks (an exception text that quotes a request, say): the
configured secret values and anything shaped like a Slack token become `***`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

LogFormat = Literal["json", "text"]

_TOKEN = re.compile(r"\b(xox[abposer]|xapp)-[A-Za-z0-9-]+")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
# Shorter values are not masked: they would blank out ordinary words in every line.
MIN_SECRET_CHARS = 6

_request: ContextVar[dict[str, str] | None] = ContextVar("vpn_doctor_log_request", default=None)


class Masker:
    """Replaces Slack-token-shaped strings and the configured secret values in a text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        values = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)
        self._secrets = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def __call__(self, text: str) -> str:
        text = _TOKEN.sub(lambda m: m.group(1) + "-" + MASK, text)
        if self._secrets is not None:
            text = self._secrets.sub(MASK, text)
        return text


class RedactTokens(logging.Filter):
    """Masks the message of every record that passes (arguments merged first)."""

    def __init__(self, masker: Masker | None = None) -> None:
        super().__init__()
        self.mask = masker or Masker()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def secret_values(settings: BaseModel) -> list[str]:
    """The value of every `SecretStr` setting, for the masker."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:12]


def bind_request(correlation_id: str, team: str | None = None, channel: str | None = None) -> object:
    """Attach request fields to every record logged from here (and from tasks started here)."""
    fields = {"correlation_id": correlation_id}
    if team:
        fields["team"] = team
    if channel:
        fields["channel"] = channel
    return _request.set(fields)


def unbind_request(token: object) -> None:
    _request.reset(token)  # type: ignore[arg-type]


def current_correlation_id() -> str | None:
    fields = _request.get()
    return fields.get("correlation_id") if fields else None


async def request_context(context: Any, resp: Any, next: Callable[[], Awaitable[None]]) -> Any:
    """Bolt middleware: a fresh correlation id, the team and the channel for the request's records.

    Bolt runs its global middleware one after the other and then the listeners, all in the
    task that handles the request; the fields bound here last for the rest of that task and
    for the listener tasks it starts, and go away with it.
    """
    bind_request(new_correlation_id(), context.team_id, context.channel_id)
    await next()
    return resp


class JsonFormatter(logging.Formatter):
    """One JSON object per record; a message that is itself a JSON object is merged in, not nested."""

    def __init__(self, masker: Masker | None = None) -> None:
        super().__init__()
        self.mask = masker or Masker()

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
        }
        message = record.getMessage()
        merged = _json_object(message)
        if merged is None:
            entry["event"] = message
        else:
            for key, value in merged.items():
                entry.setdefault(key, value)
            entry.setdefault("event", record.name)
        for key, value in (_request.get() or {}).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _json_object(message: str) -> dict[str, Any] | None:
    if not message.startswith("{"):
        return None
    try:
        value = json.loads(message)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class TextFormatter(logging.Formatter):
    def __init__(self, masker: Masker | None = None) -> None:
        super().__init__(FORMAT)
        self.mask = masker or Masker()

    def formatException(self, ei: Any) -> str:
        return self.mask(super().formatException(ei))


def configure_logging(level: str = "INFO", fmt: LogFormat = "text", secrets: Iterable[str | None] = ()) -> None:
    """Route every record to stderr through the masking filter, as JSON lines or text lines."""
    masker = Masker(secrets)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(masker) if fmt == "json" else TextFormatter(masker))
    handler.addFilter(RedactTokens(masker))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
