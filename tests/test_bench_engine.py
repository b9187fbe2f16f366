"""The engine benchmark still runs against the engine it measures (it reaches into its stages)."""

from __future__ import annotations

import pytest

from bench.engine_throughput import churn_floor, churn_stages, churn_text, main


def test_churn_stages_and_floor_are_measured() -> None:
    data = churn_text(2_000, peers=20)
    stages = churn_stages(data, repeats=1)
    assert list(stages) == ["keyword scan", "parse + signature match", "peers + order", "timelines"]
    assert all(seconds > 0 for seconds in stages.values())
    assert churn_floor(data, repeats=1) > 0


def test_the_benchmark_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lines", "2000", "--churn", "2000"]) == 0
    out = capsys.readouterr().out
    for figure in ("ratio engine/grep", "peak RSS", "lines/s (goal >= 200,000)", "floor:"):
        assert figure in out
