"""Prometheus metrics for the whole process, and the small API the rest of the bot records through.

One registry per process (not prometheus-client's global one, so nothing else sneaks in):
callers say what happened with `diagnosis(...)`, `slack_call(...)`, `dashboard_call(...)`,
`alert_posted(...)`; `/metrics` renders it. Labels stay bounded: finding IDs come from the
catalog, Slack methods from the API, Dashboard paths with their IDs replaced by `{id}`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from types import SimpleNamespace
from typing import Any

import aiohttp
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from yarl import URL

from knowledge.models import Diagnosis

# `*_created` timestamps would double every series, and nothing here reads them.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST

DIAGNOSES = Counter(
    "vpn_doctor_diagnoses", "Diagnoses answered", ["source", "verdict"], registry=REGISTRY
)
FINDINGS = Counter(
    "vpn_doctor_findings", "Findings in the diagnoses answered, by finding ID", ["source", "finding"], registry=REGISTRY
)
SLACK_REQUESTS = Counter(
    "vpn_doctor_slack_api_requests",
    "Slack Web API requests (retries included)",
    ["method", "status"],
    registry=REGISTRY,
)
SLACK_SECONDS = Histogram(
    "vpn_doctor_slack_api_request_seconds",
    "Slack Web API request latency",
    ["method"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
DASHBOARD_REQUESTS = Counter(
    "vpn_doctor_dashboard_requests",
    "Meraki Dashboard API requests (retries and pages included)",
    ["endpoint", "status"],
    registry=REGISTRY,
)
DASHBOARD_SECONDS = Histogram(
    "vpn_doctor_dashboard_request_seconds",
    "Meraki Dashboard API request latency",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
OPEN_INCIDENTS = Gauge("vpn_doctor_open_incidents", "Open alert incidents", registry=REGISTRY)
ALERTS_POSTED = Counter(
    "vpn_doctor_alerts_posted", "Alert messages posted to the alert channel", ["kind"], registry=REGISTRY
)
TASK_RUNNING = Gauge(
    "vpn_doctor_task_running",
    "1 while a background task runs, 0 while it waits to restart",
    ["task"],
    registry=REGISTRY,
)
TASK_RESTARTS = Counter(
    "vpn_doctor_task_restarts", "Background tasks restarted after an error", ["task"], registry=REGISTRY
)
INFO = Gauge("vpn_doctor_info", "The running build and Slack mode (always 1)", ["version", "mode"], registry=REGISTRY)

# Every family the registry exposes, as named in the text format (docs/operations.md lists them).
METRIC_NAMES = (
    "vpn_doctor_diagnoses_total",
    "vpn_doctor_findings_total",
    "vpn_doctor_slack_api_requests_total",
    "vpn_doctor_slack_api_request_seconds",
    "vpn_doctor_dashboard_requests_total",
    "vpn_doctor_dashboard_request_seconds",
    "vpn_doctor_open_incidents",
    "vpn_doctor_alerts_posted_total",
    "vpn_doctor_task_running",
    "vpn_doctor_task_restarts_total",
    "vpn_doctor_info",
)

# Path segments that follow these names are identifiers (organisation, network, serial, …).
_ID_PARENTS = frozenset({"organizations", "networks", "devices", "httpServers", "payloadTemplates"})
_API_PREFIX = re.compile(r"^/api/v\d+")
NO_FINDING = "none"


def _package_version() -> str:
    try:
        return version("vpn-doctor")
    except PackageNotFoundError:
        return "0"


def started(mode: str) -> None:
    """Record which build runs in which Slack mode."""
    INFO.clear()
    INFO.labels(version=_package_version(), mode=mode).set(1)


def diagnosis(result: Diagnosis, source: str = "paste") -> None:
    """One answered diagnosis: its verdict and each finding ID (or `none` when nothing matched)."""
    DIAGNOSES.labels(source=source, verdict=result.verdict.value).inc()
    ids = [finding.id for finding in result.findings] or [NO_FINDING]
    for finding_id in ids:
        FINDINGS.labels(source=source, finding=finding_id).inc()


def slack_call(method: str, status: int | str, seconds: float) -> None:
    SLACK_REQUESTS.labels(method=method, status=str(status)).inc()
    SLACK_SECONDS.labels(method=method).observe(seconds)


def dashboard_endpoint(path: str) -> str:
    """`/api/v1/networks/N_1/events` → `/networks/{id}/events`: one label per endpoint, not per object."""
    parts = _API_PREFIX.sub("", path).strip("/").split("/")
    templated = ["{id}" if index and parts[index - 1] in _ID_PARENTS else part for index, part in enumerate(parts)]
    return "/" + "/".join(templated)


def dashboard_call(path: str, status: int | str, seconds: float) -> None:
    endpoint = dashboard_endpoint(path)
    DASHBOARD_REQUESTS.labels(endpoint=endpoint, status=str(status)).inc()
    DASHBOARD_SECONDS.labels(endpoint=endpoint).observe(seconds)


def alert_posted(kind: str) -> None:
    ALERTS_POSTED.labels(kind=kind).inc()


def task_running(name: str, running: bool) -> None:
    TASK_RUNNING.labels(task=name).set(1 if running else 0)


def task_restarted(name: str) -> None:
    TASK_RESTARTS.labels(task=name).inc()


def open_incidents(count: int) -> None:
    OPEN_INCIDENTS.set(count)


def render() -> bytes:
    """The registry in the Prometheus text exposition format."""
    return generate_latest(REGISTRY)


def value(name: str, **labels: str) -> float:
    """One sample's current value (0 when it was never recorded); tests and health checks read it."""
    found = REGISTRY.get_sample_value(name, labels)
    return found or 0.0


def slack_trace(api_url: str) -> aiohttp.TraceConfig:
    """Time every Web API request made on a session: attach to the session Bolt's clients share.

    Bolt builds a new Web API client per request, copying the session; a trace on that session
    sees every call (retries included) without touching the clients. Requests to other URLs on
    the same session (file downloads, uploads) are not Web API calls and are left out.
    """
    base = URL(api_url)
    prefix = base.path if base.path.endswith("/") else base.path + "/"

    def method_of(url: URL) -> str | None:
        if url.host != base.host or url.port != base.port or not url.path.startswith(prefix):
            return None
        return url.path[len(prefix) :] or None

    async def on_start(_session: Any, context: SimpleNamespace, _params: Any) -> None:
        context.started = time.perf_counter()

    async def on_end(_session: Any, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
        method = method_of(params.url)
        if method is not None:
            slack_call(method, params.response.status, time.perf_counter() - context.started)

    async def on_exception(
        _session: Any, context: SimpleNamespace, params: aiohttp.TraceRequestExceptionParams
    ) -> None:
        method = method_of(params.url)
        if method is not None:
            slack_call(method, "error", time.perf_counter() - context.started)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_exception)
    return trace


def families() -> Iterable[str]:
    """Names of the metric families the registry holds (as `# TYPE` lines name them)."""
    for line in render().decode().splitlines():
        if line.startswith("# TYPE "):
            yield line.split()[2]
