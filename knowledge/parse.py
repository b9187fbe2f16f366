"""Peels the wrappers off a log line: collector and Meraki syslog headers, Dashboard columns,
daemon tags, charon's thread and connection prefixes, racoon's level, ASA's tag.

What remains is the daemon's own message (the part the catalog's signatures describe), plus
the facts the wrappers carried: a time stamp, the charon connection and IKE_SA id, an address.
libreswan's pluto names the connection and a state number (`"conn" #3: `); only the connection is
kept, because pluto numbers each Child SA / quick mode as a state of its own, and the timeline would
otherwise read a child line as a new negotiation whose phase 1 never completed.
Every pattern here is anchored and uses bounded repeats, so a hostile line costs linear time.
"""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from knowledge.formats import first_match
from knowledge.schema import PATTERN_MACROS

LINE_WRAPPERS = 3  # outer wrappers of the line stage peeled one after the other
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}"
_ADDR = PATTERN_MACROS["ADDR"]

_QUOTE = re.compile(r"^(?:\s{0,40}(?:>|&gt;|[-*•]\s)\s{0,10}){1,5}")
_QUOTE_START = frozenset(">&-*•` \t")
_FENCE = re.compile(r"^\s{0,40}`{1,3}")
_PRI = re.compile(r"^<\d{1,3}>\d?\s{0,4}")
_SYSLOG_TIME = re.compile(
    rf"^(?P<mon>{_MON})\.?\s{{1,4}}(?P<day>\d{{1,2}}),?\s{{1,4}}(?:(?P<year>\d{{4}})\s{{1,4}})?"
    r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})(?P<frac>\.\d{1,9})?\s{0,40}",
    re.I,
)
_ISO_TIME = re.compile(
    r"^(?P<y>\d{4})[-/](?P<mo>\d{2})[-/](?P<d>\d{2})[T ](?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?P<frac>\.\d{1,9})?(?P<tz>Z|[+-]\d{2}:?\d{2})?\s{0,40}",
    re.I,
)
# The Dashboard's CSV export: `10/20/2022 11:24` (month first), seconds and AM/PM optional.
_US_TIME = re.compile(
    r"^(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})[ ,T]{1,3}(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?"
    r"(?:\s{0,2}(?P<ampm>[AP]M))?(?:\s{0,4}(?:UTC|GMT|Z))?\s{0,40}",
    re.I,
)
_JSON_MESSAGE_KEYS = ("details", "message", "msg")
_JSON_TIME_KEYS = ("event_timestamp", "timestamp", "occurredAt", "time")
_JSON_MESSAGE = re.compile(r'"(?:details|message|msg)"\s{0,4}:')
JSON_LINE_CHARS = 20_000
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|apos|#\d{1,5});")
_CLOCK_TIME = re.compile(r"^(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?P<frac>\.\d{1,9})?\s{1,40}")
_MERAKI_HDR = re.compile(
    r"^(?:\S{1,100}\s{1,10}\d\s{1,10})?(?P<epoch>\d{9,10}\.\d{1,9})\s{1,10}(?P<device>\S{1,100})"
    r"\s{1,10}events\s{1,10}",
    re.I,
)
# The Dashboard's usual columns: the common case of the `msg:` rule in _peel_source, for _COMMON.
_DASHBOARD_COLUMNS = re.compile(
    r"^(?i:non-meraki vpn\s{1,10}non-meraki vpn negotiation|vpn)\s{1,10}(?:msg|MSG):\s{0,10}"
)
_MSG = re.compile(r"(?:^|\s)msg:\s{0,10}", re.I)
_VPN_PREFIX = re.compile(
    r"^(?:site-to-site vpn|non-meraki vpn(?: negotiation)?|non-meraki / client vpn(?: negotiation)?"
    r"|vpn)\s{0,4}:\s{0,10}",
    re.I,
)
_PROGRAM = re.compile(
    r"^(?:[\w.-]{1,100}\s{1,10})?(?P<prog>charon|charon-systemd|racoon|pluto|ipsec|strongswan|"
    r"ipsec_starter|swanctl)(?:\[\d{1,10}\])?:\s{0,10}",
    re.I,
)
_PROGRAM_NAMES = ("charon", "charon-systemd", "racoon", "pluto", "ipsec", "strongswan", "ipsec_starter", "swanctl")
_THREAD = re.compile(r"^\d{1,3}\[(?P<group>[A-Z]{2,4})\]\s{1,10}")
# A connection name may hold a documentation placeholder with spaces (`peer_{PEER GW IP}`).
_CONN = re.compile(r"^<(?:(?P<conn>(?:[^|<>\s{}]|\{[^{}|<>]{1,40}\}){1,100})\|)?(?P<uid>\d{1,10})>\s{0,10}")
# pluto: `[: ][ERROR: ]"conn"[[n] addr] #n: ` or `packet from addr:port: `; the leading ": " is what
# remains of pluto's own `Mon dd hh:mm:ss.micro: ` time stamp once the time is taken.
_PLUTO = re.compile(
    rf'^(?::\s{{1,4}})?(?:ERROR:\s{{1,4}})?(?:"(?P<conn>[^"\s]{{1,100}})"(?:\[\d{{1,10}}\])?'
    rf"(?:\s{{1,4}}(?P<instance>{_ADDR})(?::\d{{1,5}})?)?(?:\s{{1,4}}#(?P<serial>\d{{1,10}}))?"
    rf"|packet from (?P<addr>{_ADDR})(?::\d{{1,5}})?)(?::\s{{0,10}}|\s{{1,10}}(?=[a-z]))",
    re.I,
)
_RACOON_ADDR = re.compile(rf"^\[(?P<addr>{_ADDR})\]\s{{0,10}}", re.I)
_RACOON_LEVEL = re.compile(r"^(?:ERROR|WARNING|NOTIFY|INFO|DEBUG2?):\s{0,10}")
# racoon built with debug output names its source: `oakley.c:2054:oakley_skeyid(): `, or the function
# alone: `isakmp_ph1resend(): `
_RACOON_SOURCE = re.compile(r"^(?:[a-z_0-9]{1,30}\.c:\d{1,6}:)?[a-z_][a-z_0-9]{1,60}\(\):\s{0,10}")
_ASA_TAG = re.compile(r"^%(?:ASA|FTD|PIX)-\d-\d{6}(?::\s{0,10}|\s{1,10})", re.I)
_ASA_FIELD = re.compile(r"^(?P<key>Group|Username|IP)\s{0,4}=\s{0,4}(?P<value>[^,]{1,100}),\s{0,10}", re.I)
_IOS_TAG = re.compile(r"^(?:%CRYPTO-\d-[A-Z_]{1,40}:\s{0,10}|ISAKMP(?::\(\d{1,10}\))?:\s{1,10})", re.I)
_SPACES = re.compile(r"\s+")
_CELL_SPLIT = re.compile(r"(?<!\\)(?:(?<=\s)\||\|(?=\s|$)|^\|)")
_IP = re.compile(rf"^{_ADDR}$", re.I)


@dataclass(slots=True)
class ParsedLine:
    body: str
    ts: float | None = None
    ts_kind: str | None = None
    conn: str | None = None
    uid: str | None = None
    addr: str | None = None
    shape: str = "plain"  # dashboard, syslog, charon, racoon, pluto, asa, plain
    peer_side: bool = False
    serial: str | None = None  # pluto's state number: ties a Child SA to the IKE SA it was made under


@lru_cache(maxsize=4096)
def _midnight(year: int, month: int, day: int) -> float:
    year = min(max(year, 1970), 9999)
    try:
        return datetime(year, month, day, tzinfo=UTC).timestamp()
    except ValueError:
        return datetime(year, month, 1, tzinfo=UTC).timestamp()


def _year_less(m: re.Match[str]) -> float:
    mon, day, year, h, mi, sec, frac = m.group("mon", "day", "year", "h", "m", "s", "frac")
    seconds = min(int(h), 23) * 3600 + min(int(mi), 59) * 60 + min(int(sec), 59)
    midnight = _midnight(int(year) if year else 2000, _MONTHS[mon[:3].lower()], int(day))
    return midnight + seconds + (float(frac) if frac else 0.0)


def _iso(m: re.Match[str]) -> float | None:
    try:
        fields = (int(m[k]) for k in ("y", "mo", "d", "h", "m", "s"))
        moment = datetime(*fields, tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    value = moment.timestamp() + (float(m["frac"]) if m["frac"] else 0.0)
    tz = m["tz"]
    if tz and tz.upper() != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        value -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return value


def _us(m: re.Match[str]) -> float | None:
    hour = int(m["h"]) % 12 + (12 if (m["ampm"] or "").upper() == "PM" else 0) if m["ampm"] else int(m["h"])
    try:
        moment = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), hour, int(m["m"]), int(m["s"] or 0), tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp()


def parse_iso(text: str) -> float | None:
    m = _ISO_TIME.match(text.strip())
    return _iso(m) if m else None


_STAMPS: dict[str, tuple[float, str]] = {}  # logs repeat the same second on many lines


def _syslog_stamp(m: re.Match[str], stamp: str) -> tuple[float, str]:
    """The time of a _SYSLOG_TIME match (or of _COMMON's, which names the same groups) whose text is `stamp`."""
    known = _STAMPS.get(stamp)
    if known is None:
        if len(_STAMPS) > 8192:
            _STAMPS.clear()
        known = _STAMPS[stamp] = (_year_less(m), "absolute" if m["year"] else "syslog")
    return known


def _take_time(line: str) -> tuple[str, float | None, str | None]:
    first = line[:1]
    if first.isalpha():
        m = _SYSLOG_TIME.match(line) if line[:3].lower() in _MONTHS else None
        if m:
            ts, kind = _syslog_stamp(m, m[0])
            return line[m.end():], ts, kind
    elif first.isdigit():
        m = _ISO_TIME.match(line)
        if m:
            return line[m.end():], _iso(m), "absolute"
        m = _US_TIME.match(line) if "/" in line[:3] else None
        if m:
            return line[m.end():], _us(m), "absolute"
        m = _CLOCK_TIME.match(line)
        if m:
            frac = float(m["frac"]) if m["frac"] else 0.0
            return line[m.end():], int(m["h"]) * 3600 + int(m["m"]) * 60 + int(m["s"]) + frac, "clock"
    return line, None, None


def parse_line(text: str) -> ParsedLine:
    """Split one raw line into the daemon message and what its wrappers said."""
    m = _COMMON.match(text)
    if m is None:
        return parse_wrapped(text)
    body, conn, uid = text[m.end():], m["conn"], m["uid"]
    if _needs_more_peeling(body, uid is not None):
        return parse_wrapped(text)
    stamp = m["stamp"]
    if stamp is None:
        return ParsedLine(body, float(m["epoch"]), "absolute", conn, uid, None, "syslog")
    ts, kind = _syslog_stamp(m, stamp)
    return ParsedLine(body, ts, kind, conn, uid, None, "dashboard")


def _needs_more_peeling(body: str, had_conn: bool) -> bool:
    """What _COMMON leaves to plain string tests: parse_wrapped would still change these bodies."""
    return (
        not body or "%" in body[:120] or "  " in body or "\t" in body or body[-1] == "`" or body[-1].isspace()
        or (not had_conn and _may_name_program(body))
        or ("&" in body and _ENTITY.search(body, 0, 400) is not None)
    )


def parse_wrapped(text: str) -> ParsedLine:
    """The general peeler: every wrapper in turn, each tried only when the next character could start it."""
    line = text.strip()
    if line[:2] == "! ":
        return ParsedLine(body="")  # a Cisco comment: people annotate debug output with them
    if "&" in line and _ENTITY.search(line, 0, 400):
        line = html.unescape(line)
    if line[:1] == '"' and '","' in line:
        line = _csv_row(line)
    elif line[:1] == "{" and _JSON_MESSAGE.search(line, 0, 2000):
        line = _json_line(line)
    if line[:1] in _QUOTE_START:
        if _FENCE.match(line):
            line = line.lstrip().lstrip("`")
        m = _QUOTE.match(line)
        if m:
            line = line[m.end():]
    if "|" in line and (line[:1] == "|" or " | " in line or line.endswith(" |")):
        line = _table_cell(line)
    if line[:1] == "<":
        m = _PRI.match(line)
        if m:
            line = line[m.end():]

    out = ParsedLine(body="")
    for _ in range(LINE_WRAPPERS):  # a test harness or grep may wrap a line that has its own wrapper
        peeled = _apply_format("line", line, out)
        if peeled == line:
            break
        line = peeled
    line, out.ts, out.ts_kind = _take_time(line)
    line = _apply_format("after-time", line, out)

    line = _peel_source(line, out)
    if line[:1] in "sSnNvV":
        m = _VPN_PREFIX.match(line)
        if m:
            line = line[m.end():]
            if out.shape == "plain":
                out.shape = "syslog"

    # A raw daemon line may sit inside the Meraki wrapper with its own (UTC) clock.
    inner, inner_ts, inner_kind = _take_time(line)
    if inner_ts is not None:
        line = inner
        if out.ts is None:
            out.ts, out.ts_kind = inner_ts, inner_kind
    if _may_name_program(line):
        m = _PROGRAM.match(line)
        if m:
            line = line[m.end():]
            if out.shape == "plain":
                prog = m["prog"].lower()
                out.shape = prog if prog in ("racoon", "pluto") else "charon"
                out.peer_side = prog != "racoon"
    line = _apply_format("after-program", line, out)
    first = line[:1]
    if first.isdigit():
        m = _THREAD.match(line)
        if m:
            line = line[m.end():]
            first = line[:1]
            if out.shape == "plain":
                out.shape, out.peer_side = "charon", True
    if first == "<":
        m = _CONN.match(line)
        if m:
            out.conn, out.uid = m["conn"], m["uid"]
            line = line[m.end():]
            first = line[:1]
            if out.shape == "plain":
                out.shape = "charon"
                out.peer_side = not (out.conn or "").startswith("remote-peer-")
    if first in ':"Ep' and out.conn is None and (first in ':"' or line[:6].lower() in ("error:", "packet")):
        m = _PLUTO.match(line)
        if m:
            out.conn, out.addr, out.serial = m["conn"], m["addr"] or m["instance"], m["serial"]
            line = line[m.end():]
            first = line[:1]
            if out.shape in ("plain", "charon"):
                out.shape, out.peer_side = "pluto", True
    if first == "[":
        m = _RACOON_ADDR.match(line)
        if m:
            out.addr = m["addr"]
            line = line[m.end():]
            first = line[:1]
    if first in "EWNID" and ":" in line[:8]:
        m = _RACOON_LEVEL.match(line)
        if m:
            line = line[m.end():]
            source = _RACOON_SOURCE.match(line)
            if source:
                line = line[source.end():]
            first = line[:1]
            if out.shape == "plain":
                out.shape = "racoon"
    cisco = line.find("%", 0, 120)
    if cisco >= 0 or line[:6].upper() == "ISAKMP":
        _peel_cisco(line[cisco:] if cisco > 0 and line[cisco + 1 : cisco + 4].isalpha() else line, out)
        line = out.body or line
    out.body = _SPACES.sub(" ", line).strip() if ("  " in line or "\t" in line) else line.strip()
    if out.body.endswith("`"):
        out.body = out.body.rstrip("`").strip()
    return out


def _apply_format(stage: str, line: str, out: ParsedLine) -> str:
    """Peel the catalog wrapper of this stage that starts the line, if one does."""
    found = first_match(stage, line)
    if found is None:
        return line
    wrapper, m = found
    spec = wrapper.spec
    groups = m.groupdict()
    out.conn = groups.get("conn") or out.conn
    out.addr = groups.get("addr") or out.addr
    if spec.shape and out.shape == "plain":
        out.shape = spec.shape
    if spec.peer_side is not None:
        out.peer_side = spec.peer_side
    line = groups["message"] if groups.get("message") is not None else line[m.end():]
    return _asa_fields(line, out) if spec.fields else line


def _json_line(line: str) -> str:
    """One JSON object per line (AWS Site-to-Site VPN tunnel logs: `event_timestamp`, `details`):
    its time and message as a plain line; anything that is not such an object stays as it was."""
    try:
        data = json.loads(line[:JSON_LINE_CHARS])
    except ValueError:
        return line
    if not isinstance(data, dict):
        return line
    message = next((data[k] for k in _JSON_MESSAGE_KEYS if isinstance(data.get(k), str)), None)
    if message is None:
        return line
    stamp = next((data[k] for k in _JSON_TIME_KEYS if isinstance(data.get(k), (int, float, str))), None)
    when = ""
    if isinstance(stamp, (int, float)) and 0 < stamp < 1e11:
        when = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif isinstance(stamp, str) and _ISO_TIME.match(stamp):
        when = stamp
    return f"{when} {message}".strip()


def _csv_row(line: str) -> str:
    """A row of the Dashboard's CSV export: its time cell, then the cell holding the message."""
    try:
        cells = [c.strip() for c in next(csv.reader([line]))]
    except (csv.Error, StopIteration):
        return line
    when = next((c for c in cells if c[:1].isdigit() and (_US_TIME.match(c) or _ISO_TIME.match(c))), "")
    message = next((c for c in cells if "msg:" in c.lower()), None) or max(cells, key=len, default="")
    return f"{when} {message}".strip() if message else line


def _table_cell(line: str) -> str:
    """A table row (Markdown, or cells copied from a page): the cell quoted as code, else the last one.

    `\\|` is a pipe inside a cell; pipes inside a token (`<conn|id>`, `10.0.0.0/24|/0`) do not split.
    """
    cells = [c.strip() for c in _CELL_SPLIT.split(line)]
    filled = [c for c in cells if c]
    if len(cells) <= 2 or not filled:
        return line
    # A documentation table quotes the log line as code and explains it in another cell.
    quoted = [c for c in filled if len(c) > 2 and c[0] == "`" and c[-1] == "`"]
    return (quoted[0][1:-1] if quoted else filled[-1]).replace("\\|", "|")


def _may_name_program(line: str) -> bool:
    """Whether the line could start with a daemon's name and colon (a cheap test before _PROGRAM)."""
    colon = line.find(":", 0, 140)
    return colon > 0 and line[:colon].rstrip("]0123456789[").lower().endswith(_PROGRAM_NAMES)


def _inline(pattern: re.Pattern[str], keep: tuple[str, ...] = ()) -> str:
    """A peeler's regex as a part of a bigger one: unanchored, its flags scoped, only `keep` groups named."""
    body = re.sub(r"\(\?P<(\w+)>", lambda g: g[0] if g[1] in keep else "(?:", pattern.pattern.removeprefix("^"))
    return f"(?i:{body})" if pattern.flags & re.I else f"(?:{body})"


def _common_shapes() -> re.Pattern[str]:
    """The two wrappers nearly every pasted line has, peeled by one regex.

    It applies the same peelers in the same order as parse_wrapped (each atomic, as a separate
    match would be; the Dashboard columns are the usual case of its `msg:` rule) and declines any
    line on which parse_wrapped would peel anything more after the wrapper: a time stamp, thread,
    pluto, racoon or Cisco prefix. parse_line declines the rest (a program name, a '%' near the
    start, runs of spaces, a trailing backtick or space) with plain string tests. Declined lines
    take the general path, so both paths give the same result.
    """
    time = _inline(_SYSLOG_TIME)
    stamp = _inline(_SYSLOG_TIME, keep=tuple(_SYSLOG_TIME.groupindex))
    dashboard = rf"(?=[A-Za-z]{{3}})(?P<stamp>(?>{stamp}))(?>{_inline(_DASHBOARD_COLUMNS)})"
    syslog = (
        rf"(?>{_inline(_PRI)})(?!{time}|{_inline(_ISO_TIME)}|{_inline(_CLOCK_TIME)})"
        rf"(?=.{{0,292}} events )(?>{_inline(_MERAKI_HDR, keep=('epoch',))})"
    )
    more = (
        rf"(?!\d|{time})(?>{_inline(_CONN, keep=('conn', 'uid'))}?)"
        r"""(?![\s:"\[<]|(?i:error:|packet from|isakmp)|(?:ERROR|WARNING|NOTIFY|INFO|DEBUG2?):)"""
    )
    return re.compile(
        rf"^(?:{dashboard}|{syslog})(?>(?=[sSnNvV]){_inline(_VPN_PREFIX)})?+{more}",
        re.S,
    )


_COMMON = _common_shapes()


def _peel_source(line: str, out: ParsedLine) -> str:
    """The Dashboard's columns or a Meraki syslog header, whichever wraps the message."""
    m = _MERAKI_HDR.match(line) if " events " in line[:300] else None
    if m:
        out.ts, out.ts_kind, out.shape = float(m["epoch"]), "absolute", "syslog"
        return line[m.end():]
    if "msg:" in line[:400] or "MSG:" in line[:400]:
        m = _MSG.search(line, 0, 400)
        if m and ("vpn" in line[: m.start()].lower() or m.start() == 0):
            out.shape = "dashboard"
            return line[m.end():]
    return line


def _peel_cisco(line: str, out: ParsedLine) -> None:
    m = _ASA_TAG.match(line) or _IOS_TAG.match(line)
    if not m:
        return
    out.shape, out.peer_side = "asa", True
    out.body = _apply_format("after-tag", _asa_fields(line[m.end():], out), out)


def _asa_fields(line: str, out: ParsedLine) -> str:
    """ASA's `Group = …, IP = …,` fields before the message; the address one names the peer."""
    for _ in range(4):
        f = _ASA_FIELD.match(line)
        if not f:
            break
        if f["key"].lower() in ("ip", "group") and _IP.match(f["value"].strip()):
            out.addr = f["value"].strip()
        line = line[f.end():]
    return line
