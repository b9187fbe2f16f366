"""One charon daemon inside one namespace, driven over its own vici socket.

charon's PID file path is compiled in (/run/charon.pid), so two daemons on one host
collide; each daemon therefore runs with a private directory bind-mounted over /run
inside the mount namespace that `ip netns exec` creates (nothing propagates back to
the host). `ip netns exec` and `sh` both exec, so the Popen PID is charon's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .configs import strongswan_conf, swanctl_conf
from .scenarios import Side

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "swanctl"


@dataclass
class Daemon:
    namespace: str
    side: Side
    local_addr: str
    remote_addr: str
    workdir: Path
    rundir: Path
    process: subprocess.Popen[bytes] | None = None
    swanctl_output: list[str] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.workdir / "strongswan.conf"

    @property
    def detail_log(self) -> Path:
        return self.workdir / "detail.log"

    @property
    def levels_log(self) -> Path:
        return self.workdir / "levels.log"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("charon not started")
        return self.process.pid

    def write_configs(self) -> None:
        self.rundir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(strongswan_conf(self.side, self.rundir, self.workdir))
        (self.workdir / "swanctl.conf").write_text(swanctl_conf(self.side, self.local_addr, self.remote_addr))

    def start(self, timeout: float = 10.0) -> None:
        self.write_configs()
        env = {**os.environ, "STRONGSWAN_CONF": str(self.conf)}
        with open(self.workdir / "charon.stdout", "wb") as out:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, "sh", "-c", 'mount --bind "$1" /run && exec "$2"',
                 "sh", str(self.rundir), CHARON],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        socket = self.rundir / "charon.vici"
        deadline = time.monotonic() + timeout
        while not socket.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"charon in {self.namespace} exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"charon in {self.namespace} opened no vici socket within {timeout:.0f} s")
            time.sleep(0.05)

    def swanctl(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Call swanctl against this daemon's socket; output is kept for the run's control file."""
        env = {**os.environ, "STRONGSWAN_CONF": str(self.conf)}
        cmd = [SWANCTL, *args, "--uri", f"unix://{self.rundir}/charon.vici"]
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            note = f"$ {' '.join(cmd)}\n(timed out after {timeout:.0f} s)\n{exc.stdout or ''}"
            self.swanctl_output.append(note)
            raise
        took = time.monotonic() - started
        self.swanctl_output.append(
            f"$ {' '.join(cmd)}\n(rc {done.returncode}, {took:.1f} s)\n{done.stdout}{done.stderr}"
        )
        return done

    def load(self) -> None:
        done = self.swanctl("--load-all", "--file", str(self.workdir / "swanctl.conf"), timeout=15)
        if done.returncode != 0:
            raise RuntimeError(f"swanctl --load-all failed in {self.namespace}: {done.stderr.strip()}")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the daemon this object started (SIGKILL if it lingers); idempotent."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
