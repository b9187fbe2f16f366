"""A real redis-server for the tests, started and stopped by the test suite itself.

The Debian package `redis-server` is installed with apt-get when the binary is missing
(CI starts from a clean machine); when that is impossible the Redis tests are skipped
with one reason. Each server listens on a free 127.0.0.1 port, in a temporary folder,
without persistence, and is killed at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL = "apt-get update -qq && apt-get install -y -qq redis-server"


def redis_binary() -> str | None:
    """The redis-server path, installing the Debian package first when it is missing and we may."""
    found = shutil.which("redis-server")
    if found or shutil.which("apt-get") is None or os.geteuid() != 0:
        return found
    subprocess.run(["sh", "-c", INSTALL], check=False, capture_output=True, timeout=600)
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, binary: str, folder: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.folder = folder
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed and apt-get could not install it (needs root and a registry)")
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
