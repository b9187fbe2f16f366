"""The diagnosis engine: input → candidate lines → events → per-peer timelines → Diagnosis.

The engine holds no user-facing sentence; every text comes from the catalog in the
requested language.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import IO, Any

from knowledge.collector import collector_paused
from knowledge.cut_lines import cut_hints
from knowledge.events import Event, Extraction, extract
from knowledge.library import Catalog, load_catalog
from knowledge.matcher import Matcher
from knowledge.models import (
    Basis,
    Diagnosis,
    Evidence,
    Finding,
    Lang,
    PeerReport,
    PeerState,
    Severity,
    Verdict,
)
from knowledge.netmath import supernet
from knowledge.normalise import clean_bytes, clean_chunks, clean_text
from knowledge.ordering import chronological
from knowledge.parse import parse_iso
from knowledge.peers import assign_peers, attribute_by_sequence
from knowledge.scan import ScanStats, iter_chunks
from knowledge.timeline import Claim, PeerAnalysis, PeerTimeline
from knowledge.vendors import guess_vendors

MAX_EVIDENCE = 12
MAX_TEXT_BYTES = 50 << 20  # what one call reads; the rest is reported, not parsed
CUT_HINT_BYTES = 64 << 10  # a paste that read as nothing, up to this size, is checked for cut-off lines
_RENAMED_FACTS = {"ts_local": "local_ts", "ts_remote": "remote_ts"}


@dataclass
class InputInfo:
    stats: ScanStats = field(default_factory=ScanStats)
    notes: list[tuple[str, dict[str, object]]] = field(default_factory=list)


@cache
def _matcher() -> Matcher:
    return Matcher(load_catalog())


# --- public entry points ---------------------------------------------------------------------
def diagnose_text(text: str, lang: Lang = "en") -> Diagnosis:
    """Diagnose a paste: log lines, Dashboard API JSON, or both wrapped in chat text."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else b""
    return diagnose_bytes(data, lang)


def diagnose_bytes(data: bytes, lang: Lang = "en") -> Diagnosis:
    info = InputInfo()
    data = clean_bytes(data)
    events_json = _maybe_json(data)
    if events_json is not None:
        return diagnose_events(events_json, lang, source_text=data.decode("utf-8", "replace"))
    if len(data) > MAX_TEXT_BYTES:
        info.notes.append(("note.too_large", {"limit": f"{MAX_TEXT_BYTES >> 20} MB"}))
        data = data[:MAX_TEXT_BYTES]
    if data and not data.endswith(b"\n"):
        data += b"\n"  # a paste's last line may be the rest of a cut one: give it the same end as the others
    diagnosis = _diagnose_chunks(iter_chunks(data), lang, info)
    if diagnosis.vpn_lines == 0 and not diagnosis.findings and len(data) <= CUT_HINT_BYTES:
        hints = cut_hints(data.decode("utf-8", "replace"), lang)
        if hints:
            diagnosis = diagnosis.model_copy(update={"notes": [*hints, *diagnosis.notes]})
    return diagnosis


def diagnose_stream(stream: IO[bytes], lang: Lang = "en", chunk_size: int = 4 << 20) -> Diagnosis:
    """Diagnose a file of any size without holding it in memory (only VPN lines are kept)."""
    head = stream.read(chunk_size)
    if head[:1] in (b"{", b"[") or head.lstrip()[:1] in (b"{", b"["):
        rest = stream.read(MAX_TEXT_BYTES)
        return diagnose_bytes(head + rest, lang)

    def chunks() -> Iterator[bytes]:
        yield head
        while block := stream.read(chunk_size):
            yield block

    return _diagnose_chunks(clean_chunks(chunks()), lang, InputInfo())


def diagnose_lines(lines: Iterable[str], lang: Lang = "en") -> Diagnosis:
    cleaned = (clean_text(line).encode("utf-8", "replace") + b"\n" for line in lines)
    return _diagnose_chunks(cleaned, lang, InputInfo())


@collector_paused()
def diagnose_events(events: Sequence[Mapping[str, Any]] | Mapping[str, Any], lang: Lang = "en",
                    source_text: str | None = None) -> Diagnosis:
    """Diagnose Dashboard API events (`GET /networks/{id}/events` or its `events` array)."""
    items = events.get("events", []) if isinstance(events, Mapping) else events
    matcher = _matcher()
    info = InputInfo()
    locator = _JsonLocator(source_text) if source_text else None
    rows: list[tuple[int, str, int | None]] = []
    for index, item in enumerate(items if isinstance(items, Sequence) else [], start=1):
        if not isinstance(item, Mapping):
            continue
        data = item.get("eventData")
        msg = data.get("msg") if isinstance(data, Mapping) else None
        if not isinstance(msg, str) or not msg.strip():
            continue
        msg = clean_text(msg)
        when = item.get("occurredAt")
        stamp = when.strip() if isinstance(when, str) and parse_iso(when) is not None else ""
        line_no = locator.find(msg) if locator else index
        rows.append((line_no, f"{stamp} msg: {msg}".strip(), None))
    info.stats.lines = len(items) if isinstance(items, Sequence) else 0
    return _analyse(extract(rows, matcher), lang, info)


# --- internals -------------------------------------------------------------------------------
def _maybe_json(data: bytes) -> Any | None:
    stripped = data.lstrip()
    if stripped[:1] not in (b"{", b"["):
        return None
    try:
        doc = json.loads(stripped.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None
    if isinstance(doc, Mapping) and isinstance(doc.get("events"), list):
        return doc
    if isinstance(doc, list) and any(isinstance(x, Mapping) and "eventData" in x for x in doc[:50]):
        return doc
    return None


class _JsonLocator:
    """Finds the text line that holds each event's message, so evidence cites real line numbers."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.pos = 0

    def find(self, msg: str) -> int:
        needle = json.dumps(msg, ensure_ascii=False)[1:-1][:200]
        for i in range(self.pos, len(self.lines)):
            if needle in self.lines[i]:
                self.pos = i + 1
                return i + 1
        return self.pos or 1


_MAGIC = (b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\xff\xd8\xff", b"GIF8", b"\x7fELF", b"BZh")


def looks_binary(head: bytes) -> bool:
    """A file, not a log: a known file signature, a NUL byte, or mostly undecodable bytes."""
    sample = head[:8192]
    if not sample:
        return False
    if sample.startswith(_MAGIC) or b"\0" in sample:
        return True
    text = sample.decode("utf-8", "replace")
    return text.count("\ufffd") * 10 > len(text)


def _sniffed(chunks: Iterable[bytes], info: InputInfo) -> Iterator[bytes]:
    first = True
    for chunk in chunks:
        if first and chunk:
            first = False
            if looks_binary(chunk):
                info.notes.append(("note.binary", {}))
        yield chunk


@collector_paused()
def _diagnose_chunks(chunks: Iterable[bytes], lang: Lang, info: InputInfo) -> Diagnosis:
    matcher = _matcher()
    stats = info.stats
    chunks = _sniffed(chunks, info)

    extraction = extract(matcher.scanner.scan(chunks, stats), matcher)
    binary = any(key == "note.binary" for key, _ in info.notes)
    if not binary and stats.bytes and stats.nul_bytes * 20 > min(stats.bytes, 1 << 20):
        info.notes.append(("note.binary", {}))
    elif not binary and stats.invalid_utf8:
        info.notes.append(("note.invalid_utf8", {}))
    for line in stats.long_lines[:3]:
        info.notes.append(("note.long_line", {"line": line}))
    if stats.bytes == 0 or not stats.lines:
        info.notes.append(("note.empty", {}))
    return _analyse(extraction, lang, info)


def _analyse(extraction: Extraction, lang: Lang, info: InputInfo) -> Diagnosis:
    catalog = load_catalog()
    events = extraction.events
    assign_peers(events)
    ordered, order = chronological(events)
    attribute_by_sequence(ordered)
    by_key: dict[str, list[Event]] = {}
    for e in ordered:
        by_key.setdefault(e.key, []).append(e)
    analyses = [PeerTimeline(key, evs, catalog).run() for key, evs in by_key.items()]

    vendors = guess_vendors("\n".join(extraction.vendor_text))
    findings: list[Finding] = []
    down_with_errors = False
    for analysis in analyses:
        found = _findings_for(analysis, catalog, lang, vendors)
        findings.extend(found)
        if not analysis.recovered and any(f.severity is Severity.ERROR for f in found):
            down_with_errors = True
    findings.sort(key=_rank)

    vpn_lines = sum(1 for e in events if e.sig.dialect != "text")
    notes = [catalog.message(key, lang, **facts) for key, facts in info.notes]
    if not events and not any(k == "note.empty" for k, _ in info.notes):
        notes.append(catalog.message("note.no_vpn_lines", lang))
    if vpn_lines:
        notes.insert(0, catalog.message(f"order.{order}", lang))
    if any(a.peer_side for a in analyses):
        notes.append(catalog.message("note.peer_side", lang))
    if _cause_hidden(findings, analyses):
        notes.append(catalog.message("note.cause_hidden", lang))
    reauth = [a.reauth_s for a in analyses if a.reauth_s is not None]
    if reauth:
        notes.append(catalog.message("note.scheduled_reauth", lang, hours=f"{statistics.median(reauth) / 3600:.1f}"))
    words = sorted({e.groups["words"] for e in events if "partial" in e.tags and "words" in e.groups})
    if words:
        notes.append(catalog.message("note.partial_read", lang, words=", ".join(f"“{w}”" for w in words)))

    peers = [
        PeerReport(
            address=a.peer or ("unknown" if a.key == "?" else a.key.removeprefix("conn:")),
            state=a.state,
            connections=sorted(a.conns),
            ike_version=a.ike_version,
            dialect="/".join(sorted(a.dialects - {"text"})) or None,
            last_seen=_when(a.last_ts, a.last_ts_kind),
        )
        for a in analyses
        if a.key != "?" or a.state is not PeerState.UNKNOWN
    ]
    verdict = _verdict(findings, down_with_errors)
    dialects = sorted({e.sig.dialect for e in events})
    return Diagnosis(
        verdict=verdict,
        summary=_summary(catalog, lang, verdict, findings, peers),
        lang=lang,
        peers=peers,
        findings=findings,
        lines_read=info.stats.lines,
        vpn_lines=vpn_lines,
        dialects=dialects,
        order=order if vpn_lines else "unknown",
        notes=notes,
    )


def _when(ts: float | None, kind: str | None) -> str | None:
    """ISO time for absolute stamps; year-less syslog times keep their own shape, clock times too."""
    if ts is None:
        return None
    if kind == "syslog":
        return datetime.fromtimestamp(ts, UTC).strftime("%b %d %H:%M:%S")
    if kind == "clock":
        return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _findings_for(analysis: PeerAnalysis, catalog: Catalog, lang: Lang, vendors: set[str]) -> list[Finding]:
    merged: dict[str, Claim] = {}
    for claim in analysis.claims:
        have = merged.get(claim.finding)
        if have is None:
            merged[claim.finding] = Claim(claim.finding, claim.peer, claim.phase, list(claim.lines),
                                          claim.confidence, claim.basis, dict(claim.facts),
                                          claim.alternative_to, claim.ambiguous, claim.caution)
            continue
        have.caution = have.caution and claim.caution
        if claim.alternative_to is None:
            have.alternative_to = None
        have.ambiguous = have.ambiguous and claim.ambiguous
        have.lines.extend(claim.lines)
        have.confidence = max(have.confidence, claim.confidence)
        if claim.basis is Basis.OBSERVED:
            have.basis = Basis.OBSERVED
        for k, v in claim.facts.items():
            have.facts.setdefault(k, v)
        if have.phase is None:
            have.phase = claim.phase

    absorbed: dict[str, str] = {}  # a finding folded into a stronger one, for the alternatives that named it
    for rule in catalog.precedence:
        if rule.finding in merged and merged[rule.finding].alternative_to is None:
            for weaker in rule.suppresses:
                # A less likely reading is not folded away by the likely one it stands beside.
                if weaker in merged and weaker != rule.finding and merged[weaker].alternative_to is None:
                    gone = merged.pop(weaker)
                    merged[rule.finding].lines.extend(gone.lines)
                    absorbed[weaker] = rule.finding
    _drop_settled_alternatives(merged, analysis.details, absorbed)
    errors = [c for c in merged.values() if catalog.entry(c.finding).severity is Severity.ERROR]
    if errors and "tunnel-established" in merged and analysis.state is not PeerState.UP:
        merged.pop("tunnel-established")

    _attach_details(analysis, merged, catalog)
    out = []
    for claim in merged.values():
        facts = {_RENAMED_FACTS.get(k, k): v for k, v in claim.facts.items()}
        if claim.finding == "subnet-mismatch" and len(analysis.remote_subnets) >= 2:
            facts["subnets"] = ", ".join(analysis.remote_subnets)
            facts["supernet"] = supernet(analysis.remote_subnets)
        lines = sorted({(ev.line, ev.text) for ev in claim.lines})
        if len(lines) > MAX_EVIDENCE:
            lines = lines[: MAX_EVIDENCE // 2] + lines[-MAX_EVIDENCE // 2 :]
        finding = catalog.build(
            claim.finding, lang,
            peer=claim.peer,
            phase=claim.phase,
            evidence=[Evidence(line=n, text=t) for n, t in lines],
            confidence=claim.confidence,
            basis=claim.basis,
            facts=facts,
            vendors=vendors,
        )
        if (claim.alternative_to is not None or claim.caution) and finding.severity is Severity.ERROR:
            # A possible cause beside the likely one, or a risk on a tunnel that works: not a failure.
            finding = finding.model_copy(update={"severity": Severity.WARNING})
        out.append(finding)
    return out


def _drop_settled_alternatives(merged: dict[str, Claim], details: Sequence[Event],
                               absorbed: Mapping[str, str]) -> None:
    """A less likely reading stays only while every line behind the likely one is ambiguous too.

    A detail line that speaks for the likely finding (the proposals each side offered) settles it.
    """
    settled = {t for e in details if not e.sig.also for t in e.sig.targets()}
    for name, claim in list(merged.items()):
        if claim.alternative_to is None:
            continue
        likely_name = claim.alternative_to
        for _ in range(len(absorbed)):
            if likely_name not in absorbed:
                break
            likely_name = absorbed[likely_name]
        likely = merged.get(likely_name)
        if likely is None or not likely.ambiguous or likely.finding in settled:
            merged.pop(name)


def _attach_details(analysis: PeerAnalysis, merged: dict[str, Claim], catalog: Catalog) -> None:
    for e in analysis.details:
        targets = e.sig.targets()
        if targets:
            claims = [merged[t] for t in targets if t in merged]
        else:
            phase = e.sig.phase if e.sig.phase in (1, 2) else None
            claims = [
                c for c in merged.values()
                if c.finding != "tunnel-established" and (phase is None or c.phase in (phase, None))
            ]
            if not claims and e.kind == "p1_up":
                claims = [c for c in merged.values() if c.finding == "id-mismatch"]
        for claim in claims:
            claim.lines.append(e)
            for k, v in e.groups.items():
                if k in ("proposals_received", "proposals_configured", "ts_local", "ts_remote", "remote_id"):
                    claim.facts.setdefault(k, v)


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def _rank(f: Finding) -> tuple[int, int, float, int]:
    first_line = f.evidence[0].line if f.evidence else 0
    return (_SEVERITY_RANK[f.severity], 0 if f.basis is Basis.OBSERVED else 1, -f.confidence, first_line)


def _verdict(findings: Sequence[Finding], down_with_errors: bool = True) -> Verdict:
    """Failing while a peer with an error is not up; errors on tunnels that are up now only degrade."""
    if any(f.severity is Severity.ERROR for f in findings):
        return Verdict.FAILING if down_with_errors else Verdict.DEGRADED
    if any(f.severity is Severity.WARNING for f in findings):
        return Verdict.DEGRADED
    if any(f.id == "tunnel-established" for f in findings):
        return Verdict.HEALTHY
    return Verdict.UNKNOWN


def _summary(catalog: Catalog, lang: Lang, verdict: Verdict, findings: Sequence[Finding],
             peers: Sequence[PeerReport]) -> str:
    problems = [f for f in findings if f.severity is not Severity.INFO]
    names = sorted({f.peer for f in problems if f.peer}) or [p.address for p in peers if p.address != "unknown"]
    return catalog.message(
        f"verdict.{verdict.value}", lang,
        count=len(problems) if problems else len(findings),
        peers=", ".join(names[:5]) or catalog.message("peer.unknown", lang),
    )


def _cause_hidden(findings: Sequence[Finding], analyses: Sequence[PeerAnalysis]) -> bool:
    inferred_only = {"phase1-not-established", "phase2-not-established"}
    errors = [f for f in findings if f.severity is Severity.ERROR]
    peer_side = any(a.peer_side for a in analyses)
    # Only the MX's charon (firmware 15.12 and later) keeps the cause out of its log; racoon prints it.
    charon_mx = any("charon" in a.dialects for a in analyses) and not any("racoon" in a.dialects for a in analyses)
    return bool(errors) and all(f.id in inferred_only for f in errors) and not peer_side and charon_mx
