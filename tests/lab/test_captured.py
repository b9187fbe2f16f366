"""The engine on the committed views of real lab runs (tests/lab/captured/); needs no root.

The captured logs come from the strongSwan lab (`VPN_DOCTOR_LAB_CAPTURE=1 make lab`),
so every machine checks the engine against genuine daemon output with the same
expectations as the live lab.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .expectations import EXPECTED, VIEWS

CAPTURED = Path(__file__).resolve().parent / "captured"
CASES = [(scenario, view) for scenario in sorted(EXPECTED) for view in VIEWS]


def test_every_expected_view_was_captured() -> None:
    missing = [f"{s}/{v}.log" for s, v in CASES if not (CAPTURED / s / f"{v}.log").is_file()]
    assert not missing


@pytest.mark.parametrize(("scenario", "view"), CASES)
def test_engine_on_captured_view(scenario: str, view: str) -> None:
    try:
        from knowledge import diagnose_text
    except ImportError:
        pytest.skip("knowledge.diagnose_text is not available yet")
    text = (CAPTURED / scenario / f"{view}.log").read_text()
    problems = EXPECTED[scenario][view].problems(diagnose_text(text))
    assert not problems, f"{scenario}/{view}: {problems}"
