"""Alert metrics through the real alert flow: an incident, its diagnosis, its recovery (SQLite state)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from bot import metrics
from bot.alerts.state.sqlite_store import SqliteStore
from bot.health import state_check
from tests.alerts_harness import alert_rig

FRANKFURT = "N_24329104"
VERDICTS = ("healthy", "failing", "degraded", "unknown")


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """The metric moves just after Slack answered the post; wait for it rather than race it."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def alert_diagnoses() -> float:
    return sum(metrics.value("vpn_doctor_diagnoses_total", source="alert", verdict=v) for v in VERDICTS)


async def test_alerts_posted_diagnoses_and_open_incidents_are_counted(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "state.sqlite3")
    posted = metrics.value("vpn_doctor_alerts_posted_total", kind="incident")
    recovered = metrics.value("vpn_doctor_alerts_posted_total", kind="recovery")
    diagnosed = alert_diagnoses()
    async with alert_rig([store]) as rig:
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "unreachable")
        await rig.wait_alerts()
        await eventually(lambda: metrics.value("vpn_doctor_alerts_posted_total", kind="incident") == posted + 1)
        await eventually(lambda: alert_diagnoses() == diagnosed + 1)  # the diagnosis in the incident's thread
        assert (await state_check(store, "sqlite")()).detail == "sqlite, 1 open incidents"
        assert metrics.value("vpn_doctor_open_incidents") == 1
        rig.dashboard.set_reachability(FRANKFURT, "paris-asa", "reachable")
        await eventually(lambda: metrics.value("vpn_doctor_alerts_posted_total", kind="recovery") == recovered + 1)
        await asyncio.sleep(0.2)
        assert metrics.value("vpn_doctor_alerts_posted_total", kind="incident") == posted + 1, "one alert only"
