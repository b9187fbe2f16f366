"""Read log files and snippets attached to a Slack message.

Each file is looked up with `files.info` (event payloads may carry only a stub) and
downloaded with the bot token from its private URL. Slack answers a download without
the right scope with a 200 HTML sign-in page, so HTML is treated as a failure. The
bot token is only ever sent to Slack's own hosts or the configured API host.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.locale import human_size, ui
from knowledge.models import Lang

log = logging.getLogger(__name__)

MAX_FILES = 5
DOWNLOAD_TIMEOUT_SECONDS = 30
_BINARY_MIME = re.compile(r"^(image|video|audio|font)/|^application/(pdf|zip|gzip|x-gzip|x-tar|vnd\.)")
_UNSAFE_NAME = re.compile(r"[<>&`*]")


@dataclass
class AttachedText:
    """What the attachments gave: their text, and sentences for the user about what was skipped."""

    texts: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _display_name(info: Mapping[str, Any]) -> str:
    name = str(info.get("name") or info.get("title") or info.get("id") or "file")
    return _UNSAFE_NAME.sub("", name)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the scheme's default port filled in; None when unreadable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def token_may_go_to(url: str, api_url: str) -> bool:
    """Only Slack over HTTPS, or the origin (scheme, host, port) of SLACK_API_URL, may see the bot token.

    A host name alone is not enough: another port on the same host is another service.
    """
    origin = _origin(url)
    if origin is None:
        return False
    if origin == _origin(api_url):
        return True
    scheme, host, port = origin
    return scheme == "https" and port == 443 and (host == "slack.com" or host.endswith(".slack.com"))


def decode_log(data: bytes) -> str | None:
    """Text of a log file, or None when it is not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8-sig", errors="replace")


class FileTooLarge(Exception):
    pass


async def _download(session: aiohttp.ClientSession, url: str, token: str, limit: int) -> tuple[str, bytes]:
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_SECONDS)
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(url, headers=headers, timeout=timeout, allow_redirects=False) as response:
        if response.status != 200:
            raise aiohttp.ClientResponseError(
                response.request_info, response.history, status=response.status, message="download refused"
            )
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        data = bytearray()
        async for chunk in response.content.iter_chunked(65536):
            data += chunk
            if len(data) > limit:
                raise FileTooLarge
        return content_type, bytes(data)


async def read_attached_files(
    client: AsyncWebClient,
    session: aiohttp.ClientSession,
    files: Sequence[Mapping[str, Any]],
    *,
    token: str,
    api_url: str,
    limit: int,
    lang: Lang,
) -> AttachedText:
    result = AttachedText()
    for stub in files[:MAX_FILES]:
        file_id = stub.get("id")
        name = _display_name(stub)
        try:
            info = (await client.files_info(file=file_id))["file"]
        except SlackApiError as exc:
            log.warning("files.info failed file=%s error=%s", file_id, exc.response.get("error"))
            result.notices.append(ui("file_unreadable", lang, name=name))
            continue
        name = _display_name(info)
        size = int(info.get("size") or 0)
        if size > limit:
            result.notices.append(
                ui("file_too_large", lang, name=name, size=human_size(size), limit=human_size(limit))
            )
            continue
        mimetype = str(info.get("mimetype") or "")
        if _BINARY_MIME.match(mimetype):
            result.notices.append(ui("file_not_text", lang, name=name, kind=mimetype))
            continue
        url = str(info.get("url_private_download") or info.get("url_private") or "")
        if not token_may_go_to(url, api_url):
            log.warning("refused to send the bot token to a non-Slack host for file=%s", file_id)
            result.notices.append(ui("file_unreadable", lang, name=name))
            continue
        try:
            content_type, data = await _download(session, url, token, limit)
        except FileTooLarge:
            result.notices.append(
                ui("file_too_large", lang, name=name, size="> " + human_size(limit), limit=human_size(limit))
            )
            continue
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("download failed file=%s error=%s", file_id, type(exc).__name__)
            result.notices.append(ui("file_unreadable", lang, name=name))
            continue
        if content_type == "text/html":
            log.warning("download of file=%s returned an HTML page (is files:read granted?)", file_id)
            result.notices.append(ui("file_unreadable", lang, name=name))
            continue
        text = decode_log(data)
        if text is None:
            result.notices.append(ui("file_not_text", lang, name=name, kind=mimetype or "binary"))
            continue
        result.texts.append(text)
        result.names.append(name)
        log.info("read attached file=%s bytes=%d", file_id, len(data))
    return result
