"""Every regex the engine runs on user text stays fast on hostile input.

For each catalog signature and each prefix regex in knowledge/parse.py, the test builds inputs
from what the pattern itself accepts: long runs of the characters its repeated parts take, its
literal words repeated, each followed by a near miss, and 1 MB lines. Each attempt must finish
well under a second. Signatures must be anchored (unless marked `search`) and use only bounded
repeats, so matching stays linear.
"""

from __future__ import annotations

import re
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_p  # type: ignore[attr-defined]

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from knowledge import diagnose_text, parse
from knowledge.formats import wrappers
from knowledge.library import load_catalog
from knowledge.matcher import MATCH_WINDOW, Matcher
from knowledge.parse import ParsedLine, parse_line
from knowledge.schema import Signature
from tests.timing import least_time

LIMIT = 0.5  # seconds per pattern per input
RUN = 100_000
ONE_MB = 1 << 20
GENERIC_RUNS = ("a", " ", ".", "0", "[", "<", "%", "=", ":", "-", "_", "'", "]", ">", "\t", "f", "9", "|")
GENERIC_TOKENS = ("msg: ", "vpn: ", "<1|1> ", "[1.2.3.4] ", "1.2.3.4[500]", "ike_sa ", "child_sa ", "0x", "::")

SIGNATURES: list[Signature] = list(load_catalog().signatures)
PARSE_REGEXES: dict[str, re.Pattern[str]] = {
    **{name: value for name, value in sorted(vars(parse).items()) if isinstance(value, re.Pattern)},
    **{f"format:{w.spec.id}": w.regex for stage in ("line", "after-time", "after-tag") for w in wrappers(stage)},
}
# The parse regexes that are not line prefixes: `msg:` is searched in the first 400 characters,
# whitespace runs are collapsed with sub(), table rows split at their pipes and HTML entities
# and JSON message keys looked for; all linear.
UNANCHORED_PARSE = {"_MSG", "_SPACES", "_CELL_SPLIT", "_ENTITY", "_JSON_MESSAGE"}

_CATEGORY_SAMPLE = {
    sre_c.CATEGORY_DIGIT: "0",
    sre_c.CATEGORY_NOT_DIGIT: "a",
    sre_c.CATEGORY_SPACE: " ",
    sre_c.CATEGORY_NOT_SPACE: "a",
    sre_c.CATEGORY_WORD: "a",
    sre_c.CATEGORY_NOT_WORD: " ",
}
_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT)


def _class_samples(items: list[tuple[object, object]]) -> set[str]:
    samples: set[str] = set()
    for op, arg in items:
        if op is sre_c.LITERAL:
            samples.add(chr(arg))  # type: ignore[arg-type]
        elif op is sre_c.RANGE:
            low, high = arg  # type: ignore[misc]
            samples.update({chr(low), chr(high)})
        elif op is sre_c.CATEGORY:
            samples.add(_CATEGORY_SAMPLE.get(arg, "a"))
        elif op is sre_c.NEGATE:
            samples.add("a")
    return samples


def _children(op: object, arg: object) -> list[list[tuple[object, object]]]:
    if op in _REPEATS:
        return [arg[2]]  # type: ignore[index]
    if op is sre_c.SUBPATTERN:
        return [arg[3]]  # type: ignore[index]
    if op is sre_c.BRANCH:
        return list(arg[1])  # type: ignore[index]
    if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
        return [arg[1]]  # type: ignore[index]
    return []


def repeated_chars(pattern: str) -> set[str]:
    """Sample characters that the pattern's quantified parts accept."""
    found: set[str] = set()

    def walk(items: list[tuple[object, object]], inside: bool) -> None:
        for op, arg in items:
            for child in _children(op, arg):
                walk(child, inside or op in _REPEATS)
            if not inside:
                continue
            if op is sre_c.LITERAL:
                found.add(chr(arg))  # type: ignore[arg-type]
            elif op is sre_c.IN:
                found.update(_class_samples(arg))  # type: ignore[arg-type]
            elif op in (sre_c.ANY, sre_c.NOT_LITERAL):
                found.add("a" if arg != ord("a") else "b")

    walk(list(sre_p.parse(pattern, re.IGNORECASE)), False)
    return found


def literal_runs(pattern: str) -> list[str]:
    """The pattern's literal words (`established between`, `msg: `, …), longest first."""
    runs: list[str] = []

    def walk(items: list[tuple[object, object]]) -> None:
        current: list[str] = []
        for op, arg in items:
            if op is sre_c.LITERAL:
                current.append(chr(arg))  # type: ignore[arg-type]
                continue
            if current:
                runs.append("".join(current))
                current = []
            for child in _children(op, arg):
                walk(child)
        if current:
            runs.append("".join(current))

    walk(list(sre_p.parse(pattern, re.IGNORECASE)))
    return sorted({r for r in runs if r.strip()}, key=lambda r: (-len(r), r))


def leading_literal(pattern: str) -> str:
    """The literal text right after `^`, which an input needs to get past the anchor."""
    out: list[str] = []
    for op, arg in sre_p.parse(pattern, re.IGNORECASE):
        if op is sre_c.AT:
            continue
        if op is not sre_c.LITERAL:
            break
        out.append(chr(arg))
    return "".join(out)


def unbounded_repeats(pattern: str) -> list[str]:
    """Repeats without an upper bound, described by how deeply they are nested in other repeats."""
    found: list[str] = []

    def walk(items: list[tuple[object, object]], depth: int) -> None:
        for op, arg in items:
            if op in _REPEATS and arg[1] == sre_c.MAXREPEAT:  # type: ignore[index]
                found.append(f"unbounded repeat at nesting depth {depth}")
            for child in _children(op, arg):
                walk(child, depth + (op in _REPEATS))

    walk(list(sre_p.parse(pattern, re.IGNORECASE)), 0)
    return found


def adversarial_inputs(pattern: str, keywords: list[str]) -> dict[str, str]:
    """Inputs of about RUN characters aimed at the pattern's repeats and literals."""
    prefix = leading_literal(pattern)
    inputs: dict[str, str] = {}
    for ch in sorted(repeated_chars(pattern) | set(GENERIC_RUNS)):
        inputs[f"run {ch!r}"] = ch * RUN
        if prefix:
            inputs[f"prefix + run {ch!r}"] = prefix + ch * RUN
    tokens = sorted(set(keywords) | set(literal_runs(pattern)[:12]) | set(GENERIC_TOKENS))
    for token in tokens:
        near_miss = token[:-1] if len(token) > 1 else token + "#"
        inputs[f"{token!r} repeated"] = (token + " ") * (RUN // (len(token) + 1))
        inputs[f"{token!r} near-miss repeated"] = (token + near_miss + " ") * (RUN // (2 * len(token) + 1))
        inputs[f"{token!r} then filler"] = token + " " + "a" * RUN
        inputs[f"{token!r} with numbers"] = (token + " 1 ") * (RUN // (len(token) + 3))
        if prefix:
            inputs[f"prefix + {token!r} repeated"] = prefix + (token + " ") * (RUN // (len(token) + 1))
    return inputs


def assert_fast(rx: re.Pattern[str], inputs: dict[str, str], label: str) -> None:
    slow = {}
    for name, text in inputs.items():
        elapsed = least_time(rx.search, text, limit=LIMIT)
        if elapsed >= LIMIT:
            slow[name] = round(elapsed, 3)
    assert not slow, f"{label}: slow inputs {slow}"


# --- shape ------------------------------------------------------------------------------------
def test_catalog_has_signatures_and_parse_has_prefixes() -> None:
    assert len(SIGNATURES) > 50
    assert {"_PRI", "_SYSLOG_TIME", "_MERAKI_HDR", "_CONN", "_ASA_TAG"} <= set(PARSE_REGEXES)


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda s: s.id)
def test_signature_anchored_unless_search(sig: Signature) -> None:
    if not sig.search:
        assert sig.pattern.startswith("^"), f"{sig.id} is not anchored and not marked search: true"
    first = next(iter(sre_p.parse(sig.pattern, re.IGNORECASE)))
    assert sig.search or (first[0] is sre_c.AT and first[1] is sre_c.AT_BEGINNING)


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda s: s.id)
def test_signature_repeats_are_bounded(sig: Signature) -> None:
    assert unbounded_repeats(sig.pattern) == [], sig.pattern


@pytest.mark.parametrize("name", sorted(PARSE_REGEXES))
def test_parse_regex_shape(name: str) -> None:
    rx = PARSE_REGEXES[name]
    if name not in UNANCHORED_PARSE:
        assert rx.pattern.startswith("^"), f"{name} is a line prefix and must be anchored"
    nested = [r for r in unbounded_repeats(rx.pattern) if not r.endswith("depth 0")]
    assert nested == [], f"{name}: {nested}"


# --- speed ------------------------------------------------------------------------------------
@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda s: s.id)
def test_signature_on_adversarial_input(sig: Signature) -> None:
    rx = re.compile(sig.pattern, re.IGNORECASE)
    assert_fast(rx, adversarial_inputs(sig.pattern, sig.keywords), sig.id)


@pytest.mark.parametrize("name", sorted(PARSE_REGEXES))
def test_parse_regex_on_adversarial_input(name: str) -> None:
    rx = PARSE_REGEXES[name]
    assert_fast(rx, adversarial_inputs(rx.pattern, []), name)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_catalog())


@pytest.mark.parametrize("sig", SIGNATURES, ids=lambda s: s.id)
def test_signature_on_one_mb_lines(sig: Signature, matcher: Matcher) -> None:
    """A 1 MB line goes through the matcher as the engine applies it (keyword lookup, then regex).

    The matcher hands a signature at most MATCH_WINDOW characters, fewer than RUN, so the
    adversarial test above already covers every text a `search` pattern can meet; anchored
    patterns are also run raw on the whole line.
    """
    rx = re.compile(sig.pattern, re.IGNORECASE)
    keyword = sig.keywords[0]
    hits = 1 << matcher.scanner.keywords.index(keyword)  # the bit set the scanner reports for it
    lines = {
        "keyword repeated": (keyword + " ") * (ONE_MB // (len(keyword) + 1)),
        "prefix then filler": leading_literal(sig.pattern) + " " + "a" * ONE_MB,
    }
    for name, line in lines.items():
        elapsed = least_time(matcher.match, line, hits, limit=LIMIT)
        assert elapsed < LIMIT, f"{sig.id} via matcher on {name}: {elapsed:.3f} s"
        if not sig.search:
            elapsed = least_time(rx.match, line, limit=LIMIT)
            assert elapsed < LIMIT, f"{sig.id} on {name}: {elapsed:.3f} s"


def test_matcher_window_is_covered_by_the_adversarial_runs() -> None:
    assert MATCH_WINDOW <= RUN


@pytest.mark.parametrize(
    "line",
    [
        "a" * ONE_MB,
        " " * ONE_MB,
        "msg: " * (ONE_MB // 5),
        "<134>" * (ONE_MB // 5),
        "Jan  1 " * (ONE_MB // 7),
        "> " * (ONE_MB // 2),
        "`" * ONE_MB,
        "07[IKE] " * (ONE_MB // 8),
        "<c|1> " * (ONE_MB // 6),
        "%ASA-5-713904: " + "Group = 1.2.3.4, " * (ONE_MB // 17),
        "1578424549.917669303 " * (ONE_MB // 21),
        "Site-to-site VPN: " * (ONE_MB // 18),
        "\t \u3000" * (ONE_MB // 3),
    ],
    ids=lambda line: repr(line[:12]),
)
def test_parse_line_on_one_mb_lines(line: str) -> None:
    elapsed = least_time(parse_line, line, limit=LIMIT)
    assert elapsed < LIMIT, f"parse_line: {elapsed:.3f} s"
    elapsed = least_time(diagnose_text, line, limit=1.0)
    assert elapsed < 1.0, f"diagnose_text: {elapsed:.3f} s"


# --- parse_line never raises ------------------------------------------------------------------
WRAPPERS = [
    "<134>1 ", "<999>", "Jan  1 06:50:05 ", "Feb 30 25:61:61 ", "Jan 1 2024 10:00:00 ", "Jan 1 0000 10:00:00 ",
    "2025-07-22T10:15:04.609382Z ", "2025-02-30T10:15:04+99:99 ", "0000-00-00 00:00:00 ", "10:15:04 ",
    "1578424549.917669303 MX-HQ events ", "host 1 1578424549.9 MX events ", "Site-to-site VPN: ", "VPN: ",
    "Non-Meraki VPN  Non-Meraki VPN negotiation  msg: ", "msg: ", "fw charon[99]: ", "racoon: ", "07[IKE] ",
    "<remote-peer-1|12> ", "<|1> ", "[203.0.113.10] ", "[::1] ", "ERROR: ", "%ASA-5-713904: ",
    "Group = 1.2.3.4, ", "IP = ::ffff, ", "%CRYPTO-4-IKMP_NO_SA: ", "ISAKMP:(1001): ", "> ", "&gt; ", "* ", "```",
]


@settings(derandomize=True, database=None, deadline=None, max_examples=300)
@given(st.text())
@example("Jan 1 0000 10:00:00 x")
@example("\x00\u2028\ud7ff\U0010ffff")
def test_parse_line_never_raises_on_any_text(text: str) -> None:
    parsed = parse_line(text)
    assert isinstance(parsed, ParsedLine)
    assert isinstance(parsed.body, str)
    assert parsed.body == parsed.body.strip()
    assert parsed.ts is None or isinstance(parsed.ts, float | int)


@settings(derandomize=True, database=None, deadline=None, max_examples=300)
@given(st.lists(st.sampled_from(WRAPPERS), max_size=8), st.text(max_size=80))
def test_parse_line_never_raises_on_wrapped_text(wrappers: list[str], rest: str) -> None:
    line = "".join(wrappers) + rest
    parsed = parse_line(line)
    assert isinstance(parsed, ParsedLine)
    assert parsed.body == parsed.body.strip()
    assert len(parsed.body) <= len(line)


@pytest.mark.parametrize("stamp", ["Jan 1 0000 10:00:00", "Dec 31 0000 23:59:59", "Feb 29 0000 00:00:00"])
def test_year_zero_timestamp_does_not_crash(stamp: str) -> None:
    """Year 0 cannot be represented; the line keeps its message and loses only its time."""
    line = f"{stamp} fw charon: 07[IKE] <c|1> received NO_PROPOSAL_CHOSEN notify error"
    parsed = parse_line(line)
    assert parsed.body.endswith("received NO_PROPOSAL_CHOSEN notify error")
    diagnose_text(line)
