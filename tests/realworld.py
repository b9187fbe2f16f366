"""The real-world corpus: log excerpts people published, each judged against the cause its source states.

Each file under tests/fixtures/realworld/<group>/ holds one excerpt exactly as printed (public
addresses swapped for documentation ranges, nothing else) and a front matter that names its
source, the cause the source gives and the findings that cause implies, decided from that
statement before the engine read the excerpt. Groups are collection rounds by kind of source;
a round gathered after the engine last changed measures how well the reader generalises, and
is added here once measured. Shared by the test that keeps the score from falling and by the
benchmark's score line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge import diagnose_text

CORPUS = Path(__file__).parent / "fixtures" / "realworld"
REQUIRED = ("source", "source_kind", "dialect", "cause", "verdict")
KEYS = {*REQUIRED, "classes", "expect", "expect_any", "absent", "note"}
SOURCE_KINDS = {
    "issue-tracker", "forum", "mailing-list", "vendor-doc", "blog", "test-suite", "parser-fixture", "pastebin",
}
CLASSES = {"prefix", "csv", "masked", "wording", "chat", "peer-dialect", "healthy", "never-empty"}


@dataclass(frozen=True)
class Case:
    path: Path
    meta: dict[str, Any]
    body: str

    @property
    def name(self) -> str:
        return str(self.path.relative_to(CORPUS))


@dataclass
class Verdict:
    case: Case
    right: bool
    got: list[str]
    why: str = ""


@dataclass
class Score:
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def right(self) -> int:
        return sum(v.right for v in self.verdicts)

    @property
    def total(self) -> int:
        return len(self.verdicts)

    @property
    def percent(self) -> float:
        return 100.0 * self.right / self.total if self.total else 0.0

    def by(self, key: str) -> dict[str, tuple[int, int]]:
        """(right, total) per value of a front-matter key (a list key counts once per element)."""
        right: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for v in self.verdicts:
            values = v.case.meta.get(key) or ["-"]
            for value in values if isinstance(values, list) else [values]:
                total[value] += 1
                right[value] += v.right
        return {k: (right[k], total[k]) for k in sorted(total)}


def load(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    if not text.startswith("---\n") or not sep:
        raise ValueError(f"{path}: missing front matter")
    return Case(path, yaml.safe_load(head.removeprefix("---\n")) or {}, body)


def cases() -> list[Case]:
    return [load(p) for p in sorted(CORPUS.rglob("*.log"))]


def judge(case: Case) -> Verdict:
    """Right when the expected findings are there, the forbidden ones are not, and the verdict agrees.

    A healthy excerpt must also carry no error-severity finding.
    """
    data = diagnose_text(case.body).model_dump(mode="json")
    got = [f["id"] for f in data["findings"]]
    meta = case.meta
    missing = [i for i in meta.get("expect", []) if i not in got]
    if missing:
        return Verdict(case, False, got, f"missing {missing}")
    if meta.get("expect_any") and not set(meta["expect_any"]) & set(got):
        return Verdict(case, False, got, f"none of {meta['expect_any']}")
    unwanted = [i for i in meta.get("absent", []) if i in got]
    if unwanted:
        return Verdict(case, False, got, f"unwanted {unwanted}")
    if meta["verdict"] == "healthy":
        errors = [f["id"] for f in data["findings"] if f["severity"] == "error"]
        if errors:
            return Verdict(case, False, got, f"error findings on a healthy case {errors}")
    if data["verdict"] != meta["verdict"]:
        return Verdict(case, False, got, f"verdict {data['verdict']}")
    return Verdict(case, True, got)


def score(selected: list[Case] | None = None) -> Score:
    return Score([judge(c) for c in (cases() if selected is None else selected)])


def score_line(result: Score) -> str:
    return f"real-world corpus: {result.right}/{result.total} right ({result.percent:.1f} %)"
