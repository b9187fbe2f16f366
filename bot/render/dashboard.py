"""Live lookups rendered: the diagnosis as on the paste path, plus a "Dashboard" section.

The Dashboard section says, per MX network that uses the peer, its reachability, the MX
model and firmware (IKEv2 support, log format) and the uplink in use. Every live
answer carries the demo marker when it comes from the bundled demo organisation.
Terminal text for the shell and Block Kit for Slack are built from the same lines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.dashboard.errors import DashboardError
from bot.live import LiveReport, LookupMiss, NetworkSection, PeerList, StatusReport
from bot.locale.live import live_ui
from bot.render import labels
from bot.render.blocks import (
    DIVIDER,
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    Block,
    SlackMessage,
    clip,
    compact_line,
    context,
    diagnosis_message,
    escape,
    fits,
    header,
    metadata,
    report_file,
    section,
)
from bot.render.text import diagnosis_text
from bot.vpn_request import time_window
from knowledge.models import Lang

FETCH_LIVE_ACTION = "fetch_live"
MAX_FETCH_BUTTONS = 3
DEMO_EMOJI = ":test_tube:"
MAX_BUTTON_TEXT = 75
_REACH_EMOJI = {True: ":large_green_circle:", False: ":red_circle:", None: ":white_circle:"}


# Shared wording ---------------------------------------------------------------------------


def reach_word(reachable: bool | None, lang: Lang) -> str:
    key = {True: "reach_reachable", False: "reach_unreachable", None: "reach_unknown"}[reachable]
    return live_ui(key, lang)


def network_facts(net: NetworkSection, lang: Lang) -> list[str]:
    """One network's facts, in the order a person checks them."""
    facts = [f"{live_ui('reachability', lang)}: {reach_word(net.reachable, lang)}"]
    if net.firmware_version or net.mx_model:
        mx = " ".join(part for part in (net.mx_model, net.firmware_version) if part)
        extras = []
        if net.ikev2_supported is not None:
            extras.append(live_ui("ikev2_yes" if net.ikev2_supported else "ikev2_no", lang))
        if net.dialect:
            extras.append(live_ui("log_format", lang, dialect=net.dialect))
        facts.append(f"{live_ui('firmware', lang)}: {mx}" + (f" ({'; '.join(extras)})" if extras else ""))
    uplink = live_ui("no_uplink", lang)
    if net.uplink_in_use:
        uplink = net.uplink_in_use + (f" ({net.uplink_ip})" if net.uplink_ip else "")
    facts.append(f"{live_ui('uplink', lang)}: {uplink}")
    facts.append(live_ui("events", lang, matched=net.events_matched, read=net.events_read))
    return facts


def window_line(report: LiveReport, lang: Lang) -> str:
    address = report.peer.get("publicIp") or report.peer.get("publicHostname") or "-"
    return live_ui(
        "window",
        lang,
        peer=report.peer.get("name", report.query),
        address=address,
        hours=time_window(report.hours),
        calls=report.dashboard_calls,
        ms=report.duration_ms,
    )


def partial_line(report: LiveReport, lang: Lang) -> str | None:
    """Said when the lookup's deadline passed before everything was read."""
    if not report.unread:
        return None
    missing = []
    for item in report.unread:
        kind, _, network = item.partition(":")
        missing.append(live_ui(f"unread_{kind}", lang, network=network))
    return live_ui("partial", lang, missing=", ".join(missing))


def verdict_line(report: LiveReport) -> str:
    """The parent message after the lookup: peer, verdict word, the findings' titles."""
    diagnosis = report.diagnosis
    lang = diagnosis.lang
    peer = report.peer.get("name", report.query)
    text = live_ui("parent_result", lang, peer=peer, verdict=labels.verdict(diagnosis.verdict, lang))
    titles = "; ".join(f.title for f in diagnosis.findings)
    return f"{text} {titles}" if titles else text


def miss_lines(miss: LookupMiss, lang: Lang) -> list[str]:
    key = "ambiguous_peer" if miss.reason == "ambiguous" else "unknown_peer"
    lines = [live_ui(key, lang, query=miss.query)]
    if miss.candidates:
        lines.append(live_ui("close_matches", lang, names=", ".join(miss.candidates)))
    else:
        lines.append(live_ui("no_close_match", lang))
    return lines


def status_lines(report: StatusReport, lang: Lang) -> list[str]:
    return [
        f"{r.peer}" + (f" ({r.public_ip})" if r.public_ip else "") + f" — {r.network}: {reach_word(r.reachable, lang)}"
        for r in report.rows
    ]


def peer_lines(listing: PeerList, lang: Lang) -> list[str]:
    lines = []
    for p in listing.peers:
        networks = ", ".join(p.networks) or live_ui("no_mx_network", lang)
        preset = f" · {p.preset}" if p.preset else ""
        lines.append(f"{p.name} — {p.public_ip or '-'} · IKEv{p.ike_version}{preset} · {networks}")
    return lines


# Terminal text ------------------------------------------------------------------------------


def _demo_text(demo: bool, lang: Lang) -> list[str]:
    return [f"[{live_ui('demo_marker', lang)}]", ""] if demo else []


def live_text(report: LiveReport) -> str:
    lang = report.diagnosis.lang
    out = _demo_text(report.demo, lang)
    out.append(diagnosis_text(report.diagnosis))
    out += ["", f"{live_ui('dashboard_title', lang)}:"]
    for net in report.networks:
        out.append(f"  {net.name}")
        out += [f"    - {fact}" for fact in network_facts(net, lang)]
    if (partial := partial_line(report, lang)) is not None:
        out.append(f"  {partial}")
    out.append(f"  {window_line(report, lang)}")
    return "\n".join(out) + "\n"


def status_text(report: StatusReport, lang: Lang) -> str:
    out = _demo_text(report.demo, lang)
    if not report.rows:
        return "\n".join([*out, live_ui("status_empty", lang)]) + "\n"
    out.append(live_ui("status_title", lang, down=len(report.down), total=len(report.rows)))
    out += [f"  {line}" for line in status_lines(report, lang)]
    return "\n".join(out) + "\n"


def peers_text(listing: PeerList, lang: Lang) -> str:
    out = _demo_text(listing.demo, lang)
    if not listing.peers:
        return "\n".join([*out, live_ui("peers_empty", lang)]) + "\n"
    out.append(live_ui("peers_title", lang, count=len(listing.peers)))
    out += [f"  {line}" for line in peer_lines(listing, lang)]
    return "\n".join(out) + "\n"


def miss_text(miss: LookupMiss, lang: Lang) -> str:
    return "\n".join(_demo_text(miss.demo, lang) + miss_lines(miss, lang)) + "\n"


def error_text(error: DashboardError, lang: Lang, demo: bool = False) -> str:
    return "\n".join([*_demo_text(demo, lang), error.sentence(lang)]) + "\n"


# Block Kit ----------------------------------------------------------------------------------


def demo_block(lang: Lang) -> Block:
    return context([f"{DEMO_EMOJI} {escape(live_ui('demo_marker', lang))}"])


def _with_demo(blocks: list[Block], demo: bool, lang: Lang) -> list[Block]:
    return [*blocks, demo_block(lang)] if demo else blocks


def _listed(title: str | None, lines: Sequence[str]) -> list[Block]:
    """Lines (under a bold title when given), split into sections that stay under Slack's size limit."""
    blocks: list[Block] = []
    current = f"*{escape(title)}*" if title else ""
    for line in lines:
        item = clip(escape(line), MAX_SECTION_CHARS - 10)
        if current and len(current) + 1 + len(item) > MAX_SECTION_CHARS:
            blocks.append(section(current))
            current = item
        else:
            current = f"{current}\n{item}" if current else item
    blocks.append(section(current))
    return blocks[: MAX_BLOCKS - 2]


def dashboard_blocks(report: LiveReport) -> list[Block]:
    lang = report.diagnosis.lang
    lines = []
    for net in report.networks:
        emoji = _REACH_EMOJI[net.reachable]
        facts = "  ·  ".join(escape(f) for f in network_facts(net, lang))
        lines.append(f"{emoji} *{escape(net.name)}*  {facts}")
    body = "\n".join([f"*{live_ui('dashboard_title', lang)}*", *lines])
    blocks: list[Block] = [DIVIDER, section(body)]
    if (partial := partial_line(report, lang)) is not None:
        blocks.append(section(f":hourglass: {escape(partial)}"))
    return [*blocks, context([escape(window_line(report, lang))])]


def live_message(report: LiveReport) -> SlackMessage:
    """The thread answer: the paste path's diagnosis message with the Dashboard section after its headline."""
    diagnosis = report.diagnosis
    lang = diagnosis.lang
    base = diagnosis_message(diagnosis)
    top = [demo_block(lang)] if report.demo else []
    extra = dashboard_blocks(report)
    meta = metadata(diagnosis)
    meta["event_payload"].update(live_peer=report.peer.get("name"), demo=report.demo)
    text = clip(f"{report.peer.get('name', report.query)}: {base.text}", 3000)
    blocks = base.blocks[:3] + top + extra + base.blocks[3:]
    if fits(blocks):
        return SlackMessage(text, blocks, meta, base.attachment)
    compact = [compact_line(n, f, lang) for n, f in enumerate(diagnosis.findings, 1)]
    short = base.blocks[:3] + top + extra + ([DIVIDER, section("\n".join(compact))] if compact else [])
    return SlackMessage(text, short, meta, base.attachment or report_file(diagnosis))


def checking_message(peer: str, hours: float, demo: bool, lang: Lang) -> SlackMessage:
    text = live_ui("checking", lang, peer=peer, hours=time_window(hours))
    return SlackMessage(escape(text), _with_demo([section(f":hourglass_flowing_sand: {escape(text)}")], demo, lang))


def result_parent(report: LiveReport) -> SlackMessage:
    lang = report.diagnosis.lang
    emoji = labels.VERDICT_EMOJI[report.diagnosis.verdict]
    text = clip(verdict_line(report), 2900)
    return SlackMessage(escape(text), _with_demo([section(f"{emoji} {escape(text)}")], report.demo, lang))


def failed_parent(peer: str, demo: bool, lang: Lang) -> SlackMessage:
    text = live_ui("parent_failed", lang, peer=peer)
    return SlackMessage(escape(text), _with_demo([section(f":warning: {escape(text)}")], demo, lang))


def unfinished_parent(peer: str, demo: bool, lang: Lang) -> SlackMessage:
    text = live_ui("parent_unfinished", lang, peer=peer)
    return SlackMessage(escape(text), _with_demo([section(f":warning: {escape(text)}")], demo, lang))


def unfinished_command(text: str, lang: Lang) -> SlackMessage:
    sentence = live_ui("command_unfinished", lang, text=text)
    return SlackMessage(escape(sentence), [section(f":warning: {escape(sentence)}")])


def error_message(error: DashboardError, lang: Lang, demo: bool = False) -> SlackMessage:
    sentence = error.sentence(lang)
    return SlackMessage(escape(sentence), _with_demo([section(f":warning: {escape(sentence)}")], demo, lang))


def miss_message(miss: LookupMiss, lang: Lang) -> SlackMessage:
    lines = miss_lines(miss, lang)
    blocks = [section("\n".join(escape(line) for line in lines))]
    return SlackMessage(escape(lines[0]), _with_demo(blocks, miss.demo, lang))


def status_message(report: StatusReport, lang: Lang) -> SlackMessage:
    if not report.rows:
        text = live_ui("status_empty", lang)
        return SlackMessage(escape(text), _with_demo([section(escape(text))], report.demo, lang))
    title = live_ui("status_title", lang, down=len(report.down), total=len(report.rows))
    rows = zip(report.rows, status_lines(report, lang), strict=True)
    lines = [f"{_REACH_EMOJI[row.reachable]} {line}" for row, line in rows]
    blocks = [header(title), *_listed(None, lines)]
    return SlackMessage(escape(title), _with_demo(blocks, report.demo, lang))


def peers_message(listing: PeerList, lang: Lang) -> SlackMessage:
    if not listing.peers:
        text = live_ui("peers_empty", lang)
        return SlackMessage(escape(text), _with_demo([section(escape(text))], listing.demo, lang))
    title = live_ui("peers_title", lang, count=len(listing.peers))
    return SlackMessage(escape(title), _with_demo(_listed(title, peer_lines(listing, lang)), listing.demo, lang))


def help_message(lang: Lang, default_hours: float, demo: bool) -> SlackMessage:
    title = live_ui("help_title", lang)
    body = live_ui("help", lang, hours=time_window(default_hours))
    return SlackMessage(escape(title), _with_demo([header(title), section(body)], demo, lang))


def help_text(lang: Lang, default_hours: float) -> str:
    return f"{live_ui('help_title', lang)}\n{live_ui('help', lang, hours=time_window(default_hours))}\n"


def fetch_live_value(peer: str, lang: Lang) -> str:
    return json.dumps({"peer": peer, "lang": lang}, ensure_ascii=False)


def with_fetch_buttons(message: SlackMessage, peers: Sequence[str], lang: Lang) -> SlackMessage:
    """The paste answer plus, per configured peer it names, a line with a "Fetch live data" button."""
    names = list(dict.fromkeys(peers))[:MAX_FETCH_BUTTONS]
    offers = [
        {
            **section(escape(live_ui("fetch_live_hint", lang, peer=name))),
            "block_id": f"{FETCH_LIVE_ACTION}:{i}",
            "accessory": {
                "type": "button",
                "action_id": FETCH_LIVE_ACTION,
                "text": {"type": "plain_text", "text": clip(live_ui("fetch_live", lang), MAX_BUTTON_TEXT)},
                "value": fetch_live_value(name, lang),
            },
        }
        for i, name in enumerate(names)
    ]
    blocks = [*message.blocks, *offers]
    if not offers or not fits(blocks):
        return message
    return SlackMessage(message.text, blocks, message.metadata, message.attachment)
