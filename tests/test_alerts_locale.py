"""Every alert text exists in English and Japanese, the code asks only for texts that exist, and a
Japanese rendering of every message kind carries no English alert wording."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

import pytest

from bot.alerts.models import Ack, AlertSeverity, Incident, IncidentPeer, Mute, UplinkState
from bot.alerts.render import alert_message, duration, mute_note, reachability_word, recovery_message, uplink_lines
from bot.locale.alerts import load_alert_locale
from knowledge.schema import placeholders
from tests.alerts_harness import block_texts, english_leaks

ROOT = Path(__file__).resolve().parents[1]
ALERT_CODE = [*sorted((ROOT / "bot" / "alerts").rglob("*.py")), ROOT / "handlers" / "alert_actions.py"]
# Keys built at run time from a value: the severity, the Dashboard's reachability, an uplink status.
DYNAMIC_PREFIXES = ("severity_", "reach_", "uplink_")
JAPANESE = re.compile("[\u3000-\u303f\u3040-\u30ff\u4e00-\u9fff\uff00-\uffef]")


@pytest.mark.parametrize("key", load_alert_locale().keys)
def test_every_alert_text_has_both_languages_with_the_same_placeholders(key: str) -> None:
    locale = load_alert_locale()
    en, ja = locale.raw(key, "en"), locale.raw(key, "ja")
    assert en.strip() and ja.strip()
    assert placeholders(en) == placeholders(ja)
    assert JAPANESE.search(ja), f"{key}: the Japanese text is not Japanese"
    assert en != ja


def _trees() -> dict[str, ast.Module]:
    return {str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8")) for path in ALERT_CODE}


def _strings(tree: ast.Module) -> list[str]:
    """String constants in the code, docstrings left out (they are prose for developers)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def _asked_keys(tree: ast.Module) -> set[str]:
    """Keys passed first to `alert_ui`, `field` or `button`; both branches of an `x if c else y`."""
    asked: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in ("alert_ui", "field", "button"):
            continue
        first = node.args[0]
        options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
        asked |= {o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str)}
    return asked


def test_the_code_asks_only_for_texts_that_exist_and_every_text_is_used() -> None:
    keys = set(load_alert_locale().keys)
    trees = _trees()
    asked = set().union(*(_asked_keys(t) for t in trees.values()))
    assert len(asked) > 40, "the scan finds the texts the code asks for"
    assert asked - keys == set(), "texts the code asks for but alerts.yaml lacks"
    mentioned = {s for t in trees.values() for s in _strings(t)}
    unused = {k for k in keys - mentioned if not k.startswith(DYNAMIC_PREFIXES)}
    assert unused == set(), "texts nothing asks for"
    for severity in get_args(AlertSeverity):
        assert f"severity_{severity}" in keys


def test_no_alert_wording_is_left_in_the_python_code() -> None:
    """A quoted English phrase of an alert text inside the code would bypass the language setting."""
    phrases = [p for p in _english_phrases() if " " in p]
    for name, tree in _trees().items():
        leaked = sorted({p for s in _strings(tree) for p in phrases if p in s})
        assert leaked == [], f"{name}: {leaked}"


def _english_phrases() -> set[str]:
    locale = load_alert_locale()
    phrases = set()
    for key in locale.keys:
        for part in re.split(r"\{[a-z_]+\}", re.sub(r":[a-z_]+:", "", locale.raw(key, "en"))):
            phrase = part.strip(" *().,;:–-\n")
            if len(phrase) >= 8:
                phrases.add(phrase)
    return phrases


def _incident(**changes: object) -> Incident:
    values: dict[str, object] = {
        "network_id": "N_1",
        "network_name": "Tokyo DC",
        "channel": "C1",
        "peers": [
            IncidentPeer(name="azure-prod-vnet", public_ip="203.0.113.10", down_since=1_700_000_000.0),
            IncidentPeer(name="singapore-colo", public_ip="203.0.113.20", down_since=1_700_000_060.0),
        ],
        "opened_at": 1_700_000_100.0,
        "severity": "critical",
        "uplinks": [
            UplinkState(interface="wan1", status="failed"),
            UplinkState(interface="wan2", status="active", public_ip="198.51.100.2"),
            UplinkState(interface="cellular", status="not connected"),
        ],
        "demo": True,
    }
    values.update(changes)
    return Incident(**values)  # type: ignore[arg-type]


def _every_message(lang: str) -> list[str]:
    """The visible texts of every message kind the alerts render, in one language."""
    down = _incident()
    resolved = _incident()
    for n, peer in enumerate(resolved.peers):
        peer.recovered_at = 1_700_003_700.0 + n
    resolved.resolved_at = 1_700_003_701.0
    single = _incident(peers=[IncidentPeer(name="paris-asa", down_since=1_700_000_000.0)], severity="warning")
    ack = Ack(user="U1", at=1_700_000_200.0)
    mutes = [Mute(key="N_1|azure-prod-vnet", until=1_700_003_600.0, by="U2"),
             Mute(key="N_1|singapore-colo", until=1_700_003_600.0)]
    rendered = [
        alert_message(down, ack, mutes, lang),  # type: ignore[arg-type]
        alert_message(resolved, None, (), lang),  # type: ignore[arg-type]
        alert_message(single, None, (), lang),  # type: ignore[arg-type]
        recovery_message(resolved, resolved.peers[1], lang),  # type: ignore[arg-type]
        mute_note(["azure-prod-vnet", "singapore-colo"], "U2", 1_700_003_600.0, lang),  # type: ignore[arg-type]
    ]
    out: list[str] = []
    for text, blocks in rendered:
        out += [text, *block_texts(blocks)]
    return out


def test_japanese_messages_carry_no_english_alert_wording() -> None:
    texts = _every_message("ja")
    assert english_leaks(texts) == []
    joined = "\n".join(texts)
    for expected in ("解決済み", "VPN ピア 2 件がダウン", "重大", "確認済み", "ミュート", "デモ組織", "アップリンク",
                     "障害", "使用中", "未接続", "再診断", "1 時間ミュート", "ダウン時間 1 時間 1 分"):
        assert expected in joined, expected


def test_english_messages_read_as_before() -> None:
    joined = "\n".join(_every_message("en"))
    for expected in ("2 VPN peers down on Tokyo DC", "Resolved: 2 VPN peers on Tokyo DC", "VPN peer down: paris-asa",
                     "Acknowledged by <@U1>", "muted by <@U2> until", "wan2: active 198.51.100.2",
                     "cellular: not connected", "Every peer of this alert is back; the incident lasted 1 h 1 min",
                     "Diagnose again", "Acknowledge", "Mute 1 h"):
        assert expected in joined, expected


@pytest.mark.parametrize(
    ("seconds", "en", "ja"),
    [(40, "40 s", "40 秒"), (600, "10 min", "10 分"), (725, "12 min 5 s", "12 分 5 秒"), (3600, "1 h", "1 時間"),
     (3900, "1 h 5 min", "1 時間 5 分"), (-3, "0 s", "0 秒")],
)
def test_durations(seconds: float, en: str, ja: str) -> None:
    assert duration(seconds, "en") == en
    assert duration(seconds, "ja") == ja


def test_dashboard_values_in_words_and_unknown_ones_as_they_are() -> None:
    assert reachability_word("unreachable", "ja") == "到達不能"
    assert reachability_word("reachable", "en") == "reachable"
    assert reachability_word(None, "ja") == "報告なし"
    assert reachability_word("degraded", "ja") == "degraded"
    assert uplink_lines([], "ja") == ["アップリンクの状態は報告されていません"]
    assert uplink_lines([UplinkState(interface="wan1", status="connecting")], "ja") == [":red_circle: wan1: connecting"]
