"""A symptom sentence that names hosts gets steps that use them."""

from __future__ import annotations

from knowledge import diagnose_text


def test_named_working_and_failing_hosts_are_used_in_the_advice() -> None:
    d = diagnose_text("10.1.5.20 works, 10.1.5.40 doesn't")
    finding = next(f for f in d.findings if f.id == "partial-host-reachability")
    assert finding.facts["working_host"] == "10.1.5.20"
    assert finding.facts["failing_host"] == "10.1.5.40"
    assert any("10.1.5.40" in h.text and "10.1.5.20" in h.text for h in finding.hints)


def test_the_advice_is_in_japanese_too() -> None:
    d = diagnose_text("10.1.5.20 works, 10.1.5.40 doesn't", lang="ja")
    finding = next(f for f in d.findings if f.id == "partial-host-reachability")
    assert any("10.1.5.40" in h.text and "デフォルトゲートウェイ" in h.text for h in finding.hints)


def test_a_sentence_without_two_hosts_gets_no_host_hint() -> None:
    d = diagnose_text("only some hosts can reach the other side")
    finding = next(f for f in d.findings if f.id == "partial-host-reachability")
    assert "failing_host" not in finding.facts
