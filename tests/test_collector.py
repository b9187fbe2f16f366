"""The cyclic collector is paused only while diagnoses run, and always comes back as it was."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from knowledge import diagnose_text
from knowledge.collector import collector_paused

LOG = "Jan 1 06:50:05 VPN msg: phase1 negotiation failed due to time up 7a5bc0d3e1f29a44:0000000000000000\n"


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_a_diagnosis_leaves_the_collector_on() -> None:
    assert diagnose_text(LOG * 50).findings
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    diagnose_text(LOG)
    assert not gc.isenabled()


def test_overlapping_pauses_end_with_the_last_one() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled(), "the other diagnosis is still running"
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_an_error_inside_still_turns_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_diagnoses_in_many_threads_leave_the_collector_on() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                diagnose_text(LOG * 20)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert gc.isenabled()
