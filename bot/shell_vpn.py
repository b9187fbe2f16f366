"""`/vpn …` in the local shell: the same live lookups as in Slack, printed as text.

Without MERAKI_API_KEY the shell serves the bundled demo organisation, so
`/vpn status` and `/vpn <peer>` work on a fresh machine with no Slack and no Dashboard.
"""

from __future__ import annotations

from bot.chat import parse_request
from bot.dashboard.errors import DashboardError
from bot.live import DEFAULT_HOURS, LookupMiss
from bot.live_connection import LiveConnection
from bot.locale.live import live_ui
from bot.render.dashboard import error_text, help_text, live_text, miss_text, peers_text, status_text
from bot.settings import Settings
from bot.shell import ShellCommand, ShellState
from bot.vpn_request import VpnAction, hours_in, named_peer, parse_vpn
from knowledge.models import LANGS


class ShellLookups:
    """Runs the `/vpn` shell command over one Dashboard connection, opened on first use."""

    def __init__(self, connection: LiveConnection) -> None:
        self.connection = connection

    async def run(self, arguments: str, state: ShellState) -> str:
        request = parse_vpn(arguments)
        lang = request.lang or state.lang
        if request.action is VpnAction.HELP:
            return help_text(lang, DEFAULT_HOURS)
        service = await self.connection.service()
        try:
            if request.action is VpnAction.STATUS:
                return status_text(await service.status(), lang)
            if request.action is VpnAction.PEERS:
                return peers_text(await service.peers(), lang)
            found = await service.lookup(request.query, request.hours, lang)
        except DashboardError as exc:
            return error_text(exc, lang, service.demo)
        return miss_text(found, lang) if isinstance(found, LookupMiss) else live_text(found)

    async def named(self, text: str, state: ShellState) -> str | None:
        """A sentence that names a configured peer ("check azure-prod-vnet") gets its live lookup."""
        service = await self.connection.service()
        try:
            peer = named_peer(text, await service.client.peers())
        except DashboardError:
            return None
        if peer is None:
            return None
        request = parse_request(text)
        return await self.run(f"{peer.name} {hours_in(text):g}", ShellState(request.lang or state.lang, state.settings))


def vpn_shell_command(settings: Settings, connection: LiveConnection | None = None) -> ShellCommand:
    lookups = ShellLookups(connection or LiveConnection(settings))
    return ShellCommand(
        name="/vpn",
        usage="/vpn <peer> [hours]",
        summary={lang: live_ui("shell_vpn", lang) for lang in LANGS},
        run=lookups.run,
        aliases=("vpn",),
        close=lookups.connection.aclose,
        unanswered=lookups.named,
    )
