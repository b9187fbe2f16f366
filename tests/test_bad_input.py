"""Bad input: the engine and the CLI never raise and always answer something the reader can act on.

Empty, blank, binary, invalid UTF-8, huge files, huge lines, JSON that is not (or not quite) a
Dashboard events response; plus property tests over arbitrary text and bytes.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge import diagnose_bytes, diagnose_events, diagnose_lines, diagnose_stream, diagnose_text
from knowledge.library import load_catalog
from knowledge.models import Diagnosis, Lang
from tests.timing import least_time

SCRIPT = shutil.which("vpn-doctor") or str(Path(sys.executable).parent / "vpn-doctor")
KNOWN_IDS = frozenset(load_catalog().findings)
ONE_MB = 1 << 20
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                    suppress_health_check=[HealthCheck.too_slow])

DASH = "Jul 22 10:15:{s:02d}      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: {msg}"
PSK_BLOCK = [  # the MX event log, newest first: the pre-shared key differs
    DASH.format(s=34, msg="the packet is retransmitted by 203.0.113.10[500] (1)."),
    DASH.format(s=4, msg="HASH mismatched"),
    DASH.format(s=3, msg="begin Identity Protection mode."),
    DASH.format(s=3, msg="respond new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]"),
]
HASH_LINE = PSK_BLOCK[1]


def note(key: str, lang: Lang = "en", **facts: object) -> str:
    return load_catalog().message(key, lang, **facts)


def check_sound(diagnosis: Diagnosis, line_count: int) -> dict[str, Any]:
    """What every answer must satisfy: serialisable, known ids, evidence inside the input."""
    assert isinstance(diagnosis, Diagnosis)
    doc = json.loads(diagnosis.model_dump_json())
    assert doc == diagnosis.model_dump(mode="json")
    assert isinstance(diagnosis.summary, str) and diagnosis.summary.strip()
    for finding in diagnosis.findings:
        assert finding.id in KNOWN_IDS
        for evidence in finding.evidence:
            assert 1 <= evidence.line <= line_count, (evidence, line_count)
    return doc


def count_lines(data: bytes) -> int:
    """Lines as the engine numbers them: split on newline only, a last unterminated line counts."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def assert_nothing_found_but_told(diagnosis: Diagnosis) -> None:
    assert diagnosis.findings == []
    assert diagnosis.verdict.value == "unknown"
    assert diagnosis.notes, "an input without findings must say why"


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run([SCRIPT, *args], input=stdin, capture_output=True, timeout=120, check=False)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    return proc


def png_image(seed: int = 7, size: int = 64) -> bytes:
    """A valid, compressed PNG (a screenshot pasted by mistake looks like this)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rng = random.Random(seed)
    rows = b"".join(b"\0" + rng.randbytes(size * 3) for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# --- empty and blank --------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_empty_input(lang: Lang) -> None:
    for diagnosis in (diagnose_text("", lang), diagnose_bytes(b"", lang), diagnose_stream(io.BytesIO(b""), lang)):
        assert_nothing_found_but_told(diagnosis)
        assert note("note.empty", lang) in diagnosis.notes
        check_sound(diagnosis, 0)
    for diagnosis in (diagnose_lines([], lang), diagnose_events([], lang), diagnose_events({}, lang),
                      diagnose_events({"events": []}, lang)):
        assert diagnosis.findings == [] and diagnosis.verdict.value == "unknown"
        check_sound(diagnosis, 0)


@pytest.mark.parametrize("blank", [" ", "\n", "\n\n\n", " \t \r\n\t\n", "\u3000\n\u00a0", "\r\n" * 1000])
def test_whitespace_only(blank: str) -> None:
    diagnosis = diagnose_text(blank)
    assert_nothing_found_but_told(diagnosis)
    check_sound(diagnosis, count_lines(blank.encode()))
    assert_nothing_found_but_told(diagnose_lines(blank.split("\n")))


# --- binary -----------------------------------------------------------------------------------
BINARIES: dict[str, Callable[[], bytes]] = {
    "nul-heavy": lambda: b"\0\x01\x02\x03" * 4096,
    "random-bytes": lambda: random.Random(11).randbytes(64 << 10),
    "random-bytes-in-lines": lambda: b"\n".join(random.Random(12).randbytes(80) for _ in range(800)),
    "png": png_image,
    "png-header-only": lambda: b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x40\0\0\0\x40\x08\x02\0\0\0",
}


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_binary_is_recognised(name: str) -> None:
    data = BINARIES[name]()
    for diagnosis in (diagnose_bytes(data), diagnose_stream(io.BytesIO(data))):
        check_sound(diagnosis, count_lines(data))
        assert diagnosis.findings == []
        assert note("note.binary") in diagnosis.notes, (name, diagnosis.notes)


@pytest.mark.parametrize("name", ["nul-heavy", "png"])
def test_binary_through_the_cli(tmp_path: Path, name: str) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(BINARIES[name]())
    proc = run_cli("diagnose", "--format", "json", str(path))
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["findings"] == [] and doc["notes"]
    proc = run_cli("diagnose", "-", stdin=BINARIES[name]())
    assert proc.returncode == 0 and proc.stdout.strip()


# --- invalid UTF-8 ----------------------------------------------------------------------------
def invalid_utf8_log() -> bytes:
    """Meraki syslog of a PSK mismatch with broken bytes between and inside the lines."""
    lines = [
        b"\xff\xfe\xfd stray bytes from a bad copy",
        b"<134>1 1753179611.244272509 MX-H\xffQ events Site-to-site VPN: initiate new phase 1 negotiation: "
        b"198.51.100.2[500]<=>203.0.113.10[500]",
        b"\xc3\x28 latin-1 caf\xe9 and a lone continuation \x80",
        b"<134>1 1753179613.711178002 MX-H\xfeQ events Site-to-site VPN: notification INVALID-HASH-INFORMATION "
        b"received in unencrypted informational exchange",
        b"\xed\xa0\x80 encoded surrogate",
    ]
    return b"\n".join(lines) + b"\n"


def test_invalid_utf8_mixed_into_vpn_lines() -> None:
    data = invalid_utf8_log()
    for diagnosis in (diagnose_bytes(data), diagnose_stream(io.BytesIO(data)),
                      diagnose_text(data.decode("utf-8", "replace"))):
        check_sound(diagnosis, count_lines(data))
        psk = [f for f in diagnosis.findings if f.id == "psk-mismatch"]
        assert psk, diagnosis.finding_ids
        assert psk[0].peer == "203.0.113.10"
        assert 4 in [e.line for e in psk[0].evidence]
    assert note("note.invalid_utf8") in diagnose_bytes(data).notes


def test_invalid_utf8_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "broken.log"
    path.write_bytes(invalid_utf8_log())
    proc = run_cli("diagnose", "--format", "json", str(path))
    assert proc.returncode == 0
    doc = json.loads(proc.stdout.decode("utf-8"))
    assert "psk-mismatch" in [f["id"] for f in doc["findings"]]
    assert note("note.invalid_utf8") in doc["notes"]


# --- a 50 MB file -----------------------------------------------------------------------------
NOISE_LINES = (
    b"<134>1 1753179600.%06d MX-HQ flows src=10.0.%d.5 dst=8.8.8.8 mac=00:11:22:33:44:55 protocol=udp "
    b"sport=5353 dport=53 pattern: allow all",
    b"<134>1 1753179600.%06d MX-HQ urls src=192.168.%d.20:51234 dst=93.184.216.34:443 "
    b"mac=AA:BB:CC:DD:EE:FF request: UNKNOWN https://example.com/",
    b"<134>1 1753179600.%06d MX-HQ events dhcp lease of ip 192.168.%d.77 from server mac 00:18:0A:11:22:33 "
    b"for client mac 58:EF:68:00:00:01",
)


def subnet_block(epoch: int, peer: bytes) -> bytes:
    """Phase 1 up, then the MX finds no matching sainfo for phase 2."""
    hdr = b"<134>1 %d.%d00000000 MX-HQ events Site-to-site VPN: "
    return b"".join([
        hdr % (epoch, 1) + b"initiate new phase 1 negotiation: 198.51.100.2[500]<=>%s[500]\n" % peer,
        hdr % (epoch + 1, 2) + b"ISAKMP-SA established 198.51.100.2[500]-%s[500] spi:4b55c9d1:e74fdf27\n" % peer,
        hdr % (epoch + 2, 3) + b"initiate new phase 2 negotiation: 198.51.100.2[500]<=>%s[500]\n" % peer,
        hdr % (epoch + 3, 4) + b"failed to get sainfo.\n",
    ])


@pytest.fixture(scope="module")
def fifty_mb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[int]]]:
    """50 MiB of mostly non-VPN syslog with a failing VPN exchange at the start, middle and end."""
    noise = b"".join(NOISE_LINES[i % 3] % (i, i % 250) + b"\n" for i in range(300))
    blocks = {peer: subnet_block(1753179601 + 1000 * n, peer.encode())
              for n, peer in enumerate(("203.0.113.10", "203.0.113.20", "203.0.113.30"))}
    size = 50 << 20
    reps = (size - sum(map(len, blocks.values()))) // len(noise)
    a, b, c = blocks.values()
    data = a + noise * (reps // 2) + b + noise * (reps - reps // 2) + c
    data += b"#" * (size - len(data) - 1) + b"\n"
    assert len(data) == size
    expected: dict[str, list[int]] = {}
    for peer, block in blocks.items():
        start = data.index(block)
        first = data.count(b"\n", 0, start) + 1
        expected[peer] = [first + 1, first + 3]  # ISAKMP-SA established, failed to get sainfo
    path = tmp_path_factory.mktemp("big") / "syslog-50mb.log"
    path.write_bytes(data)
    return path, expected


def assert_big_file_diagnosed(diagnosis: Diagnosis, expected: dict[str, list[int]], total_lines: int) -> None:
    check_sound(diagnosis, total_lines)
    assert diagnosis.lines_read == total_lines
    assert diagnosis.vpn_lines == 12
    subnet = {f.peer: [e.line for e in f.evidence] for f in diagnosis.findings if f.id == "subnet-mismatch"}
    assert set(subnet) == set(expected)
    for peer, lines in expected.items():
        assert set(lines) <= set(subnet[peer]), (peer, subnet[peer], lines)


def test_fifty_mb_file(fifty_mb: tuple[Path, dict[str, list[int]]]) -> None:
    path, expected = fifty_mb
    total = count_lines(path.read_bytes())
    with path.open("rb") as stream:
        assert_big_file_diagnosed(diagnose_stream(stream), expected, total)
    assert_big_file_diagnosed(diagnose_bytes(path.read_bytes()), expected, total)


def test_fifty_mb_file_through_the_cli(fifty_mb: tuple[Path, dict[str, list[int]]]) -> None:
    path, expected = fifty_mb
    proc = run_cli("diagnose", "--format", "json", str(path))
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    peers = {f["peer"] for f in doc["findings"] if f["id"] == "subnet-mismatch"}
    assert peers == set(expected)


# --- a single 1 MB line -----------------------------------------------------------------------
def one_mb_cases() -> dict[str, bytes]:
    filler = b"a" * ONE_MB
    hash_line = HASH_LINE.encode()
    return {
        "no-keyword": filler,
        "no-keyword-newline": filler + b"\n",
        "spaces": b" " * ONE_MB,
        "keyword-at-start": hash_line + b" " + filler,
        "keyword-at-end": filler + b" " + hash_line,
        "keyword-at-end-newline": filler + b" " + hash_line + b"\n",
        "keyword-repeated": (b"msg: HASH mismatched " * (ONE_MB // 21))[:ONE_MB],
        "charon-prefix-repeated": (b"07[IKE] <c|1> " * (ONE_MB // 14))[:ONE_MB],
        "timestamps-repeated": (b"Jul 22 10:15:04 " * (ONE_MB // 16))[:ONE_MB],
        "brackets": b"[" * ONE_MB,
        "utf8-multibyte": ("設定" * (ONE_MB // 6)).encode(),
    }


@pytest.mark.parametrize("name", sorted(one_mb_cases()))
def test_one_mb_line_under_a_second(name: str) -> None:
    data = one_mb_cases()[name]
    text = data.decode("utf-8")
    diagnose_text("warm up the catalog")
    for label, call in (("text", lambda: diagnose_text(text)), ("bytes", lambda: diagnose_bytes(data)),
                        ("stream", lambda: diagnose_stream(io.BytesIO(data))),
                        ("lines", lambda: diagnose_lines(text.split("\n")))):
        start = time.perf_counter()
        diagnosis = call()
        elapsed = least_time(call, limit=1.0, first=time.perf_counter() - start)
        assert elapsed < 1.0, f"{name} via {label}: {elapsed:.2f} s"
        check_sound(diagnosis, count_lines(data))
        assert diagnosis.notes


def test_one_mb_event_message_under_a_second() -> None:
    """A Dashboard event's message is not cut by the line scanner, so it must be bounded elsewhere."""
    huge = "HASH mismatched " + "x" * ONE_MB
    diagnose_text("warm up the catalog")
    for msg in (huge, "x" * ONE_MB + " HASH mismatched", "msg: " * (ONE_MB // 5)):
        text = json.dumps({"events": [api_event(msg), *psk_events()]})
        start = time.perf_counter()
        diagnosis = diagnose_text(text)
        elapsed = least_time(diagnose_text, text, limit=1.0, first=time.perf_counter() - start)
        assert elapsed < 1.0, f"{elapsed:.2f} s"
        assert "psk-mismatch" in check_sound_ids(diagnosis, text)
        assert all(len(e.text) <= 300 for f in diagnosis.findings for e in f.evidence)


def test_one_mb_line_does_not_hide_the_next_lines() -> None:
    after = "\n".join(PSK_BLOCK) + "\n"
    for head in ("a" * ONE_MB, HASH_LINE + " " + "b" * ONE_MB, "c" * ONE_MB + " " + HASH_LINE):
        data = (head + "\n" + after).encode()
        for diagnosis in (diagnose_bytes(data), diagnose_stream(io.BytesIO(data), chunk_size=64 << 10)):
            psk = [f for f in diagnosis.findings if f.id == "psk-mismatch"]
            assert psk, diagnosis.finding_ids
            assert 3 in [e.line for e in psk[0].evidence]  # HASH_LINE is line 2 of the block


def test_one_mb_line_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_bytes(b"x" * ONE_MB + b" " + HASH_LINE.encode() + b"\n" + "\n".join(PSK_BLOCK).encode())
    proc = run_cli("diagnose", "--format", "json", str(path))
    assert proc.returncode == 0
    assert "psk-mismatch" in [f["id"] for f in json.loads(proc.stdout)["findings"]]


# --- JSON that is not, or not quite, a Dashboard events response -------------------------------
def api_event(msg: object = "HASH mismatched", when: object = "2025-07-22T10:15:04.609382Z",
              data: object = None) -> dict[str, Any]:
    return {
        "occurredAt": when,
        "networkId": "L_646829496481105433",
        "type": "non_meraki_vpn",
        "description": "Non-Meraki VPN negotiation",
        "deviceName": "MX-HQ",
        "eventData": {"msg": msg} if data is None else data,
    }


def psk_events(when: Callable[[int], object] = lambda s: f"2025-07-22T10:15:{s:02d}.000000Z") -> list[dict[str, Any]]:
    return [
        api_event("HASH mismatched", when(4)),
        api_event("begin Identity Protection mode.", when(3)),
        api_event("respond new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]", when(2)),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '{"foo": 1}', "[1, 2, 3]", '{"events": "none"}', '{"events": null}', '{"events": {"msg": "HASH mismatched"}}',
        '[{"eventData": null}]', '{"networks": [{"id": "N_1", "name": "HQ"}]}', "null", "true", '"HASH mismatched"',
        '{"errors": ["Invalid API key"]}',
    ],
)
def test_json_that_is_not_an_events_response(text: str) -> None:
    """No event is read from it; a key phrase it carries gives at most a hedged answer that says so."""
    diagnosis = diagnose_text(text)
    check_sound(diagnosis, count_lines(text.encode()))
    assert diagnosis.notes
    assert all(f.confidence < 0.7 for f in diagnosis.findings)
    if diagnosis.findings:
        assert any("recognised" in note for note in diagnosis.notes)


def test_truncated_events_json() -> None:
    full = json.dumps({"events": psk_events()}, indent=2)
    for cut in (1, len(full) // 3, len(full) // 2, len(full) - 2):
        text = full[:cut]
        diagnosis = diagnose_text(text)
        check_sound(diagnosis, count_lines(text.encode()))
        assert diagnosis.notes


@pytest.mark.parametrize("depth", [100, 10_000, 200_000])
def test_deeply_nested_json(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth,
                 '{"events": [' + '{"eventData": ' * depth + "{}" + "}" * depth + "]}"):
        start = time.perf_counter()
        diagnosis = diagnose_text(text)
        assert least_time(diagnose_text, text, limit=1.0, first=time.perf_counter() - start) < 1.0
        check_sound(diagnosis, 1)
        assert diagnosis.notes


def test_events_with_wrong_types_are_skipped() -> None:
    broken = [
        api_event(data="HASH mismatched"),
        api_event(msg=5),
        api_event(msg=["HASH mismatched"]),
        api_event(msg=None),
        api_event(msg={"text": "HASH mismatched"}),
        api_event(data=[{"msg": "HASH mismatched"}]),
        api_event(msg=""),
        "not an event",
        17,
        None,
        [api_event()],
    ]
    for doc in (broken, {"events": broken}):
        diagnosis = diagnose_events(doc)  # type: ignore[arg-type]
        assert diagnosis.findings == []
        assert diagnosis.notes
        text = json.dumps(doc)
        check_sound(diagnose_text(text), count_lines(text.encode()))
    mixed = broken + psk_events()
    diagnosis = diagnose_events({"events": mixed})
    assert "psk-mismatch" in diagnosis.finding_ids
    text = json.dumps({"events": mixed}, indent=1)
    assert "psk-mismatch" in check_sound_ids(diagnose_text(text), text)


def check_sound_ids(diagnosis: Diagnosis, text: str) -> list[str]:
    check_sound(diagnosis, count_lines(text.encode()))
    return diagnosis.finding_ids


@pytest.mark.parametrize("when", ["garbage", "2025-13-45T99:99:99Z", "yesterday", 1753179611, None, [], {"t": 1}],
                         ids=["garbage", "impossible-date", "word", "number", "null", "list", "object"])
def test_events_with_unreadable_times_are_still_diagnosed(when: object) -> None:
    """A bad `occurredAt` loses the time, not the message."""
    events = psk_events(lambda _s: when)
    diagnosis = diagnose_events({"events": events})
    assert "psk-mismatch" in diagnosis.finding_ids, diagnosis.finding_ids
    text = json.dumps({"events": events}, indent=2)
    assert "psk-mismatch" in check_sound_ids(diagnose_text(text), text)


def test_no_duplicate_notes_for_events_without_messages() -> None:
    for doc in ({"events": [api_event(msg=5), api_event(data="x")]}, [{"eventData": "x"}]):
        diagnosis = diagnose_text(json.dumps(doc))
        assert diagnosis.notes
        assert len(diagnosis.notes) == len(set(diagnosis.notes)), diagnosis.notes


def test_events_json_evidence_lines_with_unicode_line_separators() -> None:
    """U+2028 and U+0085 are legal raw inside JSON strings and are not line breaks in a file."""
    events = psk_events()
    events[0]["deviceName"] = "MX\u2028HQ"
    events[1]["description"] = "Non-Meraki\u0085VPN"
    text = json.dumps({"events": events}, indent=2, ensure_ascii=False)
    lines = text.split("\n")
    diagnosis = diagnose_text(text)
    check_sound(diagnosis, len(lines))
    psk = [f for f in diagnosis.findings if f.id == "psk-mismatch"]
    assert psk
    for evidence in psk[0].evidence:
        msg = evidence.text.split("msg: ", 1)[1]
        assert json.dumps(msg, ensure_ascii=False)[1:-1] in lines[evidence.line - 1], (evidence, lines)


def test_bad_json_through_the_cli(tmp_path: Path) -> None:
    for name, text in (("truncated.json", '{"events": [{"eventData": {"msg": "HASH mis'),
                       ("nested.json", "[" * 100_000),
                       ("wrong-types.json", json.dumps({"events": [api_event(msg=5), api_event(data="x")]}))):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        proc = run_cli("diagnose", str(path))
        assert proc.returncode == 0, (name, proc.stderr)
        assert proc.stdout.strip()


# --- property tests ---------------------------------------------------------------------------
FRAGMENTS = [
    *PSK_BLOCK,
    "<134>1 1578424549.917669303 MX-HQ events Site-to-site VPN: failed to get sainfo.",
    "<134>1 1578424549.917669303 MX-HQ events VPN: ISAKMP-SA established 1.2.3.4[500]-5.6.7.8[500] spi:00:00",
    "<remote-peer-2|12> IKE_SA remote-peer-2[12] established between 198.51.100.2[198.51.100.2]...203.0.113.10[x]",
    "12[IKE] <conn|1> received NO_PROPOSAL_CHOSEN notify error",
    "May 19 05:29:30 fw charon[1]: 07[IKE] <c|1> tried 1 shared key for 'a' - 'b', but MAC mismatched",
    "%ASA-3-713902: Group = 203.0.113.10, IP = 203.0.113.10, QM FSM error (P2 struct &0x1, mess id 0x1)!",
    "%ASA-5-713904: IP = 203.0.113.10, All SA proposals found unacceptable",
    "only some hosts can reach the other side", "数時間ごとに切断される", "```", "> quoted msg: ",
    "notification NO-PROPOSAL-CHOSEN received in informational exchange.",
    "phase1 negotiation failed due to time up. 203.0.113.10[500]<=>198.51.100.2[500] 1111111111111111:0000000000000000",
]
LINE = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=200),
    st.sampled_from(FRAGMENTS),
    st.builds(lambda a, b, c: a + b + c, st.sampled_from(FRAGMENTS), st.text(max_size=20), st.sampled_from(FRAGMENTS)),
)


@PROPERTY
@given(st.text(), st.sampled_from(["en", "ja"]))
def test_any_text(text: str, lang: Lang) -> None:
    check_sound(diagnose_text(text, lang), count_lines(text.encode()))


@PROPERTY
@given(st.lists(LINE, max_size=30), st.sampled_from(["\n", "\r\n"]))
def test_any_lines_of_log_like_text(lines: list[str], eol: str) -> None:
    text = eol.join(lines)
    check_sound(diagnose_text(text), count_lines(text.encode()))
    check_sound(diagnose_lines(lines), count_lines(("\n".join(lines) + "\n").encode()))


@PROPERTY
@given(st.binary(max_size=4096))
def test_any_bytes(data: bytes) -> None:
    check_sound(diagnose_bytes(data), count_lines(data))
    check_sound(diagnose_stream(io.BytesIO(data), chunk_size=97), count_lines(data))


@PROPERTY
@given(st.lists(st.text(min_size=1, max_size=120), max_size=8), st.sampled_from([None, 2, "\t"]))
def test_events_json_with_any_messages(messages: list[str], indent: int | str | None) -> None:
    events = [api_event(msg) for msg in messages] + psk_events()
    text = json.dumps({"events": events}, indent=indent, ensure_ascii=False)
    lines = text.split("\n")
    diagnosis = diagnose_text(text)
    check_sound(diagnosis, len(lines))
    for finding in diagnosis.findings:
        for evidence in finding.evidence:
            msg = evidence.text.split("msg: ", 1)[1].removesuffix("…")
            assert json.dumps(msg, ensure_ascii=False)[1:-1] in lines[evidence.line - 1]


NOISE = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=120),
    st.sampled_from([line.decode() % (7, 7) for line in NOISE_LINES]),
)


@PROPERTY
@given(st.lists(NOISE, max_size=20), st.lists(NOISE, max_size=20), st.lists(st.lists(NOISE, max_size=3),
       min_size=len(PSK_BLOCK) - 1, max_size=len(PSK_BLOCK) - 1))
def test_noise_around_a_failing_block(before: list[str], after: list[str], between: list[list[str]]) -> None:
    lines = list(before)
    for index, vpn_line in enumerate(PSK_BLOCK):
        if vpn_line == HASH_LINE:
            hash_no = len(lines) + 1
        lines.append(vpn_line)
        if index < len(between):
            lines.extend(between[index])
    lines.extend(after)
    text = "\n".join(lines)
    diagnosis = diagnose_text(text)
    check_sound(diagnosis, count_lines(text.encode()))
    psk = [f for f in diagnosis.findings if f.id == "psk-mismatch"]
    assert psk, (diagnosis.finding_ids, text)
    assert psk[0].peer == "203.0.113.10"
    assert hash_no in [e.line for e in psk[0].evidence]
