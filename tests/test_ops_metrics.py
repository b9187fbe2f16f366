"""bot.metrics: the recording API, the exposition format, the Slack trace, and the docs' metric table."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from knowledge import diagnose_text
from tests.slack_emulator import SlackEmulator

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "logs" / "psk-mismatch" / "dashboard-positive.log"


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/api/v1/organizations", "/organizations"),
        ("/api/v1/organizations/549236/appliance/vpn/statuses", "/organizations/{id}/appliance/vpn/statuses"),
        ("/api/v1/networks/N_24329156/events", "/networks/{id}/events"),
        ("/api/v1/networks/L_1/events/eventTypes", "/networks/{id}/events/eventTypes"),
        ("/api/v1/devices/Q234-ABCD-5678/appliance/uplinks", "/devices/{id}/appliance/uplinks"),
        ("/organizations/9/devices", "/organizations/{id}/devices"),
    ],
)
def test_dashboard_paths_become_endpoint_labels(path: str, endpoint: str) -> None:
    assert metrics.dashboard_endpoint(path) == endpoint


def test_a_diagnosis_counts_its_verdict_and_each_finding() -> None:
    result = diagnose_text(FIXTURE.read_text(encoding="utf-8"), "en")
    ids = [f.id for f in result.findings]
    assert "psk-mismatch" in ids
    before = metrics.value("vpn_doctor_findings_total", source="unit", finding="psk-mismatch")
    verdicts = metrics.value("vpn_doctor_diagnoses_total", source="unit", verdict=result.verdict.value)
    metrics.diagnosis(result, "unit")
    assert metrics.value("vpn_doctor_findings_total", source="unit", finding="psk-mismatch") == before + 1
    assert metrics.value("vpn_doctor_diagnoses_total", source="unit", verdict=result.verdict.value) == verdicts + 1
    nothing = diagnose_text("hello, nothing to see here", "en")
    none_before = metrics.value("vpn_doctor_findings_total", source="unit", finding="none")
    metrics.diagnosis(nothing, "unit")
    assert metrics.value("vpn_doctor_findings_total", source="unit", finding="none") == none_before + 1


def test_exposition_parses_and_holds_every_family() -> None:
    metrics.dashboard_call("/api/v1/organizations", 200, 0.12)
    metrics.slack_call("chat.postMessage", 200, 0.03)
    metrics.alert_posted("incident")
    metrics.open_incidents(2)
    metrics.started("http")
    text = metrics.render().decode()
    parsed = {family.name: family for family in text_string_to_metric_families(text)}
    assert set(metrics.families()) == set(metrics.METRIC_NAMES)
    # The parser names counters without their _total suffix.
    assert {name.removesuffix("_total") for name in metrics.METRIC_NAMES} == set(parsed)
    buckets = [s for s in parsed["vpn_doctor_dashboard_request_seconds"].samples if s.name.endswith("_bucket")]
    assert any(s.labels == {"endpoint": "/organizations", "le": "0.25"} and s.value >= 1 for s in buckets)
    assert metrics.value("vpn_doctor_open_incidents") == 2
    info = [s for s in parsed["vpn_doctor_info"].samples]
    assert len(info) == 1 and info[0].labels["mode"] == "http"


def test_operations_doc_lists_exactly_the_exposed_metrics() -> None:
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(vpn_doctor_[a-z_]+)` \|", doc, re.M))
    assert listed == set(metrics.METRIC_NAMES)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_slack_trace_times_web_api_calls_only() -> None:
    emulator = SlackEmulator()
    await emulator.start()
    session = aiohttp.ClientSession(trace_configs=[metrics.slack_trace(emulator.api_url)])
    try:
        ok_before = metrics.value("vpn_doctor_slack_api_requests_total", method="auth.test", status="200")
        count_before = metrics.value("vpn_doctor_slack_api_request_seconds_count", method="auth.test")
        client = AsyncWebClient(token=emulator.token, base_url=emulator.api_url, session=session)
        await client.auth_test()
        with pytest.raises(SlackApiError):
            await AsyncWebClient(token="xoxb-wrong", base_url=emulator.api_url, session=session).auth_test()
        assert metrics.value("vpn_doctor_slack_api_requests_total", method="auth.test", status="200") == ok_before + 2
        assert metrics.value("vpn_doctor_slack_api_request_seconds_count", method="auth.test") == count_before + 2
        # Another URL on the same session (a file download) is not a Web API call.
        downloads = metrics.value("vpn_doctor_slack_api_request_seconds_count", method="files-pri/T-F/x.log")
        async with session.get(f"{emulator.base_url}/files-pri/T-F/x.log") as response:
            await response.read()
        assert metrics.value("vpn_doctor_slack_api_request_seconds_count", method="files-pri/T-F/x.log") == downloads
    finally:
        await session.close()
        await emulator.stop()

    closed = f"http://127.0.0.1:{_closed_port()}/api/"
    session = aiohttp.ClientSession(trace_configs=[metrics.slack_trace(closed)])
    try:
        errors = metrics.value("vpn_doctor_slack_api_requests_total", method="auth.test", status="error")
        with pytest.raises(aiohttp.ClientConnectionError):
            await AsyncWebClient(token="xoxb-1", base_url=closed, session=session, retry_handlers=[]).auth_test()
        assert metrics.value("vpn_doctor_slack_api_requests_total", method="auth.test", status="error") == errors + 1
    finally:
        await session.close()
