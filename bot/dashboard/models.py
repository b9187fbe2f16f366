"""Pydantic models for the Dashboard objects the bot reads.

Field names follow the official schemas (camelCase); every model allows extra fields
because the API keeps adding them. The peer's pre-shared key is turned into a
SecretStr here, at the client boundary, so no later code can print it by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from knowledge.firmware import parse_firmware

# Keys the peer schema uses for secrets (PSK, eBGP neighbour password).
_SECRET_KEYS = frozenset({"secret", "password", "sharedSecret"})
REDACTED = "**********"


def _scrub(value: Any) -> Any:
    """Replace secret-looking keys anywhere inside extra (unmodelled) peer data."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in _SECRET_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


class DashboardModel(BaseModel):
    """Lenient where the Dashboard is loose (numbers for strings, null for a list), silent about inputs.

    `hide_input_in_errors`: a validation error of a peer list would otherwise quote its PSKs.
    """

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, hide_input_in_errors=True, coerce_numbers_to_str=True
    )

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        """`"uplinks": null` reads like a missing key, so the field's default applies."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {k: v for k, v in data.items() if v is not None or k not in fields or fields[k].is_required()}


class Organization(DashboardModel):
    id: str
    name: str = ""


class Network(DashboardModel):
    id: str
    organizationId: str | None = None
    name: str = ""
    productTypes: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    timeZone: str | None = None


class Device(DashboardModel):
    serial: str
    name: str | None = None
    model: str = ""
    networkId: str | None = None
    firmware: str | None = None
    productType: str | None = None
    mac: str | None = None
    lanIp: str | None = None

    @property
    def firmware_version(self) -> tuple[int, ...] | None:
        return parse_firmware(self.firmware)


class IpsecPolicies(DashboardModel):
    ikeCipherAlgo: list[str] = Field(default_factory=list)
    ikeAuthAlgo: list[str] = Field(default_factory=list)
    ikePrfAlgo: list[str] = Field(default_factory=list)
    ikeDiffieHellmanGroup: list[str] = Field(default_factory=list)
    ikeLifetime: int | None = None
    childCipherAlgo: list[str] = Field(default_factory=list)
    childAuthAlgo: list[str] = Field(default_factory=list)
    childPfsGroup: list[str] = Field(default_factory=list)
    childLifetime: int | None = None


class PeerNetworks(DashboardModel):
    ids: list[str] = Field(default_factory=list)


class ThirdPartyPeer(DashboardModel):
    """One organisation-wide non-Meraki VPN peer; `secret` never leaves as plain text."""

    name: str
    publicIp: str | None = None
    publicHostname: str | None = None
    remoteId: str | None = None
    localId: str | None = None
    secret: SecretStr | None = Field(default=None, repr=False)
    privateSubnets: list[str] = Field(default_factory=list)
    ipsecPolicies: IpsecPolicies | None = None
    ipsecPoliciesPreset: str | None = None
    ikeVersion: str = "1"
    networkTags: list[str] = Field(default_factory=lambda: ["all"])
    network: PeerNetworks | None = None

    @model_validator(mode="before")
    @classmethod
    def _scrub_extras(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        kept: dict[str, Any] = {}
        for key, value in data.items():
            if key in cls.model_fields:
                kept[key] = value
            elif key not in _SECRET_KEYS:
                kept[key] = _scrub(value)
        return kept

    @field_validator("ikeVersion", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> str:
        return "1" if value is None else str(value)

    @property
    def has_secret(self) -> bool:
        return self.secret is not None and bool(self.secret.get_secret_value())

    def applies_to(self, network: Network) -> bool:
        """Whether this peer's settings are pushed to `network`'s MX (by id or by tag)."""
        if self.network is not None and self.network.ids:
            return network.id in self.network.ids
        tags = {t.lower() for t in self.networkTags}
        if "none" in tags:
            return False
        if "all" in tags:
            return True
        return bool(tags & {t.lower() for t in network.tags})

    def public_view(self) -> dict[str, Any]:
        """The peer as JSON with the secret left out entirely (for reports and config checks)."""
        data = self.model_dump(mode="json", exclude={"secret"})
        data["secretConfigured"] = self.has_secret
        return data


class PeersResponse(DashboardModel):
    peers: list[ThirdPartyPeer] = Field(default_factory=list)


class ThirdPartyPeerStatus(DashboardModel):
    name: str
    publicIp: str | None = None
    reachability: str | None = None

    @property
    def reachable(self) -> bool:
        return (self.reachability or "").lower() == "reachable"


class StatusUplink(DashboardModel):
    interface: str
    publicIp: str | None = None


class VpnStatus(DashboardModel):
    networkId: str
    networkName: str = ""
    deviceSerial: str | None = None
    deviceStatus: str | None = None
    vpnMode: str | None = None
    uplinks: list[StatusUplink] = Field(default_factory=list)
    thirdPartyVpnPeers: list[ThirdPartyPeerStatus] = Field(default_factory=list)
    merakiVpnPeers: list[dict[str, Any]] = Field(default_factory=list)


class Uplink(DashboardModel):
    interface: str
    status: str | None = None
    ip: str | None = None
    publicIp: str | None = None
    gateway: str | None = None


class UplinkStatus(DashboardModel):
    networkId: str
    serial: str | None = None
    model: str | None = None
    lastReportedAt: str | None = None
    uplinks: list[Uplink] = Field(default_factory=list)

    def active(self) -> list[Uplink]:
        return [u for u in self.uplinks if (u.status or "").lower() == "active"]


class EventType(DashboardModel):
    category: str = ""
    type: str
    description: str = ""


class Event(DashboardModel):
    occurredAt: datetime
    networkId: str | None = None
    type: str = ""
    description: str = ""
    category: str = ""
    deviceSerial: str | None = None
    deviceName: str | None = None
    eventData: dict[str, Any] = Field(default_factory=dict)

    @property
    def msg(self) -> str:
        value = self.eventData.get("msg")
        return value if isinstance(value, str) else ""


class EventsPage(DashboardModel):
    message: str | None = None
    pageStartAt: datetime | None = None
    pageEndAt: datetime | None = None
    events: list[Event] = Field(default_factory=list)
