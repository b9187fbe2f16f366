"""Supernet arithmetic, checked by property: contains every input and is the smallest such."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.netmath import same_networks, supernet


def test_azure_example_from_the_article() -> None:
    assert supernet(["192.168.10.0/24", "192.168.20.0/24"]) == "192.168.0.0/19"


def test_single_network_is_its_own_supernet_and_host_bits_are_dropped() -> None:
    assert supernet(["10.1.2.3/16"]) == "10.1.0.0/16"


def test_ipv6() -> None:
    assert supernet(["2001:db8:0:1::/64", "2001:db8:0:2::/64"]) == "2001:db8::/62"


@pytest.mark.parametrize("bad", [[], ["10.0.0.0/8", "2001:db8::/32"], ["not-a-net"]])
def test_bad_input_raises_value_error(bad: list[str]) -> None:
    with pytest.raises(ValueError):
        supernet(bad)


def test_same_networks_ignores_order_and_spelling() -> None:
    assert same_networks(["10.0.1.0/24", "10.0.0.5/24"], ["10.0.0.0/24", "10.0.1.0/24"])
    assert not same_networks(["10.0.0.0/24"], ["10.0.0.0/16"])


ipv4_networks = st.builds(
    lambda address, prefix: ipaddress.ip_network((address, prefix), strict=False),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=32),
)


@given(st.lists(ipv4_networks, min_size=1, max_size=8))
def test_supernet_contains_every_input_and_is_minimal(networks: list[ipaddress.IPv4Network]) -> None:
    result = ipaddress.ip_network(supernet(str(n) for n in networks))
    assert all(n.subnet_of(result) for n in networks)
    if result.prefixlen < 32:
        halves = list(result.subnets(prefixlen_diff=1))
        # One step narrower can no longer hold them all: either half misses some input.
        assert not any(all(n.subnet_of(half) for n in networks) for half in halves)
