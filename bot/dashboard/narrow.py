"""Which of an MX's VPN events concern one third-party peer.

An MX logs every peer into the same event stream. Lines that name the peer's public
IP are its own; charon lines carry a connection name (`<remote-peer-2|1403>`) that a
line with the IP ties to that peer; racoon lines such as `failed to get sainfo` name
nobody and belong to the negotiation that was just going on. When the MX has this
peer only, every VPN line is its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from bot.dashboard.models import Event

_CONNECTION = re.compile(r"<(?P<name>[^|>\s]+)\|\d+>")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)")
# A racoon line without an address belongs to the exchange logged just before it.
ORPHAN_WINDOW = timedelta(seconds=90)


def addresses(text: str) -> set[str]:
    return set(_IPV4.findall(text))


def connection_name(text: str) -> str | None:
    match = _CONNECTION.search(text)
    return match.group("name") if match else None


@dataclass(frozen=True)
class PeerAddresses:
    """The peer being diagnosed and the addresses of every other peer on the same MX."""

    mine: frozenset[str]
    others: frozenset[str]
    alone: bool

    def owner(self, text: str) -> bool | None:
        found = addresses(text)
        if found & self.mine:
            return True
        if found & self.others:
            return False
        return None


def is_vpn_event(event: Event) -> bool:
    """A site-to-site negotiation line (not client VPN, DHCP or other appliance events)."""
    label = f"{event.type} {event.category} {event.description}".lower()
    if "client" in label:
        return False
    return bool(event.msg) and ("non-meraki" in label or "non_meraki" in label or "vpn" in label)


def narrow_events(events: Iterable[Event], who: PeerAddresses) -> list[Event]:
    """The events of `who.mine`, in the order given (the Dashboard's newest first)."""
    given = [e for e in events if e.msg]
    chronological = sorted(given, key=lambda e: e.occurredAt)
    connections: dict[str, bool] = {}
    for event in chronological:
        name = connection_name(event.msg)
        owner = who.owner(event.msg)
        if name is not None and owner is not None:
            connections.setdefault(name, owner)
    keep: set[int] = set()
    last_owner: bool | None = None
    last_at = None
    for event in chronological:
        owner = who.owner(event.msg)
        if owner is None and (name := connection_name(event.msg)) is not None:
            owner = connections.get(name)
        if owner is not None:
            last_owner, last_at = owner, event.occurredAt
        elif who.alone:
            owner = True
        elif last_at is not None and event.occurredAt - last_at <= ORPHAN_WINDOW:
            owner = last_owner
        if owner:
            keep.add(id(event))
    return [e for e in given if id(e) in keep]
