"""What a `/vpn …` command (or a mention naming a peer) asks for, read from its text.

No Slack and no Dashboard here, so the slash command, the mention path and the local
shell read requests the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.chat import HELP_WORDS, parse_request
from bot.dashboard.models import ThirdPartyPeer
from bot.live import DEFAULT_HOURS
from bot.slack_text import unformat
from knowledge.models import Lang

STATUS_WORDS = frozenset({"status", "ステータス", "状態"})
PEERS_WORDS = frozenset({"peers", "list", "ピア", "一覧"})
# `/vpn tokyo-dc 6`, `… 6h`, `… 48 hours`, `… 12時間`
_HOURS = re.compile(r"(\d{1,4}(?:\.\d+)?)\s*(?:h|hr|hrs|hours?|時間)?", re.IGNORECASE)
_UNIT = re.compile(r"h|hr|hrs|hours?|時間", re.IGNORECASE)
# In free text (a mention) only an explicit unit counts: "check tokyo-dc over the last 6h".
_HOURS_IN_TEXT = re.compile(r"(?<![\w.])(\d{1,4}(?:\.\d+)?)\s*(?:h|hrs?|hours?|時間)(?![\w])", re.IGNORECASE)


class VpnAction(StrEnum):
    LOOKUP = "lookup"
    STATUS = "status"
    PEERS = "peers"
    HELP = "help"


@dataclass(frozen=True)
class VpnRequest:
    action: VpnAction
    query: str = ""
    hours: float = DEFAULT_HOURS
    lang: Lang | None = None


def parse_vpn(text: str) -> VpnRequest:
    """`help`, `status`, `peers`, or `<peer name or public IP> [hours]`; `lang:xx` anywhere."""
    request = parse_request(unformat(text or ""))
    words = request.text.split()
    lang = request.lang
    if not words or (len(words) == 1 and words[0].lower() in HELP_WORDS):
        return VpnRequest(VpnAction.HELP, lang=lang or _japanese_help(words))
    if len(words) == 1 and words[0].lower() in STATUS_WORDS:
        return VpnRequest(VpnAction.STATUS, lang=lang)
    if len(words) == 1 and words[0].lower() in PEERS_WORDS:
        return VpnRequest(VpnAction.PEERS, lang=lang)
    hours = DEFAULT_HOURS
    if len(words) > 2 and _UNIT.fullmatch(words[-1]) and words[-2].replace(".", "", 1).isdigit():
        words = [*words[:-2], words[-2] + words[-1]]
    if len(words) > 1 and (found := _HOURS.fullmatch(words[-1])):
        hours = float(found.group(1))
        words = words[:-1]
    return VpnRequest(VpnAction.LOOKUP, query=" ".join(words), hours=hours, lang=lang)


def _japanese_help(words: list[str]) -> Lang | None:
    return "ja" if words and words[0] == "ヘルプ" else None


def hours_in(text: str) -> float:
    """The look-back window a free-text request names ("last 6h"), else the default."""
    found = _HOURS_IN_TEXT.search(text)
    return float(found.group(1)) if found else DEFAULT_HOURS


def _mentions(text: str, needle: str) -> int | None:
    """Where `needle` stands in `text` as a whole word (names may hold dots, dashes, spaces)."""
    if not needle:
        return None
    found = re.search(rf"(?<![\w.-]){re.escape(needle)}(?![\w-]|\.\w)", text, re.IGNORECASE)
    return found.start() if found else None


def named_peer(text: str, peers: Iterable[ThirdPartyPeer]) -> ThirdPartyPeer | None:
    """The configured peer a message names (by name or public IP); the first one named wins."""
    best: tuple[int, ThirdPartyPeer] | None = None
    for peer in peers:
        spots = [_mentions(text, peer.name), _mentions(text, peer.publicIp or "")]
        found = [s for s in spots if s is not None]
        if found and (best is None or min(found) < best[0]):
            best = (min(found), peer)
    return best[1] if best else None


def time_window(hours: float) -> str:
    """`24`, `1.5`: how the window is shown to people."""
    return f"{hours:g}"
