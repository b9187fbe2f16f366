"""Dashboard data read one item at a time, so one odd item costs only itself.

The Dashboard answers with whatever shape its firmware and API version produce; a
peer without a name must not take the other peers (or the start-up) with it. Errors
are described by field and kind only: the input of a peer list holds pre-shared keys.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def describe(error: ValidationError) -> str:
    """Where and how validation failed, never with what value."""
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or '(item)'}: {e['type']}"
        for e in error.errors(include_input=False, include_url=False, include_context=False)
    )


def valid_items(model: type[M], raw: Any, what: str) -> list[M]:
    """Each item of `raw` that `model` accepts; the others are skipped with a warning naming their index."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        log.warning("dashboard %s: expected a list, got %s; read as empty", what, type(raw).__name__)
        return []
    items: list[M] = []
    for index, item in enumerate(raw):
        try:
            items.append(model.model_validate(item))
        except ValidationError as error:
            log.warning("dashboard %s: skipped item %d (%s)", what, index, describe(error))
    return items


def unique(items: list[Any]) -> list[Any]:
    """Items in order with exact repeats dropped (a paginator that serves a page twice)."""
    seen: set[str] = set()
    kept: list[Any] = []
    for item in items:
        key = json.dumps(item, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept
