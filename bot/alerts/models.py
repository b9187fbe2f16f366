"""What the alerting side remembers: per-peer tracks, incidents, acknowledgements and mutes.

Every timestamp is epoch seconds (UTC) so that state written by one replica or one
process lifetime reads the same in the next. Tracks and incidents are written only by
the replica that holds the lead; acknowledgements and mutes come from button clicks on
any replica, so they live apart from the incident record and never overwrite it.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

AlertSeverity = Literal["critical", "warning"]


def peer_key(network_id: str, peer: str) -> str:
    """One (MX network, third-party peer) pair; network IDs never contain a `|`."""
    return f"{network_id}|{peer}"


class Track(BaseModel):
    """The hold-down counters of one (MX network, peer) pair across polls."""

    network_id: str
    network_name: str = ""
    peer: str
    public_ip: str | None = None
    reachability: str | None = None
    down: bool = False
    down_streak: int = 0
    up_streak: int = 0
    down_since: float | None = Field(default=None, description="first down poll of the current streak or outage")
    up_since: float | None = Field(default=None, description="first up poll after an outage")

    @property
    def key(self) -> str:
        return peer_key(self.network_id, self.peer)


class IncidentPeer(BaseModel):
    name: str
    public_ip: str | None = None
    down_since: float
    recovered_at: float | None = None
    recovery_posted: bool = False


class UplinkState(BaseModel):
    interface: str
    status: str | None = None
    public_ip: str | None = None


class Incident(BaseModel):
    """One alert in the channel: a peer (or several on one MX) down, until every one is back."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])
    network_id: str
    network_name: str = ""
    channel: str
    peers: list[IncidentPeer]
    opened_at: float
    severity: AlertSeverity = "warning"
    uplinks: list[UplinkState] = Field(default_factory=list)
    demo: bool = False
    ts: str | None = Field(default=None, description="the channel message; None until it is posted")
    diagnosis_posted: bool = False
    resolved_at: float | None = None
    resolution_posted: bool = False

    @property
    def grouped(self) -> bool:
        return len(self.peers) > 1

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def settled(self) -> bool:
        """Nothing left to post: resolved and the recovery is in the thread."""
        return self.resolved and self.resolution_posted

    @property
    def keys(self) -> list[str]:
        return [peer_key(self.network_id, p.name) for p in self.peers]

    @property
    def since(self) -> float:
        return min(p.down_since for p in self.peers)

    def peer(self, name: str) -> IncidentPeer | None:
        return next((p for p in self.peers if p.name == name), None)


class Ack(BaseModel):
    user: str
    at: float


class Mute(BaseModel):
    key: str
    until: float
    by: str | None = None
