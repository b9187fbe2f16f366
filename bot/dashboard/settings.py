"""Dashboard connection settings, read from the environment.

Kept apart from the Slack settings so the client, the shell and the tests can build
a Dashboard connection without any Slack configuration present.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BASE_URL = "https://api.meraki.com/api/v1"


def blank_is_unset(value: object) -> object:
    """`NAME=` in an env file or a Compose/Helm template left empty means "not set", not "".

    Shared with the Slack settings; each class names its own validator, since a subclass
    validator with the same name would replace this one.
    """
    if isinstance(value, str) and not value.strip():
        return None
    return value


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    meraki_api_key: SecretStr | None = None
    meraki_org_id: str | None = Field(
        default=None, description="optional when the key sees exactly one organisation"
    )
    meraki_base_url: str = DEFAULT_BASE_URL
    vpn_doctor_meraki_rps: float = Field(
        default=5.0, gt=0, description="requests per sliding second per organisation, bursts included"
    )
    vpn_doctor_lookup_deadline_seconds: float = Field(
        default=30.0, gt=0, description="longest a live lookup waits on the Dashboard before saying so"
    )

    @field_validator("meraki_api_key", "meraki_org_id", mode="before")
    @classmethod
    def _blank_dashboard_value_is_unset(cls, value: object) -> object:
        return blank_is_unset(value)

    @property
    def demo(self) -> bool:
        """Without a key the bot serves the bundled demo organisation."""
        return self.meraki_api_key is None or not self.meraki_api_key.get_secret_value()
