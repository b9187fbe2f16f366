"""Diagnosis → Markdown, for reports pasted into tickets, wikis and pull requests."""

from __future__ import annotations

import re

from bot.chat import Reply, ReplyKind
from bot.locale import ui
from bot.render import labels
from knowledge.models import Diagnosis, Finding, Lang

_SPECIAL = re.compile(r"[\\*<`]")
_TICKS = re.compile(r"`+")
_VERDICT_MARK = {"healthy": "✅", "failing": "❌", "degraded": "⚠️", "unknown": "❔"}


def _escape(text: str) -> str:
    """Keep log-ish text such as `<conn|id>` or `*` from turning into Markdown markup."""
    return _SPECIAL.sub(r"\\\g<0>", text)


def _fence(lines: list[str]) -> list[str]:
    longest = max((len(run) for line in lines for run in _TICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", *lines, fence]


def finding_markdown(number: int, finding: Finding, lang: Lang) -> list[str]:
    meta = " · ".join(_escape(item) for item in labels.finding_meta(finding, lang))
    out = [f"### {number}. {_escape(finding.title)}", "", meta, ""]
    out += [f"**{labels.label('cause', lang)}:** {_escape(finding.cause)}", ""]
    out += [f"**{labels.label('steps', lang)}:**", ""]
    out += [f"{i}. {_escape(step)}" for i, step in enumerate(finding.steps, 1)]
    if finding.evidence:
        out += ["", f"**{labels.label('evidence', lang)}:**", ""]
        out += _fence([f"L{ev.line}: {ev.text}" for ev in finding.evidence])
    if finding.hints:
        out += ["", f"**{labels.label('hints', lang)}:**", ""]
        out += [f"- {_escape(hint.text)}" for hint in finding.hints]
    return out


def diagnosis_markdown(diagnosis: Diagnosis) -> str:
    lang = diagnosis.lang
    mark = _VERDICT_MARK[diagnosis.verdict.value]
    # The headline sentence starts with the verdict word, so it is the heading (not said twice).
    out = [f"## {mark} {_escape(labels.headline(diagnosis))}", ""]
    out += [f"- {_escape(fact)}" for fact in labels.input_facts(diagnosis)]
    for number, finding in enumerate(diagnosis.findings, 1):
        out.append("")
        out += finding_markdown(number, finding, lang)
    notes = labels.reading_notes(diagnosis)
    if notes:
        out += ["", f"**{labels.label('notes', lang)}:**", ""]
        out += [f"- {_escape(note)}" for note in notes]
    return "\n".join(out) + "\n"


def reply_markdown(reply: Reply) -> str:
    out = [notice.replace("•", "-") for notice in reply.notices]
    if reply.kind is ReplyKind.DIAGNOSIS and reply.diagnosis is not None:
        out.append(diagnosis_markdown(reply.diagnosis))
    elif reply.kind is ReplyKind.UNKNOWN and reply.diagnosis is not None:
        d = reply.diagnosis
        out += [f"## {ui('unknown_title', reply.lang)}"]
        out.append(labels.looked(d, reply.lang))
        if d.notes:
            out.append("\n".join(f"- {_escape(note)}" for note in d.notes))
        if labels.needs_copy_howto(d):
            out.append(ui("unknown_howto", reply.lang))
    return "\n\n".join(part.rstrip("\n") for part in out) + "\n"
