"""The bilingual finding catalog and UI messages: complete, consistent, and really in two languages.

Every check is a function that lists problems, run once on the real catalog (no problems) and
on deliberately broken copies (the expected problem is reported), so none of them can pass
vacuously.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from knowledge import diagnose_text
from knowledge.library import CATALOG_DIR, Catalog, CatalogError, fill, load_catalog, load_catalog_from
from knowledge.models import LANGS
from knowledge.schema import FindingEntry, placeholders

# id -> (severity, phase, basis): the defaults every caller relies on.
CONTRACT: dict[str, tuple[str, int | None, str]] = {
    "tunnel-established": ("info", None, "observed"),
    "phase1-proposal-mismatch": ("error", 1, "observed"),
    "phase2-proposal-mismatch": ("error", 2, "observed"),
    "subnet-mismatch": ("error", 2, "observed"),
    "ike-version-mismatch": ("error", 1, "observed"),
    "aggressive-mode": ("error", 1, "observed"),
    "peer-not-configured": ("error", 1, "observed"),
    "peer-unresponsive": ("error", 1, "observed"),
    "psk-mismatch": ("error", 1, "observed"),
    "pfs-mismatch": ("error", 2, "observed"),
    "id-mismatch": ("error", 1, "observed"),
    "nat-t-blocked": ("error", 1, "inferred"),
    "dead-peer": ("error", None, "observed"),
    "lifetime-mismatch": ("warning", 2, "inferred"),
    "partial-host-reachability": ("warning", None, "symptom"),
    "phase1-not-established": ("error", 1, "inferred"),
    "phase2-not-established": ("error", 2, "inferred"),
    "ikev2-unsupported-firmware": ("error", 1, "config"),
    "weak-crypto": ("warning", None, "config"),
    "no-traffic-through-tunnel": ("warning", 2, "inferred"),
    "stale-sa": ("warning", None, "observed"),
    "certificate-auth": ("error", 1, "observed"),
    "uplink-failover": ("warning", None, "config"),
}

# Facts the engine always supplies for config findings; no other finding may declare any.
ALWAYS_FACTS = {
    "ikev2-unsupported-firmware": {"firmware"},
    "weak-crypto": {"weak"},
    "uplink-failover": {"uplink"},
}

# Measured-value hints the engine relies on: (finding, vendor, needs).
REQUIRED_HINTS = [
    ("lifetime-mismatch", "any", {"interval"}),
    ("subnet-mismatch", "azure", {"supernet", "subnets"}),
    ("subnet-mismatch", "any", {"local_ts", "remote_ts"}),
    ("subnet-mismatch", "azure", set()),
    ("phase1-proposal-mismatch", "any", {"proposals_received", "proposals_configured"}),
    ("phase1-proposal-mismatch", "any", {"parameter", "mx_value", "remote_value"}),
    ("phase1-proposal-mismatch", "gcp", set()),
    ("phase2-proposal-mismatch", "any", {"proposals_received", "proposals_configured"}),
    ("phase2-proposal-mismatch", "any", {"parameter", "mx_value", "remote_value"}),
    ("phase2-proposal-mismatch", "gcp", set()),
    ("pfs-mismatch", "any", {"my", "peer_value"}),
    ("peer-not-configured", "any", {"source_ip"}),
    ("id-mismatch", "any", {"remote_id"}),
    ("psk-mismatch", "any", {"notify"}),
    ("peer-unresponsive", "gcp", set()),
    ("peer-unresponsive", "any", {"retransmits"}),
    ("dead-peer", "gcp", set()),
    ("dead-peer", "any", {"retransmits"}),
    ("ikev2-unsupported-firmware", "gcp", set()),
]

# key -> the placeholders its text must carry, in both languages.
REQUIRED_MESSAGES: dict[str, set[str]] = {
    "verdict.healthy": {"peers"},
    "verdict.failing": {"count", "peers"},
    "verdict.degraded": {"count"},
    "verdict.unknown": set(),
    **{
        f"label.{name}": set()
        for name in (
            "verdict", "phase", "peer", "cause", "steps", "evidence", "hints", "confidence",
            "basis", "state", "peers", "findings", "line", "summary",
        )
    },
    **{f"basis.{name}": set() for name in ("observed", "inferred", "config", "symptom")},
    **{f"state.{name}": set() for name in ("up", "down", "flapping", "unknown")},
    **{f"severity.{name}": set() for name in ("error", "warning", "info")},
    **{f"phase.{name}": set() for name in ("1", "2", "none")},
    **{f"order.{name}": set() for name in ("newest-first", "chronological", "unknown")},
    "note.no_vpn_lines": set(),
    "note.empty": set(),
    "note.binary": set(),
    "note.invalid_utf8": set(),
    "note.long_line": {"line"},
    "note.too_large": {"limit"},
    "note.json_unrecognised": set(),
    "note.peer_side": set(),
    "note.cause_hidden": set(),
    "hint.azure_supernet": {"supernet", "subnets"},
    "hint.gcp": set(),
    "measured.interval": {"interval"},
}

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana and kanji
NOT_ENGLISH = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")  # plus CJK and full-width punctuation
NUMBERED = re.compile(r"^\s*(?:\d+|[a-z])\s*[.)、．]")
SENTENCE_END = {"en": (".", ")"), "ja": ("。", "）")}

Problems = list[str]


def _pairs(catalog: Catalog) -> Iterator[tuple[str, dict[str, str]]]:
    """Every bilingual text unit as (where, {lang: text})."""
    for fid, entry in catalog.findings.items():
        yield f"{fid} title", {lang: getattr(entry, lang).title for lang in LANGS}
        yield f"{fid} cause", {lang: getattr(entry, lang).cause for lang in LANGS}
        for i, _ in enumerate(entry.en.steps):
            yield f"{fid} step {i + 1}", {lang: _nth(getattr(entry, lang).steps, i) for lang in LANGS}
        for i, hint in enumerate(entry.hints):
            yield f"{fid} hint {i + 1} ({hint.vendor})", {"en": hint.en, "ja": hint.ja}
    for key, text in catalog.messages.items():
        yield f"message {key}", {"en": text.en, "ja": text.ja}


def _nth(items: list[str], index: int) -> str:
    return items[index] if index < len(items) else ""


def missing_contract(catalog: Catalog) -> Problems:
    problems = [f"missing finding {fid}" for fid in CONTRACT if fid not in catalog.findings]
    for fid, (severity, phase, basis) in CONTRACT.items():
        entry = catalog.findings.get(fid)
        if entry and (entry.severity.value, entry.phase, entry.basis.value) != (severity, phase, basis):
            problems.append(f"{fid}: defaults {entry.severity.value}/{entry.phase}/{entry.basis.value}")
        if entry and set(entry.facts) != ALWAYS_FACTS.get(fid, set()):
            problems.append(f"{fid}: declares facts {entry.facts}")
    for fid, vendor, needs in REQUIRED_HINTS:
        entry = catalog.findings.get(fid)
        if entry and not any(h.vendor == vendor and set(h.needs) == needs for h in entry.hints):
            problems.append(f"{fid}: no {vendor} hint needing {sorted(needs)}")
    problems += [f"missing message {key}" for key in REQUIRED_MESSAGES if key not in catalog.messages]
    return problems


def empty_texts(catalog: Catalog) -> Problems:
    return [
        f"{where}: empty {lang}"
        for where, texts in _pairs(catalog)
        for lang in LANGS
        if not texts[lang].strip()
    ]


def language_mixups(catalog: Catalog) -> Problems:
    problems = []
    for where, texts in _pairs(catalog):
        if texts["ja"].strip() and not JAPANESE.search(texts["ja"]):
            problems.append(f"{where}: ja text has no Japanese")
        if NOT_ENGLISH.search(texts["en"]):
            problems.append(f"{where}: en text has Japanese characters")
    return problems


def placeholder_mismatches(catalog: Catalog) -> Problems:
    problems = []
    for where, texts in _pairs(catalog):
        en, ja = placeholders(texts["en"]), placeholders(texts["ja"])
        if en != ja:
            problems.append(f"{where}: placeholders differ, en {sorted(en)} ja {sorted(ja)}")
    for key, wanted in REQUIRED_MESSAGES.items():
        text = catalog.messages.get(key)
        if text and placeholders(text.en) != wanted:
            found = sorted(placeholders(text.en))
            problems.append(f"message {key}: placeholders {found}, want {sorted(wanted)}")
    return problems


def shape_problems(catalog: Catalog) -> Problems:
    """Step counts, no hand-made numbering (renderers number steps), whole sentences."""
    problems = []
    for fid, entry in catalog.findings.items():
        for lang in LANGS:
            local = getattr(entry, lang)
            if not 3 <= len(local.steps) <= 7:
                problems.append(f"{fid} {lang}: {len(local.steps)} steps, want 3-7")
            for text in local.steps:
                if NUMBERED.match(text):
                    problems.append(f"{fid} {lang}: numbered step {text[:20]!r}")
            for text in [local.cause, *local.steps]:
                if not text.rstrip().endswith(SENTENCE_END[lang]):
                    problems.append(f"{fid} {lang}: unfinished sentence {text[-20:]!r}")
        if len(entry.en.steps) != len(entry.ja.steps):
            problems.append(f"{fid}: step counts differ")
    return problems


CHECKS: list[Callable[[Catalog], Problems]] = [
    missing_contract,
    empty_texts,
    language_mixups,
    placeholder_mismatches,
    shape_problems,
]


def all_problems(catalog: Catalog) -> Problems:
    return [problem for check in CHECKS for problem in check(catalog)]


def problems_in(directory: Path) -> Problems:
    """What is wrong with a catalog directory, whether the loader or a check notices."""
    try:
        catalog = load_catalog_from(directory)
    except (CatalogError, ValueError) as exc:
        return [str(exc)]
    return all_problems(catalog)


# --- the real catalog ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog_from(CATALOG_DIR)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_real_catalog_passes(catalog: Catalog, check: Callable[[Catalog], Problems]) -> None:
    assert check(catalog) == []


def test_one_file_per_finding_named_after_its_id() -> None:
    stems = {p.stem for p in (CATALOG_DIR / "findings").glob("*.yaml")}
    assert stems >= set(CONTRACT)
    for path in (CATALOG_DIR / "findings").glob("*.yaml"):
        assert FindingEntry.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).id == path.stem


def test_cached_loader_reads_the_same_catalog(catalog: Catalog) -> None:
    cached = load_catalog()
    assert cached is load_catalog()
    assert cached.findings.keys() == catalog.findings.keys()
    assert cached.messages.keys() == catalog.messages.keys()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("finding_id", sorted(CONTRACT))
def test_every_finding_builds_fully_filled(catalog: Catalog, finding_id: str, lang: str) -> None:
    entry = catalog.entry(finding_id)
    facts = {name: f"<{name}>" for name in entry.facts}
    facts |= {name: f"<{name}>" for hint in entry.hints for name in hint.needs}
    vendors = {hint.vendor for hint in entry.hints}
    finding = catalog.build(finding_id, lang, peer="192.0.2.1", facts=facts, vendors=vendors)
    assert len(finding.hints) == len(entry.hints)
    for text in [finding.title, finding.cause, *finding.steps, *(h.text for h in finding.hints)]:
        assert "{" not in text and "}" not in text, text


def test_measured_hint_shows_only_with_its_fact(catalog: Catalog) -> None:
    measured = catalog.build("lifetime-mismatch", "ja", facts={"interval": "1時間"})
    assert any("1時間" in hint.text and JAPANESE.search(hint.text) for hint in measured.hints)
    bare = catalog.build("lifetime-mismatch", "ja")
    assert all("1時間" not in hint.text for hint in bare.hints)
    assert len(bare.hints) < len(measured.hints)


def test_vendor_hints_follow_the_vendor(catalog: Catalog) -> None:
    facts = {"supernet": "192.168.0.0/19", "subnets": "192.168.10.0/24"}
    azure = catalog.build("subnet-mismatch", "en", facts=facts, vendors=["azure"])
    texts = [hint.text for hint in azure.hints]
    assert any("192.168.0.0/19" in t and "192.168.10.0/24" in t for t in texts)
    assert any("vMX" in t for t in texts)
    plain = catalog.build("subnet-mismatch", "en", facts={"supernet": "192.168.0.0/19", "subnets": "x"})
    assert all(hint.vendor == "any" for hint in plain.hints)


def test_config_finding_carries_its_fact_into_both_languages(catalog: Catalog) -> None:
    for lang in LANGS:
        finding = catalog.build("ikev2-unsupported-firmware", lang, facts={"firmware": "MX 15.8"})
        assert "MX 15.8" in finding.title and "MX 15.8" in finding.cause


@pytest.mark.parametrize("lang", LANGS)
def test_messages_fill_their_placeholders(catalog: Catalog, lang: str) -> None:
    for key, wanted in REQUIRED_MESSAGES.items():
        text = catalog.message(key, lang, **{name: "X" for name in wanted})
        assert text.strip() and "{" not in text, key


# --- broken copies: each corruption must be reported --------------------------------------------


def _edit(path: Path, change: Callable[[object], object]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(change(data), allow_unicode=True, sort_keys=False), encoding="utf-8")


def _finding(name: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        def mutate(data: object) -> object:
            assert isinstance(data, dict)
            change(data)
            return data

        _edit(root / "findings" / f"{name}.yaml", mutate)

    return apply


def _message(key: str, value: dict[str, str]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        def mutate(data: object) -> object:
            assert isinstance(data, dict)
            data[key] = value
            return data

        _edit(root / "messages.yaml", mutate)

    return apply


def _delete_finding(root: Path) -> None:
    (root / "findings" / "weak-crypto.yaml").unlink()


def _rename_finding(root: Path) -> None:
    (root / "findings" / "stale-sa.yaml").rename(root / "findings" / "stale-sas.yaml")


def _signature_for_unknown_finding(root: Path) -> None:
    (root / "signatures").mkdir(exist_ok=True)
    broken = [
        {
            "id": "zz-broken",
            "dialect": "racoon",
            "keywords": ["zz broken"],
            "pattern": "^zz broken",
            "event": "fail",
            "finding": "no-such-finding",
        }
    ]
    (root / "signatures" / "zz-broken.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")


def _swap_languages(data: dict) -> None:
    data["en"]["title"], data["ja"]["title"] = data["ja"]["title"], data["en"]["title"]


CORRUPTIONS: list[tuple[str, Callable[[Path], None], str]] = [
    ("contract id missing", _delete_finding, "weak-crypto"),
    ("file name differs from id", _rename_finding, "does not match the file name"),
    ("language missing", _finding("psk-mismatch", lambda d: d.pop("ja")), "Field required"),
    ("blank cause", _finding("psk-mismatch", lambda d: d["ja"].update(cause=" " * 12)), "empty ja"),
    ("blank step", _finding("dead-peer", lambda d: d["en"]["steps"].__setitem__(0, "   ")), "empty en"),
    ("step counts differ", _finding("pfs-mismatch", lambda d: d["ja"]["steps"].pop()), "step lists differ"),
    (
        "undeclared placeholder",
        _finding("psk-mismatch", lambda d: d["en"].update(title="Key mismatch on {interval}")),
        "undeclared placeholder",
    ),
    (
        "hint placeholder outside needs",
        _finding("lifetime-mismatch", lambda d: d["hints"][0].update(needs=[])),
        "not in needs",
    ),
    ("signature names unknown finding", _signature_for_unknown_finding, "unknown finding 'no-such-finding'"),
    ("Japanese in English slot", _finding("aggressive-mode", _swap_languages), "has no Japanese"),
    (
        "placeholders differ between languages",
        _finding("lifetime-mismatch", lambda d: d["hints"][0].update(ja="実測値があります。")),
        "placeholders differ",
    ),
    (
        "hand-numbered step",
        _finding("nat-t-blocked", lambda d: d["en"]["steps"].__setitem__(0, "1. Allow UDP 4500.")),
        "numbered step",
    ),
    ("message language missing", _message("label.cause", {"en": "Cause"}), "Field required"),
    ("message language empty", _message("label.cause", {"en": "Cause", "ja": ""}), "empty ja"),
    (
        "message placeholder wrong",
        _message("note.long_line", {"en": "Line {n}", "ja": "{n} 行目"}),
        "want ['line']",
    ),
    (
        "message key missing",
        lambda root: _edit(root / "messages.yaml", lambda d: _without(d, "hint.gcp")),
        "missing message hint.gcp",
    ),
]


def _without(data: object, key: str) -> object:
    assert isinstance(data, dict)
    data.pop(key)
    return data


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root)
    assert problems_in(root) == []
    return root


@pytest.mark.parametrize(
    ("corrupt", "expected"), [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS]
)
def test_broken_copy_is_reported(catalog_copy: Path, corrupt: Callable[[Path], None], expected: str) -> None:
    corrupt(catalog_copy)
    problems = problems_in(catalog_copy)
    assert any(expected in problem for problem in problems), problems


def test_checks_see_a_finding_removed_in_memory(catalog: Catalog) -> None:
    findings = {fid: entry for fid, entry in catalog.findings.items() if fid != "tunnel-established"}
    reduced = dataclasses.replace(catalog, findings=findings)
    assert missing_contract(reduced) == ["missing finding tunnel-established"]


def test_english_counts_agree_with_their_nouns() -> None:
    assert fill("{n} {n|problem|problems}", {"n": "1"}) == "1 problem"
    assert fill("{n} {n|problem|problems}", {"n": "0"}) == "0 problems"
    assert placeholders("{n} {n|time|times} to {peer}") == {"n", "peer"}
    one = diagnose_text("Jul 22 10:15:04      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: HASH mismatched")
    assert "1 problem found" in one.summary and "(s)" not in one.summary


def test_the_version_mismatch_steps_stay_on_the_version() -> None:
    """invalid flag 0x08 says the IKE versions differ; main/aggressive mode is another finding's advice."""
    entry = load_catalog().entry("ike-version-mismatch")
    assert not any("aggressive" in step or "main mode" in step for step in entry.en.steps)
    assert not any("アグレッシブ" in step for step in entry.ja.steps)
