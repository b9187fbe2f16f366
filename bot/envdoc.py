"""Every setting, documented from the one Settings model: `deploy/.env.example` and `docs/settings.md`.

Both files are generated so they cannot drift from the code: `python -m bot.envdoc write`
rewrites them, and a test fails when either differs from what the model says. A field's
sentence comes from DESCRIPTIONS below, else from its `Field(description=...)`; a field
with neither makes generation fail, so a new setting cannot ship undocumented.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
SETTINGS_DOC = ROOT / "docs" / "settings.md"

# Operator-facing sentences; they win over a field's own (often terse) description.
DESCRIPTIONS: dict[str, str] = {
    "slack_bot_token": "Bot token (xoxb-…) from the app's OAuth page; without it `serve` opens the local shell",
    "slack_app_token": "App-level token (xapp-…, scope connections:write); set it for Socket Mode",
    "slack_signing_secret": "Signing secret from the app's Basic Information page; HTTP mode verifies every request",
    "slack_api_url": "Slack Web API base URL (a proxy or a test server)",
    "bind_address": "Address the HTTP server listens on: 127.0.0.1 behind a local proxy, 0.0.0.0 in a container",
    "port": "Port of the HTTP server (/slack/events, /healthz, /readyz, /metrics, /meraki/webhook)",
    "log_level": "DEBUG, INFO, WARNING or ERROR; pasted log text and tokens never appear at INFO",
    "meraki_api_key": "Dashboard API key (read-only admin of one organisation); unset = the bundled demo organisation",
    "meraki_org_id": "Organisation ID; optional when the API key sees exactly one organisation",
    "meraki_base_url": "Dashboard API base URL (regional hosts, e.g. https://api.meraki.cn/api/v1)",
    "vpn_doctor_lang": "Reply language when neither the message nor the user's Slack locale decides: en or ja",
    "vpn_doctor_live_channels": "Comma-separated channel IDs where live Dashboard lookups are allowed (empty = all)",
    "vpn_doctor_live_users": "Comma-separated user IDs allowed to run live Dashboard lookups (empty = all)",
    "vpn_doctor_lookup_deadline_seconds": "Longest a live lookup waits on the Dashboard (429s included); past it the "
    "answer says the Dashboard is busy and shows what was read",
    "vpn_doctor_shutdown_grace_seconds": "Seconds answers in flight get to finish after SIGTERM; those still running "
    "are then marked as not answered (keep it below the pod's terminationGracePeriodSeconds minus 5)",
    "vpn_doctor_alert_channel": "Channel ID for VPN alerts; alerts are off while it is unset",
    "vpn_doctor_poll_seconds": "Seconds between two polls of the organisation's VPN statuses",
    "vpn_doctor_state": "Alert state: sqlite:///file (one replica; relative to the working directory) "
    "or redis://host:6379/0 (several replicas share it)",
    "meraki_webhook_secret": "Shared secret of the Meraki webhook receiver (POST /meraki/webhook)",
}

# Sections in the order the files list them; a field goes to the first section whose prefix it has.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Slack", ("slack_",)),
    ("HTTP server and logs", ("port", "bind_address", "log_", "vpn_doctor_shutdown_")),
    ("Replies", ("vpn_doctor_lang", "vpn_doctor_max_file")),
    ("Meraki Dashboard (live lookups)", (
            "meraki_api_key",
            "meraki_org_id",
            "meraki_base_url",
            "vpn_doctor_meraki_",
            "vpn_doctor_lookup_",
        ),
    ),
    ("Live lookup access", ("vpn_doctor_live_",)),
    ("Alerts", ("vpn_doctor_alert_", "vpn_doctor_poll_", "vpn_doctor_state", "meraki_webhook_")),
)
OTHER_SECTION = "Other"


class UndocumentedSetting(ValueError):
    """A Settings field has no description anywhere."""


@dataclass(frozen=True)
class SettingDoc:
    name: str
    env: str
    default: str
    secret: bool
    description: str
    section: str


def _is_secret(field: FieldInfo) -> bool:
    return "SecretStr" in repr(field.annotation)


def _default_text(value: Any) -> str:
    """The default as it would be written in an env file; unset values are blank."""
    if value is None or isinstance(value, SecretStr):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _section(name: str) -> str:
    for title, prefixes in SECTIONS:
        if name.startswith(prefixes):
            return title
    return OTHER_SECTION


def setting_docs(model: type[Settings] = Settings) -> list[SettingDoc]:
    """Every field of the model, grouped by section, in declaration order within a section."""
    docs: list[SettingDoc] = []
    for name, field in model.model_fields.items():
        description = DESCRIPTIONS.get(name) or field.description
        if not description:
            raise UndocumentedSetting(f"{name.upper()} has no description: add one to bot/envdoc.py DESCRIPTIONS")
        docs.append(
            SettingDoc(
                name=name,
                env=name.upper(),
                default=_default_text(field.default),
                secret=_is_secret(field),
                description=description[0].upper() + description[1:],
                section=_section(name),
            )
        )
    order = [title for title, _ in SECTIONS] + [OTHER_SECTION]
    return sorted(docs, key=lambda d: order.index(d.section))


def env_example(docs: Sequence[SettingDoc]) -> str:
    lines = [
        "# VPN Doctor settings: every variable the service reads, with its default.",
        "# Generated by `python -m bot.envdoc write` from bot/settings.py; do not edit by hand.",
        "# Copy to .env (compose: deploy/.env; systemd: the unit's EnvironmentFile) and fill in what you need.",
        "# Mode: SLACK_BOT_TOKEN + SLACK_APP_TOKEN = Socket Mode; SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET",
        "# (no app token) = HTTP mode; no Slack token = the local shell. Lines marked (secret) hold credentials:",
        "# keep this file readable by the service account only.",
    ]
    section = None
    for doc in docs:
        if doc.section != section:
            section = doc.section
            lines += ["", f"## {section}"]
        marker = " (secret)" if doc.secret else ""
        lines.append(f"# {doc.description}{marker}")
        lines.append(f"{doc.env}={doc.default}")
    return "\n".join(lines) + "\n"


TABLE_RULE = "| --- | --- | --- | --- |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_markdown(docs: Sequence[SettingDoc]) -> str:
    lines = [
        "# Settings",
        "",
        "<!-- Generated by `python -m bot.envdoc write` from bot/settings.py; do not edit by hand. -->",
        "",
        "VPN Doctor reads its settings from the environment (and from a `.env` file in its working",
        "directory). Names are case-insensitive; blank means unset. Secrets are never logged or posted.",
        "The same list, ready to copy, is [`deploy/.env.example`](../deploy/.env.example).",
        "",
        "Which mode runs: `SLACK_BOT_TOKEN` + `SLACK_APP_TOKEN` → Socket Mode; `SLACK_BOT_TOKEN` +",
        "`SLACK_SIGNING_SECRET` without an app token → HTTP mode; no bot token → the local shell.",
    ]
    section = None
    for doc in docs:
        if doc.section != section:
            section = doc.section
            lines += ["", f"## {section}", "", "| Variable | Default | Secret | What it does |", TABLE_RULE]
        default = f"`{_cell(doc.default)}`" if doc.default else "(unset)"
        secret = "yes" if doc.secret else ""
        lines.append(f"| `{doc.env}` | {default} | {secret} | {_cell(doc.description)} |")
    return "\n".join(lines) + "\n"


def generated_files() -> dict[Path, str]:
    docs = setting_docs()
    return {ENV_EXAMPLE: env_example(docs), SETTINGS_DOC: settings_markdown(docs)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.envdoc", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("write", "env", "markdown"), help="write both files, or print one")
    args = parser.parse_args(argv)
    files = generated_files()
    if args.what == "write":
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    else:
        sys.stdout.write(files[ENV_EXAMPLE if args.what == "env" else SETTINGS_DOC])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
