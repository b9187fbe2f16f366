"""The local shell: same answers as Slack, printed as text, with piped or interactive input."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings
from bot.shell import PASTE_GAP_SECONDS, Shell, ShellCommand, ShellState
from bot.shell_vpn import vpn_shell_command
from tests.test_slack_events import PSK_RAW

ROOT = Path(__file__).parent.parent


async def run_shell(stdin: str, commands: tuple[ShellCommand, ...] = ()) -> str:
    out = io.StringIO()
    shell = Shell(Settings(_env_file=None), commands, stdin=io.StringIO(stdin), stdout=out)
    assert await shell.run() == 0
    return out.getvalue()


async def test_paste_ends_with_an_empty_line_and_is_diagnosed() -> None:
    output = await run_shell(f"{PSK_RAW}\n\nhelp\n")
    assert "Failing" in output and "What to do:" in output and "L2" in output
    assert "Commands:" in output and "lang en|ja" in output


async def test_lang_ja_and_end_of_input_without_empty_line() -> None:
    output = await run_shell(f"lang ja\n{PSK_RAW}")
    assert "日本語で返答" in output and "対処手順" in output


async def test_unknown_text_and_quit() -> None:
    output = await run_shell("hello there\n\nquit\nnot read\n")
    assert "did not recognise" in output and "Bye." in output
    assert "not read" not in output


async def test_a_plugged_in_command_runs() -> None:
    async def echo(arguments: str, state: ShellState) -> str:
        return f"echo[{state.lang}] {arguments}"

    command = ShellCommand("/vpn", "/vpn <peer>", {"en": "look up a peer", "ja": "ピアを調べる"}, echo)
    output = await run_shell("/vpn branch-1\nhelp\n", (command,))
    assert "echo[en] branch-1" in output and "/vpn <peer>" in output


def test_python_m_bot_without_tokens_starts_the_shell() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot"], input=PSK_RAW + "\n", capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Failing" in result.stdout


async def test_a_paste_with_blank_lines_is_one_input() -> None:
    """Copied Dashboard rows often carry blank lines; they arrive together and get one answer."""
    lines = PSK_RAW.splitlines()
    spaced = "\n\n".join(lines)
    output = await run_shell(f"{spaced}\n\nhelp\n")
    assert output.count("What to do:") == 1 and "Failing" in output
    assert "Commands:" in output, "a command after the paste still runs"


async def test_input_that_pauses_after_a_blank_line_is_a_new_paste() -> None:
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd, "r") as reading, os.fdopen(write_fd, "w") as writing:
        shell = Shell(Settings(_env_file=None), (), stdin=reading, stdout=out)
        task = asyncio.create_task(shell.run())
        writing.write("hello there\n\n")
        writing.flush()
        await asyncio.sleep(PASTE_GAP_SECONDS * 3)
        writing.write(f"{PSK_RAW}\n\nquit\n")
        writing.flush()
        assert await asyncio.wait_for(task, 30) == 0
    output = out.getvalue()
    assert "did not recognise" in output and "What to do:" in output, output


async def test_the_first_screen_says_the_demo_organisation_is_loaded() -> None:
    settings = Settings(_env_file=None, meraki_api_key=None)
    master, slave = os.openpty()
    out = io.StringIO()
    with os.fdopen(slave, "r") as terminal:
        shell = Shell(settings, (vpn_shell_command(settings),), stdin=terminal, stdout=out)
        os.write(master, b"quit\n")
        assert await asyncio.wait_for(shell.run(), 30) == 0
    os.close(master)
    banner = out.getvalue().split("> ", 1)[0]
    assert "demo organisation" in banner and "/vpn status" in banner, banner


async def test_a_text_with_no_vpn_line_does_not_say_none_of_zero_matched() -> None:
    output = await run_shell("hello there\n")
    assert "none of them looked like a site-to-site VPN" in output and "0 of them" not in output
