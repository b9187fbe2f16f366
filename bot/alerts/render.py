"""Alert messages in Block Kit: the incident's channel message and the notes in its thread.

The channel message is always rendered from the stored incident, acknowledgement and
mute, so whichever replica edits it (recovery, a button click) shows the whole state.
Every word comes from bot/locale/alerts.yaml in the language VPN_DOCTOR_LANG names: an
alert channel has many readers and no single locale to follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.alerts.models import Ack, Incident, IncidentPeer, Mute, UplinkState
from bot.locale.alerts import alert_ui, has_alert_text
from bot.render.blocks import Block, clip, context, escape, header, section
from knowledge.models import Lang

ACTION_REDIAGNOSE = "vpn_alert_rediagnose"
ACTION_ACK = "vpn_alert_ack"
ACTION_MUTE = "vpn_alert_mute"
ACTIONS_BLOCK = "vpn_alert_actions"
_UPLINK_EMOJI = {"active": ":large_green_circle:", "ready": ":white_circle:", "failed": ":red_circle:"}


def duration(seconds: float, lang: Lang = "en") -> str:
    """`1 h 5 min`, `12 min 5 s`, `40 s`: precise enough for an outage, short enough to scan."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return alert_ui("duration_h_m", lang, h=hours, m=minutes) if minutes else alert_ui("duration_h", lang, h=hours)
    if minutes:
        return alert_ui("duration_m_s", lang, m=minutes, s=secs) if secs else alert_ui("duration_m", lang, m=minutes)
    return alert_ui("duration_s", lang, s=secs)


def when(epoch: float) -> str:
    """Slack shows this in each reader's own time zone and language; the fallback is UTC."""
    fallback = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"<!date^{int(epoch)}^{{date_short_pretty}} {{time_secs}}|{fallback}>"


def join(items: Sequence[str], lang: Lang) -> str:
    return alert_ui("list_separator", lang).join(items)


def reachability_word(value: str | None, lang: Lang) -> str:
    """The Dashboard's reachability in words; a value the API may add later is shown as it is."""
    if value is None:
        return alert_ui("reach_unknown", lang)
    key = f"reach_{value.lower()}"
    return alert_ui(key, lang) if has_alert_text(key) else value


def _uplink_status(status: str, lang: Lang) -> str:
    key = "uplink_" + status.replace(" ", "_")
    return alert_ui(key, lang) if has_alert_text(key) else status


def _peer_label(peer: IncidentPeer) -> str:
    ip = f" ({escape(peer.public_ip)})" if peer.public_ip else ""
    return f"*{escape(peer.name)}*{ip}"


def uplink_lines(uplinks: Sequence[UplinkState], lang: Lang = "en") -> list[str]:
    if not uplinks:
        return [alert_ui("no_uplink_status", lang)]
    lines = []
    for uplink in uplinks:
        status = (uplink.status or "unknown").lower()
        emoji = _UPLINK_EMOJI.get(status, ":red_circle:")
        address = f" {escape(uplink.public_ip)}" if uplink.public_ip else ""
        lines.append(f"{emoji} {escape(uplink.interface)}: {escape(_uplink_status(status, lang))}{address}")
    return lines


def _title(incident: Incident, lang: Lang) -> str:
    network = incident.network_name or incident.network_id
    facts = {"network": network, "count": len(incident.peers), "peer": incident.peers[0].name}
    if incident.resolved:
        return alert_ui("title_resolved_grouped" if incident.grouped else "title_resolved", lang, **facts)
    return alert_ui("title_down_grouped" if incident.grouped else "title_down", lang, **facts)


def _buttons(incident: Incident, ack: Ack | None, lang: Lang) -> Block:
    def button(key: str, action_id: str, style: str | None = None) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": alert_ui(key, lang), "emoji": True},
            "action_id": action_id,
            "value": incident.id,
        }
        if style:
            element["style"] = style
        return element

    elements = [button("button_rediagnose", ACTION_REDIAGNOSE)]
    if not incident.resolved:
        if ack is None:
            elements.append(button("button_ack", ACTION_ACK, "primary"))
        elements.append(button("button_mute", ACTION_MUTE))
    return {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": elements}


def alert_message(
    incident: Incident, ack: Ack | None = None, mutes: Sequence[Mute] = (), lang: Lang = "en"
) -> tuple[str, list[Block]]:
    """The channel message: who is down where since when, how bad, and the buttons."""
    network = escape(incident.network_name or incident.network_id)
    peers = join([_peer_label(p) for p in incident.peers], lang)

    def field(key: str, value: str) -> dict[str, str]:
        return {"type": "mrkdwn", "text": f"*{alert_ui(key, lang)}*\n{value}"}

    fields = [
        field("field_peers" if incident.grouped else "field_peer", clip(peers, 1900)),
        field("field_network", network),
        field("field_since", when(incident.since)),
        field("field_severity", alert_ui(f"severity_{incident.severity}", lang)),
    ]
    blocks: list[Block] = [header(_title(incident, lang)), {"type": "section", "fields": fields}]
    if incident.grouped:
        uplinks = "\n".join(uplink_lines(incident.uplinks, lang))
        blocks.append(
            section(f"{alert_ui('grouped_cause', lang)}\n*{alert_ui('uplinks_heading', lang)}*\n{uplinks}")
        )
    notes: list[str] = []
    if incident.resolved_at is not None:
        outage = duration(incident.resolved_at - incident.since, lang)
        notes.append(alert_ui("resolved_note", lang, at=when(incident.resolved_at), outage=outage))
    else:
        notes.append(alert_ui("diagnosis_in_thread", lang))
    if ack is not None:
        notes.append(alert_ui("acknowledged", lang, user=f"<@{escape(ack.user)}>", at=when(ack.at)))
    for mute in mutes:
        name, until = escape(mute.key.split("|", 1)[-1]), when(mute.until)
        if mute.by:
            notes.append(alert_ui("muted_by_until", lang, peer=name, user=f"<@{escape(mute.by)}>", until=until))
        else:
            notes.append(alert_ui("muted_until", lang, peer=name, until=until))
    if incident.demo:
        notes.append(alert_ui("demo", lang))
    blocks.append(context(notes))
    blocks.append(_buttons(incident, ack, lang))
    return _fallback(incident, lang), blocks


def _fallback(incident: Incident, lang: Lang) -> str:
    names = join([p.name for p in incident.peers], lang)
    network = incident.network_name or incident.network_id
    key = "fallback_resolved" if incident.resolved else "fallback_down"
    return escape(clip(alert_ui(key, lang, peers=names, network=network), 3000))


def recovery_message(incident: Incident, peer: IncidentPeer, lang: Lang = "en") -> tuple[str, list[Block]]:
    """A thread reply when one peer is reachable again (and, when it was the last, the incident ends)."""
    assert peer.recovered_at is not None
    outage = duration(peer.recovered_at - peer.down_since, lang)
    text = alert_ui(
        "recovered",
        lang,
        peer=escape(peer.name),
        outage=outage,
        down_at=when(peer.down_since),
        up_at=when(peer.recovered_at),
    )
    if incident.resolved_at is not None and incident.grouped:
        lasted = duration(incident.resolved_at - incident.since, lang)
        text += "\n" + alert_ui("all_back", lang, lasted=lasted)
    plain = alert_ui("recovered_plain", lang, peer=peer.name, outage=outage)
    return escape(plain), [section(text)]


def note_message(title: str, lines: Sequence[str]) -> tuple[str, list[Block]]:
    """A short note in an incident thread (config change, uplink change); `lines` are mrkdwn-safe."""
    body = "\n".join(lines)
    return escape(title), [section(clip(f"*{escape(title)}*\n{body}" if body else f"*{escape(title)}*", 3000))]


def mute_note(peers: Sequence[str], user: str, until: float, lang: Lang = "en") -> tuple[str, list[Block]]:
    names = join([escape(p) for p in peers], lang)
    fallback = alert_ui("mute_fallback", lang, peers=join(peers, lang))
    note = alert_ui("mute_note", lang, user=f"<@{escape(user)}>", peers=names, until=when(until))
    return escape(fallback), [section(note)]
