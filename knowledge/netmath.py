"""Subnet arithmetic for comparing the two ends' traffic selectors.

Azure advertises a supernet that covers its subnets, and the MX wants that supernet
in the peer's private subnets; `supernet` computes the smallest one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> Network:
    """A network from CIDR text; host bits are dropped ("10.1.2.3/16" → 10.1.0.0/16)."""
    return ipaddress.ip_network(str(text).strip(), strict=False)


def supernet(cidrs: Iterable[str]) -> str:
    """The smallest network containing every one of `cidrs`, as CIDR text.

    Raises ValueError for no input, unparsable input or a mix of IPv4 and IPv6.
    """
    networks = [parse_network(cidr) for cidr in cidrs]
    if not networks:
        raise ValueError("supernet of nothing")
    if len({net.version for net in networks}) > 1:
        raise ValueError("cannot mix IPv4 and IPv6 networks")
    candidate = min(networks, key=lambda net: net.prefixlen)
    while not all(net.subnet_of(candidate) for net in networks):
        candidate = candidate.supernet()
    return str(candidate)


def same_networks(left: Iterable[str], right: Iterable[str]) -> bool:
    """Whether two lists name the same set of networks, however they are written."""
    return {parse_network(cidr) for cidr in left} == {parse_network(cidr) for cidr in right}
