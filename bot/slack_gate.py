"""The gate in front of the Slack endpoint: only a signed, well-formed request reaches Bolt.

Bolt's own check raises on a time stamp that is not a number, and its error handler then
treats the unverified body as an event; so the signature is checked here first, where a
failure can only mean 401, and a body that Bolt could not read is refused with 400.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import parse_qs

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
MAX_AGE_SECONDS = 300  # Slack's own advice: refuse requests signed more than five minutes away


class Rejected(Exception):
    """Why a request may not reach the app, and the HTTP status that says so."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def check_signature(secret: bytes, body: bytes, headers: Any, *, now: float | None = None) -> None:
    """Raise Rejected(401) unless the request carries a current, valid Slack signature.

    The HMAC is taken over the raw bytes, so a body that is not UTF-8 is judged like any other.
    """
    timestamp = str(headers.get("X-Slack-Request-Timestamp") or "")
    signature = str(headers.get("X-Slack-Signature") or "")
    if not _TIMESTAMP.fullmatch(timestamp) or not signature.startswith("v0="):
        raise Rejected(401, "missing or malformed signature headers")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        raise Rejected(401, "stale signature")
    expected = "v0=" + hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Rejected(401, "invalid signature")


def check_body(body: bytes, content_type: str) -> None:
    """Raise Rejected(400) for a signed body Bolt could not read as Slack sends it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None
    if "json" in content_type.lower() or text.lstrip().startswith(("{", "[")):
        _json_object(text)
        return
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form:
        _json_object(form["payload"][0])


def _json_object(text: str) -> None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the interpreter allows
        raise Rejected(400, "malformed JSON") from None
    if not isinstance(value, dict):
        raise Rejected(400, "JSON body is not an object")
