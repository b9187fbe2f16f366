"""Lab fixtures: decide once whether the lab can run here, then run every scenario concurrently.

The lab needs root, working `ip netns`, and strongSwan's charon/swanctl with the
kernel-libipsec plugin; missing packages are installed from Debian with apt-get. If
any of that is impossible every lab test is skipped with the same single reason.
Logs and views of each scenario are left in build/lab/<scenario>/ for a person to read;
VPN_DOCTOR_LAB_CAPTURE=1 also refreshes the committed copies in tests/lab/captured/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .charon import CHARON, SWANCTL
from .runner import LabRun, cleanup_all, run_scenario
from .scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
LAB_OUT = ROOT / "build" / "lab"
CAPTURED = Path(__file__).resolve().parent / "captured"
PACKAGES = (
    "strongswan-charon",
    "strongswan-swanctl",
    "libstrongswan-standard-plugins",
    "libcharon-extra-plugins",
    "iproute2",
    "nftables",
)
LIBIPSEC_PLUGIN = Path("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so")
# two cores shared with other work: IKE exchanges are mostly waiting, four at once is plenty
WORKERS = 4


def _strongswan_present() -> bool:
    return (Path(CHARON).exists() and shutil.which(SWANCTL) is not None and shutil.which("nft") is not None
            and LIBIPSEC_PLUGIN.exists())


def _install_packages() -> str | None:
    if shutil.which("apt-get") is None:
        return "strongSwan is not installed and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            return f"'{' '.join(cmd[:2])}' failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return None


def _netns_works() -> str | None:
    probe = f"vdlab-probe-{secrets.token_hex(3)}"
    try:
        done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=10,
                              check=False)
    except FileNotFoundError:
        return "iproute2 ('ip') is missing"
    if done.returncode != 0:
        return f"'ip netns add' does not work here: {done.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=10, check=False)
    return None


def lab_unavailable_reason() -> str | None:
    """None when the lab can run; otherwise the one reason it cannot."""
    if os.geteuid() != 0:
        return "the strongSwan lab needs root (network namespaces, mounts, TUN)"
    if not _strongswan_present():
        failure = _install_packages()
        if failure:
            return failure
        if not _strongswan_present():
            return "charon, swanctl, nft or the kernel-libipsec plugin still missing after apt-get install"
    return _netns_works()


class _Interrupted(KeyboardInterrupt):
    """SIGTERM/SIGHUP turned into an exception so that finally blocks and finalizers run."""


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise _Interrupted(f"signal {signum}")


def _run_all(cancel: threading.Event) -> dict[str, LabRun | BaseException]:
    results: dict[str, LabRun | BaseException] = {}
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="lab")
    try:
        # slowest first, so the long waits overlap with the quick scenarios
        order = sorted(SCENARIOS.values(), key=lambda s: -s.expected_s)
        futures = {s.name: pool.submit(run_scenario, s, LAB_OUT / s.name, cancel) for s in order}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:
                results[name] = exc
    finally:
        cancel.set()
        pool.shutdown(wait=False, cancel_futures=True)
        leftovers = cleanup_all()
        pool.shutdown(wait=True)
        if leftovers:
            raise RuntimeError(f"lab cleanup failed: {leftovers}")
    return results


def _write_summary(results: dict[str, LabRun | BaseException], wall_s: float) -> None:
    lines = [f"lab wall clock {wall_s:.1f} s, {WORKERS} scenarios at a time"]
    for name, result in sorted(results.items()):
        if isinstance(result, LabRun):
            lines.append(f"{name:28} {result.runtime_s:6.1f} s  initiate rc {result.initiate_rc}")
        else:
            lines.append(f"{name:28} error: {result!r}")
    (LAB_OUT / "SUMMARY.txt").write_text("\n".join(lines) + "\n")


def _capture(results: dict[str, LabRun | BaseException]) -> None:
    for name, result in results.items():
        if isinstance(result, LabRun) and not result.missing_markers:
            folder = CAPTURED / name
            folder.mkdir(parents=True, exist_ok=True)
            for view, text in result.views().items():
                (folder / f"{view}.log").write_text(text)


@pytest.fixture(scope="session")
def lab_runs() -> Iterator[dict[str, LabRun | BaseException]]:
    reason = lab_unavailable_reason()
    if reason:
        pytest.skip(reason)
    LAB_OUT.mkdir(parents=True, exist_ok=True)
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    cancel = threading.Event()
    started = time.monotonic()
    try:
        results = _run_all(cancel)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _write_summary(results, time.monotonic() - started)
    if os.environ.get("VPN_DOCTOR_LAB_CAPTURE") == "1":
        _capture(results)
    yield results


@pytest.fixture
def lab_run(lab_runs: dict[str, LabRun | BaseException], request: pytest.FixtureRequest) -> LabRun:
    result = lab_runs[request.param]
    if isinstance(result, BaseException):
        raise result
    return result
