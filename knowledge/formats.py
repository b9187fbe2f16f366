"""The line wrappers of catalog/formats.yaml, compiled once and grouped by the stage that tries them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import TypeAdapter

from knowledge.schema import LineFormat

FORMATS_FILE = Path(__file__).parent / "catalog" / "formats.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Wrapper:
    spec: LineFormat
    regex: re.Pattern[str]
    starts: frozenset[str]


@cache
def _all_wrappers() -> tuple[Wrapper, ...]:
    """The file is read and validated once, whatever the number of stages that ask."""
    specs = TypeAdapter(list[LineFormat]).validate_python(
        yaml.load(FORMATS_FILE.read_text(encoding="utf-8"), Loader=_Loader)
    )
    return tuple(Wrapper(spec, re.compile(spec.pattern, re.I), frozenset(spec.starts)) for spec in specs)


@cache
def wrappers(stage: str) -> tuple[Wrapper, ...]:
    return tuple(w for w in _all_wrappers() if w.spec.stage == stage)


def first_match(stage: str, line: str) -> tuple[Wrapper, re.Match[str]] | None:
    """The first wrapper of `stage` that starts the line, with its match."""
    head = line[:1]
    for wrapper in wrappers(stage):
        if head in wrapper.starts:
            m = wrapper.regex.match(line)
            if m:
                return wrapper, m
    return None
