"""Alert messages in Block Kit: the incident's channel message and the notes in its thread.

The channel message is always rendered from the stored incident, acknowledgement and
mute, so whichever replica edits it (recovery, a button click) shows the whole state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.alerts.models import Ack, Incident, IncidentPeer, Mute, UplinkState
from bot.render.blocks import Block, clip, context, escape, header, section

ACTION_REDIAGNOSE = "vpn_alert_rediagnose"
ACTION_ACK = "vpn_alert_ack"
ACTION_MUTE = "vpn_alert_mute"
ACTIONS_BLOCK = "vpn_alert_actions"
_SEVERITY = {"critical": ":rotating_light: Critical", "warning": ":warning: Warning"}
_UPLINK_EMOJI = {"active": ":large_green_circle:", "ready": ":white_circle:", "failed": ":red_circle:"}


def duration(seconds: float) -> str:
    """`1 h 5 min`, `12 min 5 s`, `40 s`: precise enough for an outage, short enough to scan."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def when(epoch: float) -> str:
    """Slack shows this in each reader's own time zone; the fallback is UTC."""
    fallback = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"<!date^{int(epoch)}^{{date_short_pretty}} {{time_secs}}|{fallback}>"


def _peer_label(peer: IncidentPeer) -> str:
    ip = f" ({escape(peer.public_ip)})" if peer.public_ip else ""
    return f"*{escape(peer.name)}*{ip}"


def uplink_lines(uplinks: Sequence[UplinkState]) -> list[str]:
    if not uplinks:
        return ["no uplink status reported"]
    lines = []
    for uplink in uplinks:
        status = (uplink.status or "unknown").lower()
        emoji = _UPLINK_EMOJI.get(status, ":red_circle:")
        address = f" {escape(uplink.public_ip)}" if uplink.public_ip else ""
        lines.append(f"{emoji} {escape(uplink.interface)}: {escape(status)}{address}")
    return lines


def _title(incident: Incident) -> str:
    network = incident.network_name or incident.network_id
    if incident.resolved:
        subject = f"{len(incident.peers)} VPN peers" if incident.grouped else f"VPN peer {incident.peers[0].name}"
        return f":large_green_circle: Resolved: {subject} on {network}"
    if incident.grouped:
        return f":red_circle: {len(incident.peers)} VPN peers down on {network}"
    return f":red_circle: VPN peer down: {incident.peers[0].name}"


def _buttons(incident: Incident, ack: Ack | None) -> Block:
    def button(text: str, action_id: str, style: str | None = None) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "action_id": action_id,
            "value": incident.id,
        }
        if style:
            element["style"] = style
        return element

    elements = [button("Diagnose again", ACTION_REDIAGNOSE)]
    if not incident.resolved:
        if ack is None:
            elements.append(button("Acknowledge", ACTION_ACK, "primary"))
        elements.append(button("Mute 1 h", ACTION_MUTE))
    return {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": elements}


def alert_message(
    incident: Incident, ack: Ack | None = None, mutes: Sequence[Mute] = ()
) -> tuple[str, list[Block]]:
    """The channel message: who is down where since when, how bad, and the buttons."""
    network = escape(incident.network_name or incident.network_id)
    peers = ", ".join(_peer_label(p) for p in incident.peers)
    fields = [
        {"type": "mrkdwn", "text": f"*{'Peers' if incident.grouped else 'Peer'}*\n{clip(peers, 1900)}"},
        {"type": "mrkdwn", "text": f"*MX network*\n{network}"},
        {"type": "mrkdwn", "text": f"*Down since*\n{when(incident.since)}"},
        {"type": "mrkdwn", "text": f"*Severity*\n{_SEVERITY[incident.severity]}"},
    ]
    blocks: list[Block] = [header(_title(incident)), {"type": "section", "fields": fields}]
    if incident.grouped:
        blocks.append(
            section(
                "Several peers on this MX went down in the same poll: the MX or its uplink is the likely cause, "
                "not the peers.\n*Uplinks*\n" + "\n".join(uplink_lines(incident.uplinks))
            )
        )
    notes: list[str] = []
    if incident.resolved_at is not None:
        outage = duration(incident.resolved_at - incident.since)
        notes.append(f":white_check_mark: Resolved {when(incident.resolved_at)} after {outage}")
    else:
        notes.append("Diagnosis in the thread :thread:")
    if ack is not None:
        notes.append(f":eyes: Acknowledged by <@{escape(ack.user)}> {when(ack.at)}")
    for mute in mutes:
        by = f" by <@{escape(mute.by)}>" if mute.by else ""
        name = escape(mute.key.split("|", 1)[-1])
        notes.append(f":no_bell: {name} muted{by} until {when(mute.until)}")
    if incident.demo:
        notes.append("Demo organisation (built-in Dashboard emulator)")
    blocks.append(context(notes))
    blocks.append(_buttons(incident, ack))
    return _fallback(incident), blocks


def _fallback(incident: Incident) -> str:
    names = ", ".join(p.name for p in incident.peers)
    network = incident.network_name or incident.network_id
    state = "resolved" if incident.resolved else "down"
    return escape(clip(f"VPN {state}: {names} on {network}", 3000))


def recovery_message(incident: Incident, peer: IncidentPeer) -> tuple[str, list[Block]]:
    """A thread reply when one peer is reachable again (and, when it was the last, the incident ends)."""
    assert peer.recovered_at is not None
    outage = duration(peer.recovered_at - peer.down_since)
    text = (
        f":large_green_circle: *{escape(peer.name)}* is reachable again after {outage} "
        f"(down {when(peer.down_since)} – up {when(peer.recovered_at)})."
    )
    if incident.resolved_at is not None and incident.grouped:
        lasted = duration(incident.resolved_at - incident.since)
        text += f"\nEvery peer of this alert is back; the incident lasted {lasted}."
    plain = f"{peer.name} is reachable again after {outage}"
    return escape(plain), [section(text)]


def note_message(title: str, lines: Sequence[str]) -> tuple[str, list[Block]]:
    """A short note in an incident thread (config change, uplink change); `lines` are mrkdwn-safe."""
    body = "\n".join(lines)
    return escape(title), [section(clip(f"*{escape(title)}*\n{body}" if body else f"*{escape(title)}*", 3000))]


def mute_note(peers: Sequence[str], user: str, until: float) -> tuple[str, list[Block]]:
    names = ", ".join(escape(p) for p in peers)
    return escape(f"Muted {', '.join(peers)} for 1 h"), [
        section(f":no_bell: <@{escape(user)}> muted {names} until {when(until)}; no new alert for it until then.")
    ]
