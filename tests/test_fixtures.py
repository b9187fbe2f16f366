"""The fixture corpus as a specification: every pasted log must yield the findings its front matter names.

Each file under tests/fixtures/logs/<finding-id>/ holds one case: a YAML front matter block
(expectations) and the body exactly as a user would paste it. The format is described in
tests/fixtures/README.md. The corpus was written from the reference material, independently of the
engine, so a failure here means the engine (or, rarely, a case) disagrees with the reference.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge import diagnose_text

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
CASES = sorted(FIXTURES.rglob("*.log"))

# Contract finding IDs that can be observed in logs or symptom text (config-only checks excluded).
LOG_FINDING_IDS = (
    "tunnel-established",
    "phase1-proposal-mismatch",
    "phase2-proposal-mismatch",
    "subnet-mismatch",
    "ike-version-mismatch",
    "aggressive-mode",
    "peer-not-configured",
    "peer-unresponsive",
    "psk-mismatch",
    "pfs-mismatch",
    "id-mismatch",
    "nat-t-blocked",
    "dead-peer",
    "lifetime-mismatch",
    "partial-host-reachability",
    "phase1-not-established",
    "phase2-not-established",
    "no-traffic-through-tunnel",
    "stale-sa",
    "certificate-auth",
    "uplink-failover",
)
CONFIG_ONLY_IDS = ("ikev2-unsupported-firmware", "weak-crypto")
NO_FINDINGS_DIR = "no-findings"
DIALECTS = ("dashboard", "syslog", "api", "charon-mx", "strongswan", "libreswan", "asa", "paloalto", "text")
KEYS = {
    "expect", "expect_any", "absent", "phase", "peer", "verdict", "states", "evidence_lines", "order", "note",
}
NAME = re.compile(r"^(?P<dialect>[a-z-]+?)-(?P<kind>positive|nearmiss)(?:-\d+)?\.log$")


def load_case(path: Path) -> tuple[dict[str, Any], str]:
    """Split a fixture into its front matter (dict) and the pasted body."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    assert text.startswith("---\n") and sep, f"{path.name}: missing front matter"
    meta = yaml.safe_load(head.removeprefix("---\n")) or {}
    return meta, body


def case_id(path: Path) -> str:
    return str(path.relative_to(FIXTURES))


def _describe(findings: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{f['id']}(phase={f['phase']}, peer={f['peer']}, lines={[e['line'] for e in f['evidence']]})"
        for f in findings
    ) or "no findings"


def _matches(finding: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Does one finding satisfy the optional phase/peer/evidence expectations of the case?"""
    if "phase" in meta and finding["phase"] != meta["phase"]:
        return False
    if "peer" in meta and finding["peer"] != meta["peer"]:
        return False
    lines = {e["line"] for e in finding["evidence"]}
    return set(meta.get("evidence_lines", [])) <= lines


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_fixture(path: Path) -> None:
    meta, body = load_case(path)
    data = diagnose_text(body).model_dump(mode="json")
    findings = data["findings"]
    ids = [f["id"] for f in findings]
    seen = _describe(findings)

    missing = [i for i in meta.get("expect", []) if i not in ids]
    assert not missing, f"missing {missing}; got {seen}"
    unwanted = [i for i in meta.get("absent", []) if i in ids]
    assert not unwanted, f"must not report {unwanted}; got {seen}"
    if meta.get("expect_any"):
        assert set(meta["expect_any"]) & set(ids), f"expected one of {meta['expect_any']}; got {seen}"

    if meta.get("expect") and ({"phase", "peer", "evidence_lines"} & meta.keys()):
        first = meta["expect"][0]
        candidates = [f for f in findings if f["id"] == first]
        assert any(_matches(f, meta) for f in candidates), (
            f"no {first} finding with phase={meta.get('phase')}, peer={meta.get('peer')}, "
            f"evidence ⊇ {meta.get('evidence_lines', [])}; got {seen}"
        )

    if "verdict" in meta:
        assert data["verdict"] == meta["verdict"], f"verdict {data['verdict']}; findings {seen}"
    if "order" in meta:
        assert data["order"] == meta["order"]
    states = {p["address"]: p["state"] for p in data["peers"]}
    for address, state in (meta.get("states") or {}).items():
        assert states.get(address) == state, f"peer {address}: {states.get(address)} (all: {states})"

    body_lines = body.splitlines()
    for f in findings:
        for ev in f["evidence"]:
            assert 1 <= ev["line"] <= len(body_lines), f"{f['id']}: evidence line {ev['line']} outside the input"


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_fixture_front_matter(path: Path) -> None:
    """Every case is well-formed and filed where its expectations say it belongs."""
    meta, body = load_case(path)
    assert set(meta) <= KEYS, f"unknown keys {set(meta) - KEYS}"
    assert isinstance(meta.get("note"), str) and meta["note"].strip(), "each case explains itself in note:"
    assert body.strip(), "empty body"
    match = NAME.match(path.name)
    assert match and match["dialect"] in DIALECTS, f"bad file name {path.name}"
    folder = path.parent.name
    assert folder in (*LOG_FINDING_IDS, NO_FINDINGS_DIR), f"unknown folder {folder}"
    named = [*meta.get("expect", []), *meta.get("expect_any", []), *meta.get("absent", [])]
    assert set(named) <= set(LOG_FINDING_IDS), f"unknown ids {set(named) - set(LOG_FINDING_IDS)}"
    assert not set(meta.get("expect", [])) & set(meta.get("absent", [])), "an id is both expected and absent"
    if folder == NO_FINDINGS_DIR:
        assert meta.get("verdict") == "unknown" and not meta.get("expect")
    elif match["kind"] == "positive":
        assert folder in meta.get("expect", []), "a positive case expects its folder's id"
    else:
        assert folder in meta.get("absent", []), "a near-miss case forbids its folder's id"


@pytest.mark.parametrize("finding_id", LOG_FINDING_IDS)
def test_every_log_finding_has_positive_and_nearmiss(finding_id: str) -> None:
    names = [p.name for p in CASES if p.parent.name == finding_id]
    assert any("-positive" in n for n in names), f"{finding_id}: no positive fixture"
    assert any("-nearmiss" in n for n in names), f"{finding_id}: no near-miss fixture"


@pytest.mark.parametrize("finding_id", LOG_FINDING_IDS)
def test_every_dialect_pairs_positive_with_nearmiss(finding_id: str) -> None:
    """A dialect that shows a finding must also show its trap, and a trap needs the real thing beside it."""
    kinds: dict[str, set[str]] = {}
    for path in CASES:
        match = NAME.match(path.name)
        if path.parent.name == finding_id and match:
            kinds.setdefault(match["dialect"], set()).add(match["kind"])
    incomplete = {dialect: sorted(found) for dialect, found in kinds.items() if found != {"positive", "nearmiss"}}
    assert not incomplete, f"{finding_id}: dialects with only one side {incomplete}"


def test_config_only_ids_have_no_log_fixtures() -> None:
    assert not [p for p in CASES if p.parent.name in CONFIG_ONLY_IDS]
