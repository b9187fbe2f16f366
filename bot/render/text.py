"""Diagnosis → plain text, for the terminal (shell, CLI) and the report file attached in Slack."""

from __future__ import annotations

import re

from bot.chat import Reply, ReplyKind
from bot.locale import ui
from bot.render import labels
from bot.render.wrap import wrap
from knowledge.models import Diagnosis, Finding, Lang

WIDTH = 100
_MRKDWN_BOLD = re.compile(r"\*([^*\n]+)\*")
_MRKDWN_CODE = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":[a-z0-9_+-]+:\s*")


def plain(text: str) -> str:
    """Drop the little Slack mrkdwn our own texts use (bold, inline code)."""
    return _MRKDWN_CODE.sub(r"\1", _MRKDWN_BOLD.sub(r"\1", text))


def _wrap(text: str, indent: str, first: str | None = None) -> list[str]:
    """Wrap at WIDTH display columns (a Japanese character takes two), never inside a number or a path."""
    return wrap(text, WIDTH, first if first is not None else indent, indent)


def finding_text(number: int, finding: Finding, lang: Lang) -> list[str]:
    meta = " · ".join(labels.finding_meta(finding, lang))
    out = [f"{number}. {finding.title}", f"   {meta}"]
    if (values := labels.compared(finding, lang)) is not None:
        out += _wrap(values, "     ", "   ")
    out += _wrap(finding.cause, "   ", f"   {labels.label('cause', lang)}: ")
    out.append(f"   {labels.label('steps', lang)}:")
    for i, step in enumerate(finding.steps, 1):
        out += _wrap(step, "        ", f"     {i}. ")
    if finding.evidence:
        out.append(f"   {labels.label('evidence', lang)}:")
        out += [f"     L{ev.line:<5} {ev.text}" for ev in finding.evidence]
    if finding.hints:
        out.append(f"   {labels.label('hints', lang)}:")
        for hint in finding.hints:
            out += _wrap(hint.text, "       ", "     - ")
    return out


def diagnosis_text(diagnosis: Diagnosis) -> str:
    lang = diagnosis.lang
    out = [labels.headline(diagnosis)]
    out.append(" · ".join(labels.input_facts(diagnosis)))
    for number, finding in enumerate(diagnosis.findings, 1):
        out.append("")
        out += finding_text(number, finding, lang)
    notes = labels.reading_notes(diagnosis)
    if notes:
        out += ["", f"{labels.label('notes', lang)}:"]
        for note in notes:
            out += _wrap(note, "  ", "- ")
    return "\n".join(out)


def unknown_text(reply: Reply) -> list[str]:
    diagnosis = reply.diagnosis
    assert diagnosis is not None
    lang = reply.lang
    out = [ui("unknown_title", lang)]
    out += _wrap(labels.looked(diagnosis, lang), "")
    for note in diagnosis.notes:
        out += _wrap(note, "  ", "- ")
    if labels.needs_copy_howto(diagnosis):
        out += _wrap(plain(ui("unknown_howto", lang)), "")
    return out


def reply_text(reply: Reply) -> str:
    """The whole answer as the shell prints it."""
    out = [_EMOJI.sub("", plain(notice)) for notice in reply.notices]
    if reply.kind is ReplyKind.DIAGNOSIS and reply.diagnosis is not None:
        out.append(diagnosis_text(reply.diagnosis))
    elif reply.kind is ReplyKind.UNKNOWN:
        out += unknown_text(reply)
    return "\n".join(out).rstrip() + "\n"
