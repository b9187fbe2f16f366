"""Who may run live Dashboard lookups, and where (VPN_DOCTOR_LIVE_CHANNELS / _USERS).

Live lookups read an organisation's configuration, so a workspace can keep them to an
operations channel or a few people; diagnosing pasted log lines stays open to everyone.
"""

from __future__ import annotations

from bot.settings import Settings


def slack_ids(value: str) -> frozenset[str]:
    """`C01, C02` → {"C01", "C02"}; blanks and stray commas are ignored."""
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def may_look_up(settings: Settings, user: str | None, channel: str | None) -> bool:
    """Each list, when set, must contain the request's channel or user; both when both are set."""
    channels = slack_ids(settings.vpn_doctor_live_channels)
    users = slack_ids(settings.vpn_doctor_live_users)
    if channels and channel not in channels:
        return False
    return not users or user in users
