"""The real-world corpus (tests/fixtures/realworld): well-formed cases, and a score that must not fall."""

from __future__ import annotations

import pytest

from tests.realworld import CLASSES, KEYS, REQUIRED, SOURCE_KINDS, Case, cases, score, score_line
from tests.test_fixtures import LOG_FINDING_IDS

CASES = cases()
# Logs show weak algorithms too (a daemon refusing to load modp1024), not only configs.
NAMED_IDS = {*LOG_FINDING_IDS, "weak-crypto"}
# Raised whenever the engine learns to read more; a change that reads less fails here.
FLOOR_PERCENT = 79.0


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_front_matter(case: Case) -> None:
    meta = case.meta
    assert set(REQUIRED) <= set(meta), f"missing {set(REQUIRED) - set(meta)}"
    assert set(meta) <= KEYS, f"unknown keys {set(meta) - KEYS}"
    assert meta["source_kind"] in SOURCE_KINDS
    assert set(meta.get("classes") or []) <= CLASSES, meta.get("classes")
    assert meta["verdict"] in ("healthy", "failing", "degraded", "unknown")
    named = [*meta.get("expect", []), *meta.get("expect_any", []), *meta.get("absent", [])]
    assert named and set(named) <= NAMED_IDS, f"unknown ids {set(named) - NAMED_IDS}"
    assert str(meta["cause"]).strip() and str(meta["source"]).strip()
    assert case.body.strip()


def test_the_corpus_reads_at_least_as_well_as_before() -> None:
    result = score(CASES)
    wrong = [f"{v.case.name}: {v.why}; got {v.got}" for v in result.verdicts if not v.right]
    assert result.percent >= FLOOR_PERCENT, score_line(result) + "\n" + "\n".join(wrong)
