"""The `vpn-doctor` command: diagnose a log, check a peer definition, list the catalog, serve the bot.

Exit codes: 0 when the input was analysed (whatever it found), 2 on a usage error or an
input that cannot be read, with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from knowledge.library import fill
from knowledge.models import Diagnosis, Lang
from knowledge.schema import placeholders

FORMATS = ("text", "json", "markdown")
LANGS = ("en", "ja")


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def _fail(message: str) -> NoReturn:
    raise UsageError(message)


class _Parser(argparse.ArgumentParser):
    """Reports usage errors as one line (argparse prints the usage block too)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _render(diagnosis: Diagnosis, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(diagnosis.model_dump(mode="json"), ensure_ascii=False, indent=2)
    if fmt == "markdown":
        from bot.render.markdown import diagnosis_markdown

        return diagnosis_markdown(diagnosis)
    from bot.render.text import diagnosis_text

    return diagnosis_text(diagnosis)


def _cmd_diagnose(args: argparse.Namespace) -> int:
    from knowledge import diagnose_stream

    source = args.file
    if source in (None, "-"):
        diagnosis = diagnose_stream(sys.stdin.buffer, args.lang)
    else:
        path = Path(source)
        if path.is_dir():
            _fail(f"{source} is a directory, not a log file")
        try:
            with path.open("rb") as stream:
                diagnosis = diagnose_stream(stream, args.lang)
        except OSError as exc:
            _fail(f"cannot read {source}: {exc.strerror or exc}")
    print(_render(diagnosis, args.format))
    return 0


def _load_peer(path_text: str, name: str | None) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path_text).read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read {path_text}: {exc.strerror or exc}")
    except (UnicodeDecodeError, ValueError) as exc:
        _fail(f"{path_text} is not valid JSON: {exc}")
    peers = doc.get("peers") if isinstance(doc, dict) and "peers" in doc else doc
    if isinstance(peers, dict):
        peers = [peers]
    if not isinstance(peers, list) or not all(isinstance(p, dict) for p in peers) or not peers:
        _fail(f"{path_text} holds no peer object (expected a peer, a list of peers or {{\"peers\": [...]}})")
    if name:
        wanted = [p for p in peers if name.lower() in (str(p.get("name", "")).lower(), p.get("publicIp"))]
        if not wanted:
            _fail(f"no peer named {name!r} in {path_text}")
        return _dashboard_peer(wanted[0], path_text)
    if len(peers) > 1:
        names = ", ".join(str(p.get("name", "?")) for p in peers[:10])
        _fail(f"{path_text} holds {len(peers)} peers ({names}); choose one with --name")
    return _dashboard_peer(peers[0], path_text)


# What makes an object a Dashboard third-party VPN peer: a name and the address the MX dials.
PEER_FIELDS = (("name",), ("publicIp", "publicHostname"))


def _dashboard_peer(peer: dict[str, Any], path_text: str) -> dict[str, Any]:
    missing = [" or ".join(names) for names in PEER_FIELDS if not any(peer.get(n) for n in names)]
    if missing:
        _fail(f"{path_text} is not a Dashboard VPN peer: it has no {' and no '.join(missing)}")
    return peer


def _cmd_check_peer(args: argparse.Namespace) -> int:
    from knowledge import check_peer

    peer = _load_peer(args.peer_json, args.name)
    if args.firmware is not None:
        from knowledge.firmware import parse_firmware

        if parse_firmware(args.firmware) is None:
            _fail(f"cannot read the firmware version {args.firmware!r} (expected e.g. 'MX 18.107.4' or 'wired-18-107')")
    try:
        diagnosis = check_peer(peer, firmware=args.firmware, remote=args.remote, lang=args.lang)
    except ValueError as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else "invalid peer or remote parameters")
    print(_render(diagnosis, args.format))
    return 0


def generic_title(title: str) -> str:
    """A title as the catalog lists it: the facts a diagnosis fills in are not known here."""
    filled = fill(title, {name: "…" for name in placeholders(title)})
    return filled.removesuffix(": …").removesuffix("：…")


def _cmd_catalog(args: argparse.Namespace) -> int:
    from knowledge.library import load_catalog

    catalog = load_catalog()
    lang: Lang = args.lang
    rows = []
    for entry in sorted(catalog.findings.values(), key=lambda e: e.id):
        text = getattr(entry, lang)
        rows.append({"id": entry.id, "severity": entry.severity.value, "phase": entry.phase,
                     "basis": entry.basis.value, "title": generic_title(text.title)})
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        phase = f"P{r['phase']}" if r["phase"] else "--"
        print(f"{r['id']:<{width}}  {r['severity']:<7}  {phase}  {r['title']}")
    return 0


def _cmd_webhooks(args: argparse.Namespace) -> int:
    """Plan (list) or apply the webhook receiver and VPN alert routing on every MX network."""
    from bot.dashboard.client import DashboardClient
    from bot.dashboard.errors import DashboardError
    from bot.dashboard.webhooks import apply, plan
    from bot.settings import Settings

    settings = Settings()
    if settings.demo:
        _fail("webhooks needs MERAKI_API_KEY (the demo organisation has no webhooks to set up)")
    if not args.url.startswith("https://"):
        _fail("the Dashboard posts only to https:// URLs with a CA-signed certificate (see docs/meraki.md)")
    secret = settings.reveal(settings.meraki_webhook_secret)
    if args.action == "apply" and not secret:
        _fail("set MERAKI_WEBHOOK_SECRET first: the receiver is created with it and the bot checks it")

    async def run() -> int:
        async with DashboardClient.from_settings(settings) as client:
            plans = await plan(client, args.url)
            for found in plans:
                todo = ", ".join(found.actions) or "ready"
                print(f"{found.network.name} ({found.network.id}): {todo}")
            pending = sum(len(found.actions) for found in plans)
            print(f"{len(plans)} MX network(s), {pending} change(s) to make")
            if args.action == "plan" or not pending:
                return 0
            if not args.yes:
                if not sys.stdin.isatty():
                    _fail("not applied: pass --yes to apply without a question")
                if input(f"Apply {pending} change(s) with this API key? [y/N] ").strip().lower() not in ("y", "yes"):
                    print("Nothing changed.")
                    return 1
            made = await apply(client, args.url, secret or "", plans)
            print(f"{made} change(s) made.")
            return 0

    try:
        return asyncio.run(run())
    except DashboardError as exc:
        if exc.status == 403 and args.action == "apply":
            _fail(f"the Dashboard refused the change (403, {exc.path}): apply needs an API key with write access")
        _fail(exc.sentence("en") + (f" ({exc.path})" if exc.path else ""))


def _cmd_serve(_args: argparse.Namespace) -> int:
    from bot.runner import run_serve

    return run_serve()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="vpn-doctor",
        description="Why is a Meraki MX site-to-site VPN to a non-Meraki peer failing, and what to change.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("diagnose", help="diagnose MX event log, syslog, Dashboard API JSON or peer logs")
    p.add_argument("file", nargs="?", help="log file, or - (default) for standard input")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--lang", choices=LANGS, default="en")
    p.set_defaults(func=_cmd_diagnose)

    p = sub.add_parser("check-peer", help="check a non-Meraki peer definition from the Dashboard API")
    p.add_argument("peer_json", metavar="PEER.json")
    p.add_argument("--firmware", help='MX firmware, e.g. "MX 18.107.4" or "wired-18-107"')
    p.add_argument("--remote", help='remote side, e.g. "ike=aes256-sha256-modp2048 esp=aes256-sha256 ikev2"')
    p.add_argument("--name", help="which peer, when the file holds several")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--lang", choices=LANGS, default="en")
    p.set_defaults(func=_cmd_check_peer)

    p = sub.add_parser("catalog", help="list every finding the doctor knows")
    p.add_argument("--lang", choices=LANGS, default="en")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_cmd_catalog)

    p = sub.add_parser("webhooks", help="list (plan) or create (apply) the webhook receiver and VPN alert routing")
    p.add_argument("action", choices=("plan", "apply"))
    p.add_argument("--url", required=True, help="the bot's public https URL, ending in /meraki/webhook")
    p.add_argument("--yes", action="store_true", help="apply without asking")
    p.set_defaults(func=_cmd_webhooks)

    p = sub.add_parser("serve", help="run the Slack bot (or the local shell when no Slack tokens are set)")
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except UsageError as exc:
        print(f"vpn-doctor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; stop quietly like other command-line tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
