"""The Settings model, .env.example, docs/settings.md, compose, systemd, the image and the docs agree.

A setting added to bot/settings.py and nowhere else fails here (regenerate with
`python -m bot.envdoc write`); a name in the docs or deploy files that the code does not read
fails too, and so does a Slack scope documented but not requested (or the reverse).
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from bot.envdoc import DESCRIPTIONS, ENV_EXAMPLE, SETTINGS_DOC, generated_files, setting_docs
from bot.settings import Settings
from bot.web import HEALTH_PATH, SLACK_EVENTS_PATH

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCS = ROOT / "docs"
_SETTING_NAME = re.compile(
    r"\b(?:(?:SLACK|MERAKI|VPN_DOCTOR)_[A-Z0-9_]*[A-Z0-9]|PORT|BIND_ADDRESS|LOG_LEVEL|LOG_FORMAT)\b"
)
# Names that look like settings but are something else.
NOT_SETTINGS = {"SLACK_EVENTS_PATH"}


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_generated_files_are_up_to_date() -> None:
    for path, text in generated_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} is stale: run `python -m bot.envdoc write`"
        )


def test_env_example_and_settings_doc_list_every_setting_once() -> None:
    names = setting_names()
    env_lines = [line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
                 if line and not line.startswith("#")]
    assert sorted(env_lines) == sorted(names)
    table = re.findall(r"^\| `([A-Z0-9_]+)` \|", SETTINGS_DOC.read_text(encoding="utf-8"), re.M)
    assert sorted(table) == sorted(names)


def test_every_setting_has_an_operator_sentence_and_no_stale_ones() -> None:
    docs = setting_docs()
    assert all(doc.description[0].isupper() for doc in docs)
    assert set(DESCRIPTIONS) <= set(Settings.model_fields), "DESCRIPTIONS names a setting that no longer exists"
    assert {doc.env for doc in docs if doc.secret} == {
        name.upper() for name, f in Settings.model_fields.items() if "SecretStr" in repr(f.annotation)
    }


def test_env_example_as_is_gives_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    from_file = Settings(_env_file=ENV_EXAMPLE)
    defaults = Settings(_env_file=None)
    for name in Settings.model_fields:
        got, want = getattr(from_file, name), getattr(defaults, name)
        if isinstance(got, SecretStr) or isinstance(want, SecretStr):
            assert not (got and got.get_secret_value()) and not (want and want.get_secret_value()), name
        elif want is None:
            assert got in (None, ""), name  # a blank line means unset
        else:
            assert got == want, name
    assert from_file.mode == "shell" and from_file.demo


def test_env_example_is_a_valid_systemd_environment_file() -> None:
    """Plain KEY=value lines: no quotes, no spaces, no `export` (systemd and docker --env-file read it)."""
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\s\"']*", line), line


def _mentioned(path: Path) -> set[str]:
    return set(_SETTING_NAME.findall(path.read_text(encoding="utf-8"))) - NOT_SETTINGS


@pytest.mark.parametrize(
    "path",
    [
        *sorted(DOCS.glob("*.md")),
        DEPLOY / "compose.yaml",
        DEPLOY / "vpn-doctor.service",
        DEPLOY / "Dockerfile",
        *sorted((DEPLOY / "helm" / "vpn-doctor").rglob("*.*")),
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_docs_and_deploy_files_name_only_real_settings(path: Path) -> None:
    unknown = _mentioned(path) - setting_names()
    assert not unknown, f"{path.relative_to(ROOT)} names settings the code does not read: {sorted(unknown)}"


def test_compose_runs_the_bot_with_its_port_state_volume_and_optional_redis() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    bot, redis = compose["services"]["bot"], compose["services"]["redis"]
    assert (ROOT / bot["build"]["dockerfile"]).exists() and bot["build"]["context"] == ".."
    assert bot["env_file"] == ".env"
    assert set(bot["environment"]) <= setting_names()
    assert bot["environment"]["BIND_ADDRESS"] == "0.0.0.0"
    assert any(str(p).endswith(":" + str(bot["environment"]["PORT"])) for p in bot["ports"])
    assert "state:/data" in bot["volumes"] and "state" in compose["volumes"]
    assert bot["read_only"] is True and bot["cap_drop"] == ["ALL"]
    assert redis["profiles"] == ["redis"] and "redis-cli" in redis["healthcheck"]["test"]


def test_image_is_non_root_with_a_health_check_and_a_state_directory() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    final = dockerfile.split("\nFROM ")[-1]
    assert re.search(r"^USER 10001$", final, re.M)
    assert re.search(r"^WORKDIR /data$", final, re.M) and "chown 10001:10001 /data" in final
    assert "HEALTHCHECK" in final and HEALTH_PATH in final
    assert 'CMD ["vpn-doctor", "serve"]' in final


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((DEPLOY / "vpn-doctor.service").read_text(encoding="utf-8"))
    return unit


def test_systemd_unit_runs_unprivileged_restarts_and_is_sandboxed() -> None:
    service = _unit()["Service"]
    assert service["User"] not in ("root", "0") and service["ExecStart"].endswith("vpn-doctor serve")
    assert service["EnvironmentFile"].startswith("/etc/vpn-doctor/")
    assert service["Restart"] == "on-failure"
    assert service["WorkingDirectory"] == "/var/lib/" + service["StateDirectory"]
    for option, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[option] == value, option
    assert "StartLimitBurst" in _unit()["Unit"]
    docs = (DOCS / "deploy.md").read_text(encoding="utf-8")
    assert service["EnvironmentFile"] in docs


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    unit = tmp_path / "vpn-doctor.service"
    unit.write_text((DEPLOY / "vpn-doctor.service").read_text(encoding="utf-8"), encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "/opt/vpn-doctor/bin/vpn-doctor" not in line  # not installed on this machine
    ]
    assert not problems, problems


def test_manifests_match_the_http_routes_and_the_documented_scopes() -> None:
    socket_mode = yaml.safe_load((DEPLOY / "slack-manifest.yaml").read_text(encoding="utf-8"))
    http = yaml.safe_load((DEPLOY / "slack-manifest-http.yaml").read_text(encoding="utf-8"))
    assert socket_mode["settings"]["socket_mode_enabled"] is True
    assert http["settings"]["socket_mode_enabled"] is False
    urls = [
        http["settings"]["event_subscriptions"]["request_url"],
        http["settings"]["interactivity"]["request_url"],
        *(command["url"] for command in http["features"]["slash_commands"]),
    ]
    assert all(url.endswith(SLACK_EVENTS_PATH) for url in urls)
    guide = (DOCS / "slack-app.md").read_text(encoding="utf-8")
    scopes_line = re.search(r"Scopes requested \(bot token\): (.+?)\. Events: (.+?)\.\n", guide, re.S)
    assert scopes_line, "docs/slack-app.md lost its scopes sentence"
    documented_scopes = set(re.findall(r"`([a-z_:.]+)`", scopes_line.group(1)))
    documented_events = set(re.findall(r"`([a-z_:.]+)`", scopes_line.group(2)))
    for manifest in (socket_mode, http):
        assert set(manifest["oauth_config"]["scopes"]["bot"]) == documented_scopes
        assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == documented_events


def test_relative_links_in_the_docs_and_readme_resolve() -> None:
    pages = [ROOT / "README.md", *DOCS.glob("*.md")]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to missing {target}"
    anchors = re.findall(r"\]\(([a-z-]+\.md)#([^)]+)\)", "\n".join(p.read_text(encoding="utf-8") for p in pages))
    for name, anchor in anchors:
        headings = re.findall(r"^#+ (.+)$", (DOCS / name).read_text(encoding="utf-8"), re.M)
        slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
        assert anchor in slugs, f"{name}#{anchor} has no such heading"
