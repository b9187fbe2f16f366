"""Two network namespaces joined by a veth pair: the only wire the lab's IKE packets travel.

Names carry a random suffix so parallel scenarios (and parallel test runs) never
touch each other's namespaces; `Topology.delete` removes only the two it created.
"""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass, field

from .scenarios import LEFT_OUTSIDE, RIGHT_OUTSIDE

NS_PREFIX = "vdlab"
LEFT_GATEWAY_INSIDE = "192.168.10.1/32"
RIGHT_GATEWAY_INSIDE = "192.168.20.1/32"

# Makes the responder deaf to IKE (and NAT-T), the way a firewall in front of a peer does.
DROP_IKE_NFT = """table inet vdlab {
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport { 500, 4500 } counter drop
    }
}
"""


def run(args: list[str], *, stdin: str | None = None,
        timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
    """Run a host command and raise with its stderr when it fails (setup steps must not fail quietly)."""
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


@dataclass
class Topology:
    """left (10.99.0.1/24) <-veth-> right (10.99.0.2/24), each with an inside address on lo."""

    left: str
    right: str
    created: list[str] = field(default_factory=list)

    @classmethod
    def fresh_names(cls) -> Topology:
        tag = secrets.token_hex(4)
        return cls(left=f"{NS_PREFIX}-{tag}-l", right=f"{NS_PREFIX}-{tag}-r")

    def create(self, *, deaf_right: bool = False) -> None:
        for ns in (self.left, self.right):
            run(["ip", "netns", "add", ns])
            self.created.append(ns)
            # no IPv6 at all: no link-local chatter, only IKE on the wire
            run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                 "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # created inside the left namespace, so the names never clash with the host or other runs
        run(["ip", "-n", self.left, "link", "add", "vd0", "type", "veth", "peer", "name", "vd1",
             "netns", self.right])
        for ns, dev, outside, inside in (
            (self.left, "vd0", LEFT_OUTSIDE, LEFT_GATEWAY_INSIDE),
            (self.right, "vd1", RIGHT_OUTSIDE, RIGHT_GATEWAY_INSIDE),
        ):
            run(["ip", "-n", ns, "addr", "add", f"{outside}/24", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
            # kernel-libipsec routes the tunnel via an address inside the local subnet
            run(["ip", "-n", ns, "addr", "add", inside, "dev", "lo"])
        if deaf_right:
            run(["ip", "netns", "exec", self.right, "nft", "-f", "-"], stdin=DROP_IKE_NFT)

    def nft_counters(self) -> str:
        return run(["ip", "netns", "exec", self.right, "nft", "list", "table", "inet", "vdlab"]).stdout

    def delete(self) -> list[str]:
        """Delete the namespaces this object created; returns the errors instead of raising."""
        errors: list[str] = []
        while self.created:
            ns = self.created.pop()
            done = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                errors.append(f"ip netns del {ns}: {done.stderr.strip()}")
        return errors
