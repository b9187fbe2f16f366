"""Run one scenario end to end and leave everything a person needs under its output folder.

Every namespace and daemon a run creates is registered in `CLEANUPS` until the run has
removed it, so an interrupted test session (Ctrl-C, SIGTERM, a failing thread) can
undo exactly what this process made and nothing else (`cleanup_all`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .charon import Daemon
from .netns import Topology
from .scenarios import LEFT_OUTSIDE, RIGHT_OUTSIDE, Scenario
from .views import mx_dashboard

QUIET_S = 0.5
QUIET_MAX_S = 3.0
POLL_S = 0.1

_lock = threading.Lock()
CLEANUPS: dict[int, Callable[[], list[str]]] = {}


def cleanup_all() -> list[str]:
    """Undo every run still registered (daemons first, then namespaces); returns what failed."""
    with _lock:
        pending = list(CLEANUPS.items())
        CLEANUPS.clear()
    errors: list[str] = []
    for _, undo in pending:
        errors.extend(undo())
    return errors


class Cancelled(RuntimeError):
    """The session is being torn down; stop waiting."""


@dataclass
class LabRun:
    scenario: Scenario
    outdir: Path
    initiator: str = ""
    responder: str = ""
    mx_dashboard: str = ""
    initiate_rc: int | None = None
    missing_markers: list[str] = field(default_factory=list)
    runtime_s: float = 0.0
    namespaces: tuple[str, ...] = ()
    pids: list[int] = field(default_factory=list)
    dropped_packets: int | None = None

    def views(self) -> dict[str, str]:
        return {"initiator": self.initiator, "responder": self.responder, "mx_dashboard": self.mx_dashboard}


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _window(path: Path, start: int, end: int) -> str:
    with open(path, "rb") as fh:
        fh.seek(start)
        return fh.read(end - start).decode("utf-8", errors="replace")


def _sleep(cancel: threading.Event, seconds: float) -> None:
    if cancel.wait(seconds):
        raise Cancelled("lab session cancelled")


def _wait_markers(scenario: Scenario, logs: dict[str, Path], deadline: float,
                  cancel: threading.Event) -> list[str]:
    pending = list(scenario.markers)
    while pending:
        pending = [m for m in pending if not re.search(m.pattern, logs[m.side].read_text(errors="replace"))]
        if not pending or time.monotonic() > deadline:
            break
        _sleep(cancel, POLL_S)
    return [f"{m.side}: /{m.pattern}/" for m in pending]


def _wait_quiet(paths: list[Path], cancel: threading.Event) -> None:
    """Return once no log has grown for QUIET_S (bounded by QUIET_MAX_S): late replies get logged."""
    sizes = [_size(p) for p in paths]
    still_since = time.monotonic()
    give_up = still_since + QUIET_MAX_S
    while time.monotonic() < give_up:
        _sleep(cancel, POLL_S)
        now = [_size(p) for p in paths]
        if now != sizes:
            sizes, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= QUIET_S:
            return


def run_scenario(scenario: Scenario, outdir: Path, cancel: threading.Event) -> LabRun:
    """Build the topology, negotiate, collect the logs and views, tear down; always cleans up."""
    started = time.monotonic()
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    rundirs = Path(tempfile.mkdtemp(prefix="vdlab-"))
    topo = Topology.fresh_names()
    left = Daemon(topo.left, scenario.left, LEFT_OUTSIDE, RIGHT_OUTSIDE, outdir / "left", rundirs / "l")
    right = Daemon(topo.right, scenario.right, RIGHT_OUTSIDE, LEFT_OUTSIDE, outdir / "right", rundirs / "r")
    run = LabRun(scenario, outdir, namespaces=(topo.left, topo.right))
    control = [f"scenario {scenario.name}: {scenario.what}", f"namespaces {topo.left} {topo.right}"]

    def undo() -> list[str]:
        for daemon in (left, right):
            daemon.stop()
        errors = topo.delete()
        shutil.rmtree(rundirs, ignore_errors=True)
        return errors

    key = id(run)
    with _lock:
        CLEANUPS[key] = undo
    try:
        topo.create(deaf_right=scenario.deaf_responder)
        for daemon in (left, right):
            daemon.workdir.mkdir(parents=True)
            daemon.start()
            run.pids.append(daemon.pid)
            daemon.load()
        logs = {"left": left.detail_log, "right": right.detail_log}
        all_logs = [left.detail_log, right.detail_log, left.levels_log, right.levels_log]
        begin = [_size(p) for p in all_logs]
        deadline = time.monotonic() + scenario.bound_s
        for _ in range(1 + scenario.retries):
            initiate = left.swanctl("--initiate", "--child", scenario.left.child, "--timeout", "20",
                                    timeout=30)
            run.initiate_rc = initiate.returncode
            if initiate.returncode == 0:
                break
        if scenario.action == "rekey" and initiate.returncode == 0:
            # rekey in the next wall-clock second, so that its log lines are visibly later
            _sleep(cancel, 1.05 - time.time() % 1.0)
            left.swanctl("--rekey", "--child", scenario.left.child, timeout=10)
        run.missing_markers = _wait_markers(scenario, logs, deadline, cancel)
        _wait_quiet(all_logs, cancel)
        end = [_size(p) for p in all_logs]
        for daemon in (left, right):
            daemon.swanctl("--list-sas", timeout=10)
        if scenario.deaf_responder:
            table = topo.nft_counters()
            control.append("responder nft table:\n" + table)
            counted = re.search(r"counter packets (\d+)", table)
            run.dropped_packets = int(counted.group(1)) if counted else None
        windows = [_window(p, b, e) for p, b, e in zip(all_logs, begin, end, strict=True)]
        run.initiator, run.responder = windows[0], windows[1]
        run.mx_dashboard = mx_dashboard(windows[2] if scenario.mx_role == "initiator" else windows[3])
    finally:
        with _lock:
            CLEANUPS.pop(key, None)
        errors = undo()
        run.runtime_s = time.monotonic() - started
        control += [*left.swanctl_output, *right.swanctl_output, *(f"cleanup: {e}" for e in errors)]
        control += [f"missing markers: {run.missing_markers}", f"runtime {run.runtime_s:.1f} s"]
        (outdir / "control.txt").write_text("\n".join(control) + "\n")
    for name, text in run.views().items():
        (outdir / f"{name}.log").write_text(text)
    return run
