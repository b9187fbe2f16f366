"""A local Slack Web API for tests and benchmarks: an aiohttp server on 127.0.0.1.

It records every call (method, verb, arguments, token, arrival time) and answers in
the shapes Slack uses: `{"ok": true, ...}` or `{"ok": false, "error": ...}`, HTTP 429
with an integer `Retry-After`, file downloads that return an HTML sign-in page
without the bearer token, and the three steps of `files.uploadV2`. It is as strict
as Slack where our code could go wrong: wrong token, more than 50 blocks, section
text over 3,000 characters, too much block text, posting where the bot is not a member.

It also speaks Socket Mode: `apps.connections.open` (app-level token only) hands out a
single-use `ws://…/link/?ticket=…` URL; the WebSocket there greets with `hello`, answers
pings, carries the envelopes a test pushes and records each acknowledgement the app
sends back as a `socket.ack` call (connections as `socket.connect`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

FIXTURES = Path(__file__).parent / "fixtures" / "slack"
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_BLOCK_TEXT_TOTAL = 13_000
SIGN_IN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ApiCall:
    method: str
    verb: str
    args: dict[str, Any]
    token: str | None
    at: float

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


@dataclass
class StoredFile:
    id: str
    name: str
    content: bytes
    mimetype: str = "text/plain"
    filetype: str = "text"
    mode: str = "hosted"
    declared_size: int | None = None
    url_base: str | None = None


@dataclass
class Scripted:
    error: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class SlackEmulator:
    def __init__(
        self,
        *,
        token: str = "xoxb-emulated-bot-token",
        bot_user_id: str = "W111",
        bot_id: str = "B111",
        team_id: str = "T111",
        app_token: str = "xapp-1-A111-1111-emulatedapptoken",
        app_id: str = "A111",
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.calls: list[ApiCall] = []
        self.files: dict[str, StoredFile] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.user_locales: dict[str, str] = {}
        self.not_member_of: set[str] = set()
        self.files_read_granted = True
        self.webhook_posts: list[dict[str, Any]] = []
        self.reactions: dict[tuple[str, str], set[str]] = {}
        self._scripted: dict[str, list[Scripted]] = {}
        self._slow: dict[str, tuple[float, Callable[[dict[str, Any]], bool]]] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.sockets: list[web.WebSocketResponse] = []
        self._tickets: set[str] = set()
        self._connections_open = asyncio.Event()
        self._connections_open.set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/files-pri/{team_file}/{kind}/{name}", self._download)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        app.router.add_post("/upload/v1/{upload_id}", self._upload)
        app.router.add_post("/webhook/{hook}", self._webhook)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.api_url

    async def stop(self) -> None:
        self._connections_open.set()
        await self.drop_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, hook: str = "shortcut") -> str:
        return f"{self.base_url}/webhook/{hook}"

    # -- test set-up -----------------------------------------------------------------------------

    def add_file(
        self,
        name: str,
        content: bytes | str,
        *,
        mimetype: str = "text/plain",
        filetype: str = "text",
        mode: str = "hosted",
        declared_size: int | None = None,
        url_base: str | None = None,
    ) -> dict[str, Any]:
        """Store a file and return the stub an event carries for it (shape of file_share_message.json).

        `url_base` points its download URLs at another server, as a forged or odd file object would.
        """
        data = content.encode() if isinstance(content, str) else content
        file_id = f"F{next(self._ids):08d}"
        self.files[file_id] = StoredFile(file_id, name, data, mimetype, filetype, mode, declared_size, url_base)
        return self._file_object(self.files[file_id])

    def set_locale(self, user_id: str, locale: str) -> None:
        self.user_locales[user_id] = locale

    def fail_next(self, method: str, error: str, *, status: int = 200, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._scripted.setdefault(method, []).append(Scripted(error, status, headers))

    def slow_down(
        self, method: str, seconds: float, *, where: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> None:
        """Answer matching calls only after `seconds` (recorded on arrival, carried out after the wait)."""
        self._slow[method] = (seconds, where)

    # -- assertions ------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,
        where: Callable[[ApiCall], bool] = lambda _: True,
    ) -> list[ApiCall]:
        """Poll until `count` matching calls arrived; Bolt answers Slack before the listener finishes."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_to(method) if where(c)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} {method} call(s), got {len(found)}; calls: {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.25))

    async def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no call has arrived for `quiet` seconds (to prove nothing more is coming)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = len(self.calls)
            await asyncio.sleep(quiet)
            if len(self.calls) == before:
                return

    # -- HTTP handlers ---------------------------------------------------------------------------

    async def _arguments(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                args.update(await request.json())
            elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        return args

    def _record(self, method: str, verb: str, args: dict[str, Any], token: str | None) -> None:
        self.calls.append(ApiCall(method, verb, args, token, time.perf_counter()))
        self._changed.set()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._arguments(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        self._record(method, request.method, args, token)
        if token is None:
            return self._error("not_authed")
        expected = self.app_token if method in APP_TOKEN_METHODS else self.token
        if token != expected:
            return self._error("not_allowed_token_type" if token in (self.token, self.app_token) else "invalid_auth")
        if method in APP_TOKEN_METHODS:
            await self._connections_open.wait()
        slow = self._slow.get(method)
        if slow is not None and slow[1](args):
            await asyncio.sleep(slow[0])
        scripted = self._scripted.get(method)
        if scripted:
            failure = scripted.pop(0)
            return self._error(failure.error, status=failure.status, headers=failure.headers)
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._error("unknown_method")
        result = handler(args)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, **result})

    @staticmethod
    def _error(error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({"ok": False, "error": error}, status=status, headers=headers)

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _file_object(self, stored: StoredFile) -> dict[str, Any]:
        base = f"{stored.url_base or self.base_url}/files-pri/{self.team_id}-{stored.id}"
        size = stored.declared_size if stored.declared_size is not None else len(stored.content)
        return {
            "id": stored.id,
            "created": 1652227642,
            "timestamp": 1652227642,
            "name": stored.name,
            "title": stored.name,
            "mimetype": stored.mimetype,
            "filetype": stored.filetype,
            "pretty_type": stored.filetype.upper(),
            "user": "U111",
            "editable": stored.mode == "snippet",
            "size": size,
            "mode": stored.mode,
            "is_external": False,
            "external_type": "",
            "is_public": True,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/{stored.name}",
            "url_private_download": f"{base}/download/{stored.name}",
            "permalink": f"https://example.slack.com/files/U111/{stored.id}/{stored.name}",
            "has_rich_preview": False,
        }

    # -- Web API methods -------------------------------------------------------------------------

    def _m_auth_test(self, args: dict[str, Any]) -> web.Response:
        body = fixture("web_api_auth_test_bot_response.json")
        body.update(user_id=self.bot_user_id, bot_id=self.bot_id, team_id=self.team_id)
        scopes = "app_mentions:read,chat:write,commands,files:read,files:write,im:history,reactions:write,users:read"
        return web.json_response(body, headers={"x-oauth-scopes": scopes})

    def _check_blocks(self, blocks: Any) -> str | None:
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not blocks:
            return None
        if len(blocks) > MAX_BLOCKS:
            return "invalid_blocks"
        total = 0
        for block in blocks:
            text = (block.get("text") or {}).get("text", "")
            if block.get("type") == "section" and len(text) > MAX_SECTION_TEXT:
                return "invalid_blocks"
            if block.get("type") == "header" and len(text) > 150:
                return "invalid_blocks"
            total += len(text) + sum(len(e.get("text", "")) for e in block.get("elements", ()))
        return "msg_blocks_too_long" if total > MAX_BLOCK_TEXT_TOTAL else None

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel = args.get("channel")
        if not channel:
            return self._error("channel_not_found")
        if channel in self.not_member_of:
            return self._error("not_in_channel")
        if not args.get("text") and not args.get("blocks"):
            return self._error("no_text")
        problem = self._check_blocks(args.get("blocks"))
        if problem:
            return self._error(problem)
        ts = self._next_ts()
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": args.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": ts,
            "team": self.team_id,
        }
        for key in ("blocks", "thread_ts", "metadata"):
            if args.get(key):
                message[key] = args[key]
        return {"channel": channel, "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any] | web.Response:
        if not args.get("channel") or not args.get("user"):
            return self._error("channel_not_found" if not args.get("channel") else "user_not_in_channel")
        if args.get("channel") in self.not_member_of:
            return self._error("not_in_channel")
        return {"message_ts": self._next_ts()}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any] | web.Response:
        problem = self._check_blocks(args.get("blocks"))
        if problem:
            return self._error(problem)
        return {"channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text", "")}

    def _m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any] | web.Response:
        key = (str(args.get("channel")), str(args.get("timestamp")))
        names = self.reactions.setdefault(key, set())
        if args.get("name") in names:
            return self._error("already_reacted")
        names.add(str(args.get("name")))
        return {}

    def _m_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any] | web.Response:
        names = self.reactions.get((str(args.get("channel")), str(args.get("timestamp"))), set())
        if args.get("name") not in names:
            return self._error("no_reaction")
        names.discard(str(args.get("name")))
        return {}

    def _m_files_info(self, args: dict[str, Any]) -> dict[str, Any] | web.Response:
        stored = self.files.get(str(args.get("file")))
        if stored is None:
            return self._error("file_not_found")
        return {"file": self._file_object(stored), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user"))
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": user_id.lower(),
            "deleted": False,
            "real_name": f"User {user_id}",
            "tz": "Asia/Tokyo" if self.user_locales.get(user_id, "").startswith("ja") else "America/Los_Angeles",
            "is_bot": False,
        }
        if str(args.get("include_locale")).lower() in ("1", "true"):
            user["locale"] = self.user_locales.get(user_id, "en-US")
        return {"user": user}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):08d}"
        self.uploads[file_id] = {"filename": args.get("filename"), "length": int(args.get("length", 0))}
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any] | web.Response:
        files = json.loads(args.get("files", "[]"))
        shared = []
        for item in files:
            upload = self.uploads.get(item.get("id"))
            if upload is None or "content" not in upload:
                return self._error("invalid_file_id")
            upload.update(title=item.get("title"), channel=args.get("channel_id"), thread_ts=args.get("thread_ts"))
            shared.append({"id": item["id"], "title": item.get("title"), "name": upload["filename"]})
        return {"files": shared}

    # -- non-API endpoints -----------------------------------------------------------------------

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["team_file"].split("-", 1)[-1]
        auth = request.headers.get("Authorization", "")
        self._record("file.download", "GET", {"file": file_id}, auth.removeprefix("Bearer ") or None)
        stored = self.files.get(file_id)
        if auth != f"Bearer {self.token}" or stored is None or not self.files_read_granted:
            return web.Response(body=SIGN_IN_PAGE, content_type="text/html")
        return web.Response(body=stored.content, content_type=stored.mimetype)

    async def _upload(self, request: web.Request) -> web.Response:
        upload_id = request.match_info["upload_id"]
        data = await request.read()
        self._record("file.upload", "POST", {"file": upload_id, "bytes": len(data)}, None)
        upload = self.uploads.get(upload_id)
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        upload["content"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.webhook_posts.append(body)
        self._record("response_url", "POST", body, None)
        return web.Response(text="ok")

    # -- Socket Mode -----------------------------------------------------------------------------

    @property
    def open_sockets(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self.sockets if not ws.closed]

    async def push(self, envelope: dict[str, Any]) -> float:
        """Send an envelope over the newest open connection, as Slack does; returns when it left."""
        live = self.open_sockets
        if not live:
            raise AssertionError("no Socket Mode connection is open")
        await live[-1].send_json(envelope)
        return time.perf_counter()

    async def drop_sockets(self) -> int:
        """Close every open connection from the server side (a Slack-side restart, say)."""
        live = self.open_sockets
        for ws in live:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server going away")
        return len(live)

    def hold_connections(self) -> None:
        """Keep `apps.connections.open` waiting (recorded, not answered) until `release_connections`."""
        self._connections_open.clear()

    def release_connections(self) -> None:
        self._connections_open.set()

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        ticket = str(uuid.uuid4())
        self._tickets.add(ticket)
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return {"url": f"{ws_base}/link/?ticket={ticket}&app_id={self.app_id}"}

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:  # each URL from apps.connections.open works once
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)  # pings from the client get their pong
        await ws.prepare(request)
        self.sockets.append(ws)
        self._record("socket.connect", "GET", {"ticket": ticket}, None)
        await ws.send_json({
            "type": "hello",
            "num_connections": len(self.open_sockets),
            "debug_info": {"host": "applink-emulated", "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        })
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            with contextlib.suppress(ValueError):
                body = json.loads(message.data)
                if isinstance(body, dict) and "envelope_id" in body:
                    self._record("socket.ack", "WS", body, None)
        return ws
