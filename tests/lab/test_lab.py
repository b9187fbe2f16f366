"""Real strongSwan negotiations in network namespaces, each view checked against the engine.

All scenarios run once per session (concurrently, see conftest.py); these tests read
the results. `make lab` runs only this module's marker and leaves the logs in build/lab/.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from .expectations import EXPECTED, VIEWS
from .runner import LabRun
from .scenarios import SCENARIOS

pytestmark = pytest.mark.lab

NAMES = sorted(SCENARIOS)
DASHBOARD_ROW = re.compile(
    r"^(?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) {2,}Non-Meraki VPN {2,}"
    r"Non-Meraki VPN negotiation {2,}msg: <[^>]+> \S"
)


def _stamp(row: str) -> datetime:
    m = DASHBOARD_ROW.match(row)
    assert m is not None, row
    return datetime.strptime(f"{m['month']} {m['day']} {m['time']}", "%b %d %H:%M:%S")


def _engine():
    try:
        from knowledge import diagnose_text
    except ImportError:
        pytest.skip("knowledge.diagnose_text is not available yet; the lab logs are in build/lab/")
    return diagnose_text


IKE_LINE = re.compile(r"\d\[(?:NET|ENC|IKE|CHD|KNL)\] ")


def test_every_scenario_has_expectations() -> None:
    assert sorted(EXPECTED) == NAMES
    assert all(sorted(views) == sorted(VIEWS) for views in EXPECTED.values())


@pytest.mark.parametrize("lab_run", NAMES, indirect=True)
def test_negotiation_reaches_its_outcome(lab_run: LabRun) -> None:
    scenario = lab_run.scenario
    assert not lab_run.missing_markers, f"never logged: {lab_run.missing_markers} (see {lab_run.outdir})"
    assert (lab_run.initiate_rc == 0) is scenario.establishes, (
        f"swanctl --initiate returned {lab_run.initiate_rc} (see {lab_run.outdir / 'control.txt'})"
    )
    if scenario.deaf_responder:
        # Its control socket may log a vici client coming and going; no IKE line may appear.
        heard = [line for line in lab_run.responder.splitlines() if IKE_LINE.search(line)]
        assert not heard, f"the responder behind the nft drop must not have seen any IKE packet: {heard}"
        assert lab_run.dropped_packets, "nft counted no dropped IKE packet at the responder"
    else:
        assert lab_run.initiator and lab_run.responder


@pytest.mark.parametrize("lab_run", NAMES, indirect=True)
def test_run_left_nothing_behind(lab_run: LabRun) -> None:
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not [ns for ns in lab_run.namespaces if re.search(rf"^{re.escape(ns)}\b", namespaces, re.M)]
    for pid in lab_run.pids:
        comm = Path(f"/proc/{pid}/comm")
        assert not (comm.exists() and comm.read_text().strip() == "charon"), f"charon {pid} still running"


@pytest.mark.parametrize("lab_run", NAMES, indirect=True)
def test_dashboard_view_looks_like_an_mx(lab_run: LabRun) -> None:
    rows = lab_run.mx_dashboard.splitlines()
    assert rows, "the MX-role daemon logged no audit line at all"
    assert all(DASHBOARD_ROW.match(row) for row in rows), rows
    stamps = [_stamp(row) for row in rows]
    assert stamps == sorted(stamps, reverse=True), "Dashboard rows must be newest first"
    assert not re.search(r"\b[0-9a-f]{8}_[io]\b", lab_run.mx_dashboard), "charon SPI spelling left over"
    assert not re.search(r"\d\d\[[A-Z]+\d?\] ", lab_run.mx_dashboard), "thread/group prefix left over"


@pytest.mark.parametrize("lab_run", NAMES, indirect=True)
def test_no_pre_shared_key_in_any_view(lab_run: LabRun) -> None:
    secrets = {lab_run.scenario.left.psk, lab_run.scenario.right.psk}
    for view, text in lab_run.views().items():
        assert not [s for s in secrets if s in text], f"a pre-shared key appears in the {view} view"


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("lab_run", NAMES, indirect=True)
def test_engine_reads_the_real_log(lab_run: LabRun, view: str) -> None:
    diagnose_text = _engine()
    diagnosis = diagnose_text(lab_run.views()[view])
    problems = EXPECTED[lab_run.scenario.name][view].problems(diagnosis)
    where = lab_run.outdir / f"{view}.log"
    assert not problems, f"{lab_run.scenario.name}/{view}: {problems} (log: {where})"
