"""Localised words around a diagnosis (verdicts, field labels, states), from the catalog.

All three renderers use these helpers so the shell, the Markdown report and Slack
say the same thing in the same words.
"""

from __future__ import annotations

from bot.locale import ui
from knowledge.library import load_catalog
from knowledge.models import Basis, Diagnosis, Finding, Lang, PeerReport, Severity, Verdict

VERDICT_EMOJI = {
    Verdict.HEALTHY: ":white_check_mark:",
    Verdict.FAILING: ":x:",
    Verdict.DEGRADED: ":warning:",
    Verdict.UNKNOWN: ":grey_question:",
}
SEVERITY_EMOJI = {
    Severity.ERROR: ":red_circle:",
    Severity.WARNING: ":large_orange_circle:",
    Severity.INFO: ":large_blue_circle:",
}


def msg(key: str, lang: Lang, **facts: object) -> str:
    return load_catalog().message(key, lang, **facts)


def label(name: str, lang: Lang) -> str:
    return msg(f"label.{name}", lang)


def compared(finding: Finding, lang: Lang) -> str | None:
    """The two ends' values a configuration check compared (what the JSON carries as mx_value/remote_value)."""
    mx, remote = finding.facts.get("mx_value"), finding.facts.get("remote_value")
    if mx is None or remote is None:
        return None
    line = msg("label.compared", lang, mx=mx, remote=remote)
    parameter = finding.facts.get("parameter")
    return f"{line} ({parameter})" if parameter else line


def verdict(value: Verdict, lang: Lang) -> str:
    """The bare verdict word, for headings; `Diagnosis.summary` carries the sentence."""
    return msg(f"verdict_word.{value.value}", lang)


def headline(diagnosis: Diagnosis) -> str:
    """The summary sentence, led by the verdict word unless the sentence already starts with it."""
    word = verdict(diagnosis.verdict, diagnosis.lang)
    summary = diagnosis.summary.strip()
    return summary if summary.startswith(word) else f"{word}: {summary}"


def severity(value: Severity, lang: Lang) -> str:
    return msg(f"severity.{value.value}", lang)


def basis(value: Basis, lang: Lang) -> str:
    return msg(f"basis.{value.value}", lang)


def phase(value: int | None, lang: Lang) -> str:
    return msg(f"phase.{value}" if value in (1, 2) else "phase.none", lang)


def peer_state(peer: PeerReport, lang: Lang) -> str:
    """A peer and its state; the engine's "unknown" address (no line named one) is said in words."""
    address = msg("peer.unknown", lang) if peer.address == "unknown" else peer.address
    return f"{address} ({msg(f'state.{peer.state.value}', lang)})"


def confidence(finding: Finding) -> str:
    return f"{round(finding.confidence * 100)}%"


def finding_meta(finding: Finding, lang: Lang) -> list[str]:
    """The facts under a finding's title: severity, phase, peer, how it was reached."""
    meta = [f"{label('severity', lang)}: {severity(finding.severity, lang)}"]
    if finding.phase is not None:
        meta.append(phase(finding.phase, lang))
    if finding.peer:
        meta.append(f"{label('peer', lang)}: {finding.peer}")
    meta.append(
        f"{label('basis', lang)}: {basis(finding.basis, lang)}"
        f" ({label('confidence', lang)} {confidence(finding)})"
    )
    return meta


def input_facts(diagnosis: Diagnosis) -> list[str]:
    """What was read: line counts and log formats."""
    lang = diagnosis.lang
    facts = []
    if diagnosis.lines_read or diagnosis.vpn_lines:
        facts += [
            f"{label('lines_read', lang)}: {diagnosis.lines_read}",
            f"{label('vpn_lines', lang)}: {diagnosis.vpn_lines}",
        ]
    if diagnosis.dialects:
        facts.append(f"{label('dialects', lang)}: {', '.join(diagnosis.dialects)}")
    if diagnosis.peers:
        peers = ", ".join(peer_state(p, lang) for p in diagnosis.peers)
        facts.append(f"{label('peers', lang)}: {peers}")
    return facts


def reading_notes(diagnosis: Diagnosis) -> list[str]:
    """The engine's remarks about the input (line order, truncation, whose log it is), without repeats."""
    return list(dict.fromkeys(diagnosis.notes))


def needs_copy_howto(diagnosis: Diagnosis) -> bool:
    """The "how to copy the right log" advice, unless the engine's own note already gives it."""
    return msg("note.no_vpn_lines", diagnosis.lang) not in diagnosis.notes


def looked(diagnosis: Diagnosis, lang: Lang) -> str:
    """What an unrecognised paste held: no VPN line at all, or VPN lines that matched no failure."""
    key = "unknown_looked" if diagnosis.vpn_lines else "unknown_none_looked"
    return ui(key, lang, lines=diagnosis.lines_read, vpn_lines=diagnosis.vpn_lines)
