"""Text that looks like a log line but carries colours, invisible characters or full-width forms."""

from __future__ import annotations

import io
import json

import pytest

from knowledge.engine import diagnose_bytes, diagnose_stream, diagnose_text
from knowledge.normalise import clean_bytes, clean_chunks, clean_text
from tests.slack_helpers import mention_body, running_bot
from tests.test_slack_events import PSK_RAW, PSK_TEXT

LINE = (
    "<134>1 1753179613.711178002 MX-HQ events Site-to-site VPN: notification "
    "INVALID-HASH-INFORMATION received in unencrypted informational exchange"
)

DISGUISES = {
    "ansi-colour": lambda s: s.replace("notification", "\x1b[1;31mnotification\x1b[0m"),
    "zero-width-in-words": lambda s: s.replace("INVALID-HASH", "INVA\u200bLID-HA\u200dSH")
    .replace("exchange", "ex\u2060change"),
    "rtl-override-and-isolate": lambda s: "\u202e" + s.replace("received", "\u2066received\u2069") + "\u202c",
    "nul-and-c0-controls": lambda s: s.replace(" received", "\x00 rec\x07eived\x0b"),
    "full-width-digits-and-colon": lambda s: s.replace("1753179613", "１７５３１７９６１３").replace("VPN:", "VPN："),
    "bom": lambda s: "\ufeff" + s,
    "c1-controls": lambda s: s.replace("events", "\x85events\x9b"),
}


def _psk(text: str) -> list[str]:
    return [f.id for f in diagnose_text(text).findings]


def test_the_plain_line_is_a_psk_mismatch() -> None:
    assert "psk-mismatch" in _psk(PSK_RAW)


@pytest.mark.parametrize("name", sorted(DISGUISES))
def test_a_disguised_paste_keeps_its_finding(name: str) -> None:
    first, _ = PSK_RAW.split("\n")
    text = DISGUISES[name](first) + "\n" + DISGUISES[name](LINE)
    diagnosis = diagnose_text(text)
    assert "psk-mismatch" in [f.id for f in diagnosis.findings], name
    shown = json.dumps(diagnosis.model_dump(mode="json"), ensure_ascii=False)
    for char in ("\x1b", "\x00", "\x07", "\u200b", "\u202e", "\u2066", "\ufeff", "\x85"):
        assert char not in shown and json.dumps(char)[1:-1] not in shown


def test_a_streamed_file_is_cleaned_across_chunk_boundaries() -> None:
    body = ("\x1b[32m" + PSK_RAW.replace("\n", "\x1b[0m\n\u200b") + "\n") * 50
    data = body.encode()
    for size in (7, 64, 1000):
        assert b"".join(clean_chunks(data[i : i + size] for i in range(0, len(data), size))) == clean_bytes(data)
    assert "psk-mismatch" in [f.id for f in diagnose_stream(io.BytesIO(data), chunk_size=97).findings]


def test_clean_input_is_left_as_it_is() -> None:
    data = PSK_RAW.encode() + "\nＰ日本語のメモ\tタブ\r\n".encode()
    assert clean_bytes(PSK_RAW.encode()) is not None and clean_bytes(PSK_RAW.encode()) == PSK_RAW.encode()
    assert clean_text("日本語のメモ\tタブ") == "日本語のメモ\tタブ"
    assert clean_bytes(data).decode().endswith("P日本語のメモ\tタブ\r\n")


def test_binary_and_utf16_keep_their_nuls_so_they_are_still_recognised() -> None:
    utf16 = PSK_RAW.encode("utf-16-le")
    assert clean_bytes(utf16) is utf16
    assert diagnose_bytes(b"\x00\x01\x02\x03" * 2000).notes


async def test_a_disguised_mention_is_answered_from_the_paste_without_control_characters() -> None:
    async with running_bot() as bot:
        first, second = PSK_TEXT.split("\n")
        pasted = "\ufeff" + DISGUISES["zero-width-in-words"](first) + "\n" + DISGUISES["ansi-colour"](second)
        await bot.send_event(mention_body(pasted))
        (reply,) = await bot.replies()
        assert "psk-mismatch" in reply["metadata"]["event_payload"]["finding_ids"]
        sent = json.dumps(reply.args, ensure_ascii=False)
        assert "\ufeff" not in sent and "\x1b" not in sent and "\\u001b" not in sent and "\u200b" not in sent
