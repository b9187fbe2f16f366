"""Renderers on real catalog findings: both languages, all three formats, Block Kit limits."""

from __future__ import annotations

import pytest

from bot.chat import diagnosis_reply
from bot.dedupe import MemorySeenStore
from bot.render.blocks import MAX_BLOCKS, MAX_SECTION_CHARS, block_chars, fits, slack_message
from bot.render.markdown import reply_markdown
from bot.render.text import diagnosis_text, reply_text
from knowledge import diagnose_text
from knowledge.library import load_catalog
from knowledge.models import Diagnosis, Evidence, PeerReport, PeerState, Verdict


def diagnosis(lang: str, findings: int = 1, evidence_lines: int = 2) -> Diagnosis:
    catalog = load_catalog()
    ids = [fid for fid in sorted(catalog.findings) if fid != "tunnel-established"]
    built = [
        catalog.build(
            ids[i % len(ids)], lang, peer=f"203.0.113.{i + 1}",
            evidence=[Evidence(line=n, text=f"peer <=> line {n} & more") for n in range(1, evidence_lines + 1)],
        )
        for i in range(findings)
    ]
    peers = [PeerReport(address=f"203.0.113.{i + 1}", state=PeerState.DOWN) for i in range(findings)]
    summary = catalog.message("verdict.failing", lang, count=findings, peers="203.0.113.1")
    return Diagnosis(verdict=Verdict.FAILING, summary=summary, lang=lang, peers=peers, findings=built,
                     lines_read=40, vpn_lines=30, dialects=["racoon"])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_one_finding_renders_in_full_everywhere(lang: str) -> None:
    reply = diagnosis_reply(diagnosis(lang))
    finding = reply.diagnosis.findings[0]
    text, markdown, message = reply_text(reply), reply_markdown(reply), slack_message(reply)
    for rendered in (text, markdown):
        assert finding.title in rendered and finding.steps[0][:30] in rendered
    assert "L1" in text and "L2: peer <=> line 2" in markdown
    assert message.attachment is None and fits(message.blocks)
    joined = str(message.blocks)
    assert "peer &lt;=&gt; line 1 &amp; more" in joined
    assert message.metadata == {
        "event_type": "vpn_diagnosis",
        "event_payload": {"finding_ids": [finding.id], "peers": ["203.0.113.1"], "verdict": "failing"},
    }


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_many_findings_are_summarised_with_the_full_report_attached(lang: str) -> None:
    d = diagnosis(lang, findings=30, evidence_lines=300)
    message = slack_message(diagnosis_reply(d))
    assert len(message.blocks) <= MAX_BLOCKS and block_chars(message.blocks) <= 12_000
    assert all(len(b.get("text", {}).get("text", "")) <= MAX_SECTION_CHARS for b in message.blocks)
    assert message.attachment is not None
    for finding in d.findings:
        assert finding.title in message.attachment.content
    assert "30" in str(message.blocks)
    assert len(message.metadata["event_payload"]["finding_ids"]) == 30


def test_long_evidence_is_cut_with_a_count_of_the_rest() -> None:
    message = slack_message(diagnosis_reply(diagnosis("en", findings=1, evidence_lines=400)))
    evidence = [b for b in message.blocks if "```" in b.get("text", {}).get("text", "")]
    assert evidence and "324 more lines" in evidence[0]["text"]["text"]


async def test_seen_store_forgets_after_the_ttl_and_stays_bounded() -> None:
    now = [0.0]
    store = MemorySeenStore(ttl_seconds=10, max_keys=3, clock=lambda: now[0])
    assert await store.claim("a") and not await store.claim("a")
    now[0] = 11
    assert await store.claim("a")
    for key in "bcde":
        assert await store.claim(key)
    assert len(store) == 3


def test_a_peer_no_line_named_is_said_in_words_in_both_languages() -> None:
    row = "Jul 22 10:15:04  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: phase1 negotiation failed due to time up."
    assert "特定できないピア (ダウン)" in diagnosis_text(diagnose_text(row, "ja"))
    assert "unknown (" not in diagnosis_text(diagnose_text(row, "ja"))
    assert "an unidentified peer (down)" in diagnosis_text(diagnose_text(row, "en"))
