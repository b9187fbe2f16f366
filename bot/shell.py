"""A local chat in the terminal: the bot's answers without Slack.

Pasted lines go through the same request parsing and reply building as a Slack
mention and are printed with the text renderer. Works on a terminal and with piped
input (`vpn-doctor serve < event-log.txt`). Other features join through
`ShellCommand`s passed to `Shell`, e.g. a live peer lookup.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from bot.chat import Reply, ReplyKind, build_reply, parse_request
from bot.locale import ui
from bot.render.text import plain, reply_text
from bot.settings import Settings
from knowledge.models import LANGS, Lang


@dataclass
class ShellState:
    lang: Lang
    settings: Settings


@dataclass(frozen=True)
class ShellCommand:
    """A word the shell answers itself; `run(arguments, state)` returns the text to print.

    `close` (optional) releases what the command opened (a Dashboard connection) when the shell ends.
    """

    name: str
    usage: str
    summary: Mapping[Lang, str]
    run: Callable[[str, ShellState], Awaitable[str]]
    aliases: tuple[str, ...] = ()
    close: Callable[[], Awaitable[None]] | None = None
    # Answers a paste that held no VPN log line, when it can (a sentence naming a configured peer).
    unanswered: Callable[[str, ShellState], Awaitable[str | None]] | None = None


QUIT_WORDS = frozenset({"quit", "exit", "bye", "終了"})
# After a blank line, more text within this long is the same paste (terminals deliver a paste at once).
PASTE_GAP_SECONDS = 0.3


class _Quiet:
    """No line arrived in the time given."""


QUIET = _Quiet()


@dataclass
class Shell:
    settings: Settings
    commands: Sequence[ShellCommand] = ()
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)

    def __post_init__(self) -> None:
        self._pending: list[str] = []
        self._inflight: asyncio.Future[str] | None = None
        self.state = ShellState(lang=self.settings.vpn_doctor_lang, settings=self.settings)
        self._all = [*self._builtin(), *self.commands]
        self._by_word = {word: c for c in self._all for word in (c.name, *c.aliases)}
        self.interactive = self.stdin.isatty()

    def _builtin(self) -> list[ShellCommand]:
        def summary(key: str) -> dict[Lang, str]:
            return {lang: ui(key, lang) for lang in LANGS}

        return [
            ShellCommand("help", "help", summary("shell_cmd_help"), self._help, ("ヘルプ",)),
            ShellCommand("lang", "lang en|ja", summary("shell_cmd_lang"), self._lang),
            ShellCommand("quit", "quit", summary("shell_cmd_quit"), self._quit),
        ]

    async def _help(self, _: str, state: ShellState) -> str:
        lines = [ui("shell_help", state.lang)]
        lines += [f"  {c.usage:<22} {c.summary[state.lang]}" for c in self._all]
        return "\n".join(lines)

    async def _lang(self, arguments: str, state: ShellState) -> str:
        choice = arguments.strip().lower()
        if choice not in ("en", "ja"):
            return ui("shell_lang_usage", state.lang)
        state.lang = "ja" if choice == "ja" else "en"
        return ui("shell_lang", state.lang)

    async def _quit(self, _: str, state: ShellState) -> str:
        return ui("shell_bye", state.lang)

    def _print(self, text: str) -> None:
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    async def _readline(self, wait: float | None = None) -> str | _Quiet | None:
        """One line without its newline; None at end of input; QUIET when none came within `wait` s.

        A read that is still waiting when `wait` runs out is kept for the next call, so no line
        is lost and nothing reads ahead of what the conversation asked for.
        """
        if self._pending:
            return self._pending.pop()
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self.stdin.readline))
        done, _ = await asyncio.wait({self._inflight}, timeout=wait)
        if not done:
            return QUIET
        line, self._inflight = self._inflight.result(), None
        return None if line == "" else line.rstrip("\r\n")

    async def _read_paste(self, first: str) -> tuple[list[str], bool]:
        """A paste is one input however many blank lines it holds: it ends at a blank line after which
        nothing more arrives at once, at a shell command, or at the end of input (returned as True)."""
        pasted = [first]
        blanks = 0
        while True:
            line = await self._readline(PASTE_GAP_SECONDS if blanks else None)
            if line is None:
                return pasted, True
            if isinstance(line, _Quiet):
                return pasted, False
            if not line.strip():
                blanks += 1
                continue
            if blanks and self.command_for(line):
                self._pending.append(line)
                return pasted, False
            pasted += [""] * blanks + [line]
            blanks = 0

    def command_for(self, line: str) -> tuple[ShellCommand, str] | None:
        word, _, arguments = line.strip().partition(" ")
        if word.lower() in QUIT_WORDS:
            return self._by_word["quit"], ""
        command = self._by_word.get(word.lower()) or self._by_word.get(word)
        return (command, arguments) if command else None

    def reply_to(self, pasted: str) -> Reply:
        request = parse_request(pasted)
        lang = request.lang or self.state.lang
        return build_reply(request.text, lang, max_file_bytes=self.settings.vpn_doctor_max_file_bytes)

    def answer(self, pasted: str) -> str:
        """The reply to one paste, rendered exactly as the shell prints it."""
        return reply_text(self.reply_to(pasted))

    async def answer_paste(self, pasted: str) -> str:
        """As a Slack mention is answered: the log's diagnosis, else what a command makes of the text."""
        reply = await asyncio.to_thread(self.reply_to, pasted)
        if reply.kind is ReplyKind.UNKNOWN and reply.diagnosis is not None and reply.diagnosis.vpn_lines == 0:
            for command in self.commands:
                if command.unanswered is not None and (found := await command.unanswered(pasted, self.state)):
                    return found
        return reply_text(reply)

    async def run(self) -> int:
        try:
            return await self._converse()
        finally:
            for command in self.commands:
                if command.close is not None:
                    await command.close()

    async def _converse(self) -> int:
        if self.interactive:
            names = ", ".join(c.name for c in self._all)
            self._print(ui("shell_banner", self.state.lang, commands=names))
            if self.settings.demo and "/vpn" in self._by_word:
                self._print(ui("shell_demo", self.state.lang))
        while True:
            if self.interactive:
                self.stdout.write(ui("shell_prompt", self.state.lang))
                self.stdout.flush()
            line = await self._readline()
            if line is None:
                return 0
            if isinstance(line, _Quiet) or not line.strip():
                continue
            found = self.command_for(line)
            if found:
                command, arguments = found
                self._print(plain(await command.run(arguments, self.state)))
                if command.name == "quit":
                    return 0
                continue
            pasted, ended = await self._read_paste(line)
            if self.interactive:
                self._print(ui("shell_working", self.state.lang, lines=len(pasted)))
            self._print(await self.answer_paste("\n".join(pasted)))
            if ended and not self.interactive:
                return 0


def run_shell(settings: Settings, commands: Sequence[ShellCommand] = ()) -> int:
    try:
        return asyncio.run(Shell(settings, commands).run())
    except KeyboardInterrupt:
        return 130
