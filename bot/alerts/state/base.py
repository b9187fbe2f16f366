"""The one interface both state backends implement (SQLite for one replica, Redis for several)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from bot.alerts.models import Ack, Incident, Mute, Track

LEADER_LEASE = "poller"


class StateStore(ABC):
    """Durable alert state plus the two coordination primitives replicas need.

    `claim_lead` is both acquire and renew: it returns True while `owner` holds the
    lead (a lease in Redis, a file lock with SQLite). `reserve_post_slot` spaces channel
    posts across every replica sharing the store, so the one-post-per-second-per-channel
    rule holds for all of them together.
    """

    # Tracks -------------------------------------------------------------------------------

    @abstractmethod
    async def tracks(self) -> dict[str, Track]: ...

    @abstractmethod
    async def save_tracks(self, tracks: Iterable[Track]) -> None: ...

    # Incidents ----------------------------------------------------------------------------

    @abstractmethod
    async def incident(self, incident_id: str) -> Incident | None: ...

    @abstractmethod
    async def active_incidents(self) -> list[Incident]:
        """Incidents that are open or whose recovery is not yet in their thread."""

    @abstractmethod
    async def save_incident(self, incident: Incident) -> None: ...

    @abstractmethod
    async def prune_settled(self, resolved_before: float) -> int:
        """Forget settled incidents (and their acknowledgements) resolved before then; returns how many."""

    # Acknowledgements and mutes -----------------------------------------------------------

    @abstractmethod
    async def acknowledge(self, incident_id: str, ack: Ack) -> None: ...

    @abstractmethod
    async def ack_of(self, incident_id: str) -> Ack | None: ...

    @abstractmethod
    async def mute(self, mute: Mute) -> None: ...

    @abstractmethod
    async def mutes(self, now: float) -> dict[str, Mute]:
        """Mutes still in force at `now`, by peer key."""

    # Coordination -------------------------------------------------------------------------

    @abstractmethod
    async def claim_lead(self, owner: str, lease_seconds: float) -> bool: ...

    @abstractmethod
    async def release_lead(self, owner: str) -> None: ...

    @abstractmethod
    async def reserve_post_slot(self, channel: str, interval: float) -> float:
        """Claim the channel's next post slot: 0 when granted now, else seconds to wait and retry."""

    @abstractmethod
    async def request_check(self, network_id: str) -> None:
        """Ask the leader to poll this network now (a webhook said something changed)."""

    @abstractmethod
    async def wait_checks(self, timeout: float) -> list[str]:
        """Network IDs asked for, waiting up to `timeout` seconds for the first one."""

    @abstractmethod
    async def touch(self, now: float) -> None:
        """Write a heartbeat: a store that can be read but not written must not pass for healthy."""

    @abstractmethod
    async def close(self) -> None: ...
