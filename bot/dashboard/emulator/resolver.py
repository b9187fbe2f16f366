"""A DNS resolver that sends every host name to 127.0.0.1.

Tests and the benchmark use it so that absolute Link URLs naming shard hosts
(`n123.meraki.com`) or a foreign host reach local servers, while the client still sees
and judges the real host name (which decides whether the API key is sent).
"""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver


class LoopbackResolver(AbstractResolver):
    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


def loopback_session() -> aiohttp.ClientSession:
    """A client session whose every host name (shard or foreign) reaches 127.0.0.1."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=LoopbackResolver()))
