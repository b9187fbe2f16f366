"""Diagnosis → a Slack message: Block Kit, a plain-text fallback and message metadata.

Slack rejects a message with more than 50 blocks or a section text over 3,000
characters, and in practice also fails (`msg_blocks_too_long`) somewhere above ~13 k
characters of block text in total. When a diagnosis does not fit, the message keeps
the verdict and as many whole findings as fit, lists the rest by title, and carries
the complete text report as a file to attach in the thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.chat import Reply, ReplyKind
from bot.locale import ui
from bot.render import labels
from bot.render.text import diagnosis_text
from knowledge.models import Diagnosis, Finding, Lang

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_TOTAL_CHARS = 12_000
MAX_FALLBACK_CHARS = 3000
METADATA_EVENT_TYPE = "vpn_diagnosis"


@dataclass(frozen=True)
class ReportFile:
    filename: str
    title: str
    content: str


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[Block]
    metadata: dict[str, Any] | None = None
    attachment: ReportFile | None = None


def escape(text: str) -> str:
    """Slack treats &, < and > as control characters in mrkdwn and in `text`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> Block:
    text_object = {"type": "plain_text", "text": clip(text, MAX_HEADER_CHARS), "emoji": True}
    return {"type": "header", "text": text_object}


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, MAX_SECTION_CHARS)}}


def context(items: Sequence[str]) -> Block:
    elements = [{"type": "mrkdwn", "text": clip(item, MAX_SECTION_CHARS)} for item in items if item]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


DIVIDER: Block = {"type": "divider"}


def code_section(title: str, lines: Sequence[str], lang: Lang) -> Block:
    """A titled code block that stays under the section limit, ending in "… N more lines" if cut."""
    safe = [escape(line.replace("```", "'''")) for line in lines]
    budget = MAX_SECTION_CHARS - len(title) - 40
    kept: list[str] = []
    used = 0
    for line in safe:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    body = "\n".join(kept)
    more = len(safe) - len(kept)
    tail = "\n" + ui("more_lines", lang, count=more) if more else ""
    return section(f"{title}\n```{body}```{tail}")


def _chunks(items: Sequence[str], title: str) -> list[str]:
    """Join items under a title, starting a new section text whenever 3,000 characters would be passed."""
    texts: list[str] = []
    current = title
    for item in items:
        item = clip(item, MAX_SECTION_CHARS - 10)
        if len(current) + 1 + len(item) > MAX_SECTION_CHARS:
            texts.append(current)
            current = item
        else:
            current = f"{current}\n{item}"
    texts.append(current)
    return texts


def finding_blocks(number: int, finding: Finding, lang: Lang) -> list[Block]:
    meta = "  ·  ".join(escape(item) for item in labels.finding_meta(finding, lang))
    emoji = labels.SEVERITY_EMOJI[finding.severity]
    blocks = [DIVIDER, section(f"{emoji} *{number}. {escape(finding.title)}*\n{meta}")]
    blocks.append(section(f"*{labels.label('cause', lang)}:* {escape(finding.cause)}"))
    steps = [f"{i}. {escape(step)}" for i, step in enumerate(finding.steps, 1)]
    blocks += [section(text) for text in _chunks(steps, f"*{labels.label('steps', lang)}:*")]
    if finding.evidence:
        lines = [f"L{ev.line}: {ev.text}" for ev in finding.evidence]
        blocks.append(code_section(f"*{labels.label('evidence', lang)}:*", lines, lang))
    if finding.hints:
        hints = [f"• {escape(hint.text)}" for hint in finding.hints]
        blocks += [section(text) for text in _chunks(hints, f"*{labels.label('hints', lang)}:*")]
    return blocks


def compact_line(number: int, finding: Finding, lang: Lang) -> str:
    where = [labels.phase(finding.phase, lang)] if finding.phase is not None else []
    if finding.peer:
        where.append(escape(finding.peer))
    suffix = f" — {' · '.join(where)}" if where else ""
    return f"{labels.SEVERITY_EMOJI[finding.severity]} *{number}. {escape(finding.title)}*{suffix}"


def _facts_line(diagnosis: Diagnosis) -> str:
    return "  ·  ".join(escape(fact) for fact in labels.input_facts(diagnosis))


def block_chars(blocks: Sequence[Block]) -> int:
    """Characters of text in the blocks, the measure Slack's overall size limit applies to."""
    total = 0
    for block in blocks:
        if "text" in block:
            total += len(block["text"]["text"])
        for element in block.get("elements", ()):
            total += len(element.get("text", ""))
    return total


def fits(blocks: Sequence[Block]) -> bool:
    return len(blocks) <= MAX_BLOCKS and block_chars(blocks) <= MAX_TOTAL_CHARS


def metadata(diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "event_type": METADATA_EVENT_TYPE,
        "event_payload": {
            "finding_ids": diagnosis.finding_ids,
            "peers": [peer.address for peer in diagnosis.peers],
            "verdict": diagnosis.verdict.value,
        },
    }


def fallback_text(diagnosis: Diagnosis) -> str:
    titles = "; ".join(f.title for f in diagnosis.findings)
    text = labels.headline(diagnosis)
    return escape(clip(f"{text} — {titles}" if titles else text, MAX_FALLBACK_CHARS))


def report_file(diagnosis: Diagnosis) -> ReportFile:
    lang = diagnosis.lang
    return ReportFile(ui("report_filename", lang), ui("report_title", lang), diagnosis_text(diagnosis))


def diagnosis_message(diagnosis: Diagnosis, notices: Sequence[str] = ()) -> SlackMessage:
    lang = diagnosis.lang
    head = [
        header(f"{labels.VERDICT_EMOJI[diagnosis.verdict]} {labels.verdict(diagnosis.verdict, lang)}"),
        section(escape(labels.headline(diagnosis))),
        context([_facts_line(diagnosis)]),
    ]
    if notices:
        head.append(context(["\n".join(notices)]))
    notes = labels.reading_notes(diagnosis)
    tail = [context([escape("\n".join(notes))])] if notes else []
    per_finding = [finding_blocks(n, f, lang) for n, f in enumerate(diagnosis.findings, 1)]
    full = head + [b for blocks in per_finding for b in blocks] + tail
    meta = metadata(diagnosis)
    if fits(full):
        return SlackMessage(fallback_text(diagnosis), full, meta)

    total = len(diagnosis.findings)
    body: list[Block] = []
    shown = 0
    for blocks in per_finding:
        rest = _rest_blocks(diagnosis, shown + 1, total)
        if not fits(head + body + blocks + rest + tail):
            break
        body += blocks
        shown += 1
    blocks = head + body + _rest_blocks(diagnosis, shown, total) + tail
    return SlackMessage(fallback_text(diagnosis), blocks, meta, report_file(diagnosis))


def _rest_blocks(diagnosis: Diagnosis, shown: int, total: int) -> list[Block]:
    """The "too long" notice plus one line per finding that is not shown in full."""
    lang = diagnosis.lang
    lines = [compact_line(n, f, lang) for n, f in enumerate(diagnosis.findings, 1) if n > shown]
    rest = [DIVIDER, section(escape(ui("summarised", lang, shown=shown, total=total)))]
    if lines:
        rest.append(section("\n".join(lines)))
    return rest


def unknown_message(reply: Reply) -> SlackMessage:
    diagnosis = reply.diagnosis
    assert diagnosis is not None
    lang = reply.lang
    looked = labels.looked(diagnosis, lang)
    blocks = [header(f":grey_question: {ui('unknown_title', lang)}"), section(escape(looked))]
    if diagnosis.notes:
        blocks.append(section("\n".join(f"• {escape(note)}" for note in diagnosis.notes)))
    if labels.needs_copy_howto(diagnosis):
        blocks.append(section(ui("unknown_howto", lang)))
    if reply.notices:
        blocks.append(context(["\n".join(reply.notices)]))
    return SlackMessage(escape(ui("unknown_title", lang)), blocks, metadata(diagnosis))


def slack_message(reply: Reply) -> SlackMessage:
    if reply.kind is ReplyKind.DIAGNOSIS and reply.diagnosis is not None:
        return diagnosis_message(reply.diagnosis, reply.notices)
    if reply.kind is ReplyKind.UNKNOWN:
        return unknown_message(reply)
    blocks: list[Block] = []
    if reply.kind is ReplyKind.HELP:
        blocks.append(header(ui("usage_title", reply.lang)))
    blocks += [section(notice) for notice in reply.notices]
    fallback = reply.notices[0] if reply.notices else ui("usage_title", reply.lang)
    return SlackMessage(clip(fallback, MAX_FALLBACK_CHARS), blocks)
