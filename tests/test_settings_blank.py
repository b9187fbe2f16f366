"""A blank `NAME=` (env file, Compose or Helm value left empty) means the setting is not set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dashboard.settings import DashboardSettings
from bot.settings import Settings

DASHBOARD_NAMES = ("MERAKI_API_KEY", "MERAKI_ORG_ID", "MERAKI_BASE_URL", "VPN_DOCTOR_MERAKI_RPS")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*DASHBOARD_NAMES, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("settings_class", [DashboardSettings, Settings])
@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_a_blank_org_id_in_the_environment_is_unset(
    monkeypatch: pytest.MonkeyPatch, settings_class: type[DashboardSettings], blank: str
) -> None:
    monkeypatch.setenv("MERAKI_ORG_ID", blank)
    assert settings_class(_env_file=None).meraki_org_id is None


@pytest.mark.parametrize("settings_class", [DashboardSettings, Settings])
def test_blank_meraki_lines_in_an_env_file_are_unset(tmp_path: Path, settings_class: type[DashboardSettings]) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MERAKI_API_KEY=\nMERAKI_ORG_ID=\n", encoding="utf-8")
    settings = settings_class(_env_file=env_file)
    assert settings.meraki_org_id is None
    assert settings.meraki_api_key is None
    assert settings.demo


def test_a_set_org_id_is_kept_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERAKI_ORG_ID", "549236")
    assert Settings(_env_file=None).meraki_org_id == "549236"


def test_the_slack_fields_still_treat_blank_as_unset_next_to_the_dashboard_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both classes validate blanks; the subclass's validator must not replace the parent's."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    monkeypatch.setenv("MERAKI_ORG_ID", "")
    settings = Settings(_env_file=None)
    assert settings.slack_app_token is None
    assert settings.meraki_org_id is None
    assert settings.mode == "http"


def test_a_blank_api_key_cannot_build_a_live_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.dashboard.client import DashboardClient

    monkeypatch.setenv("MERAKI_API_KEY", " ")
    with pytest.raises(ValueError, match="MERAKI_API_KEY is not set"):
        DashboardClient.from_settings(DashboardSettings(_env_file=None))
