"""Runtime settings, read once from the environment (and an optional `.env`).

One class for the whole service so every part reads the same validated values;
secrets are `SecretStr` so they never show up in a repr, a log line or a traceback.
Field names are the environment variable names in lower case.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from bot.dashboard.settings import DashboardSettings, blank_is_unset
from knowledge.models import Lang

Mode = Literal["socket", "http", "shell"]

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# VPN_DOCTOR_STATE values naming a Redis server: the state several replicas share.
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
SQLITE_PREFIX = "sqlite:///"


class Settings(DashboardSettings):
    """The Slack side's settings plus the Dashboard's (MERAKI_*, VPN_DOCTOR_MERAKI_RPS), same names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL

    port: int = Field(default=3000, ge=0, le=65535)
    bind_address: str = Field(default="127.0.0.1", description="0.0.0.0 inside a container")
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = Field(
        default="json", description="Log line format: json (one object per line) or text; the shell always logs text"
    )
    vpn_doctor_shutdown_grace_seconds: float = Field(
        default=10.0, ge=0, description="how long answers in flight get to finish after SIGTERM before they are marked"
    )

    vpn_doctor_lang: Lang = "en"
    vpn_doctor_max_file_bytes: int = Field(
        default=2_000_000, gt=0, description="largest attached log file the bot downloads and reads"
    )
    # Comma-separated Slack IDs; when set, live Dashboard lookups are answered only there / for them.
    vpn_doctor_live_channels: str = ""
    vpn_doctor_live_users: str = ""

    # Channel alerts (bot/alerts): off while no channel is set.
    vpn_doctor_alert_channel: str | None = None
    vpn_doctor_poll_seconds: float = Field(default=60.0, gt=0)
    vpn_doctor_state: str = Field(default="sqlite:///vpn-doctor-state.sqlite3", description="sqlite:///path or redis://…")
    vpn_doctor_alert_hold_polls: int = Field(default=2, ge=1, description="consecutive polls before alert/recovery")
    meraki_webhook_secret: SecretStr | None = None

    @field_validator(
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "vpn_doctor_alert_channel",
        "meraki_webhook_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`SLACK_APP_TOKEN=` in an env file means "not set", not an empty token."""
        return blank_is_unset(value)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def mode(self) -> Mode:
        """Socket Mode wins when both tokens are present; HTTP needs the signing secret."""
        if self.slack_bot_token and self.slack_app_token:
            return "socket"
        if self.slack_bot_token and self.slack_signing_secret:
            return "http"
        return "shell"

    @staticmethod
    def reveal(secret: SecretStr | None) -> str | None:
        return secret.get_secret_value() if secret else None
