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

from bot.chat import build_reply, parse_request
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


QUIT_WORDS = frozenset({"quit", "exit", "bye", "終了"})


@dataclass
class Shell:
    settings: Settings
    commands: Sequence[ShellCommand] = ()
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)

    def __post_init__(self) -> None:
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

    async def _readline(self) -> str | None:
        """One line without its newline; None at end of input."""
        line = await asyncio.to_thread(self.stdin.readline)
        return None if line == "" else line.rstrip("\r\n")

    def command_for(self, line: str) -> tuple[ShellCommand, str] | None:
        word, _, arguments = line.strip().partition(" ")
        if word.lower() in QUIT_WORDS:
            return self._by_word["quit"], ""
        command = self._by_word.get(word.lower()) or self._by_word.get(word)
        return (command, arguments) if command else None

    def answer(self, pasted: str) -> str:
        """The reply to one paste, rendered exactly as the shell prints it."""
        request = parse_request(pasted)
        lang = request.lang or self.state.lang
        reply = build_reply(request.text, lang, max_file_bytes=self.settings.vpn_doctor_max_file_bytes)
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
        while True:
            if self.interactive:
                self.stdout.write(ui("shell_prompt", self.state.lang))
                self.stdout.flush()
            line = await self._readline()
            if line is None:
                return 0
            if not line.strip():
                continue
            found = self.command_for(line)
            if found:
                command, arguments = found
                self._print(plain(await command.run(arguments, self.state)))
                if command.name == "quit":
                    return 0
                continue
            pasted = [line]
            while (more := await self._readline()) is not None and more.strip():
                pasted.append(more)
            if self.interactive:
                self._print(ui("shell_working", self.state.lang, lines=len(pasted)))
            self._print(await asyncio.to_thread(self.answer, "\n".join(pasted)))
            if more is None and not self.interactive:
                return 0


def run_shell(settings: Settings, commands: Sequence[ShellCommand] = ()) -> int:
    try:
        return asyncio.run(Shell(settings, commands).run())
    except KeyboardInterrupt:
        return 130
