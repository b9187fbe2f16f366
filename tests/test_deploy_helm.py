"""The Helm chart renders to valid Kubernetes objects, in both modes, without helm or a cluster.

The chart is written in a deliberately small part of Helm's template language: single-line
substitutions (`.Values.…`, `.Release.…`, `.Chart.…`, `include "name" .`, `| quote`), `if` /
`else` / `end` on a path, `not PATH` or `eq`/`ne` with a literal, and `define` in _helpers.tpl.
`render` below implements exactly that part and refuses anything else, so the chart cannot
grow a construct these tests would not understand. Every rendered object is then checked
against the Kubernetes API schemas (kubernetes-validate, offline) and for the fields that
tie the objects together; values go through the chart's values.schema.json as Helm does.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bot.envdoc import setting_docs

CHART = Path(__file__).resolve().parent.parent / "deploy" / "helm" / "vpn-doctor"
KUBERNETES_VERSION = "1.30.0"
# Set by the chart itself in the Deployment, not through values.config.
CHART_MANAGED = {"BIND_ADDRESS", "PORT"}

_ACTION = re.compile(r"\{\{(-\s)?\s*(.*?)\s*(\s-)?\}\}", re.S)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\||[^\s|]+')
_PATH = re.compile(r"^\.(Values|Release|Chart)(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class TemplateError(ValueError):
    """The chart used something outside the supported subset, or a value is missing."""


class ChartFailed(RuntimeError):
    """The chart called `fail`."""


@dataclass
class Node:
    kind: str  # text | expr | if | define
    text: str = ""
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


def _tokens(source: str) -> list[tuple[str, str]]:
    """(text, …) and (action, …) pieces with Go's `{{- ` / ` -}}` whitespace trimming applied."""
    pieces: list[tuple[str, str]] = []
    position = 0
    trim_next = False
    for match in _ACTION.finditer(source):
        text = source[position : match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        pieces.append(("text", text))
        pieces.append(("action", match.group(2)))
        trim_next = bool(match.group(3))
        position = match.end()
    tail = source[position:]
    pieces.append(("text", tail.lstrip() if trim_next else tail))
    return pieces


def _parse(source: str) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[Node | None, list[Node]]] = [(None, root)]
    for kind, content in _tokens(source):
        target = stack[-1][1]
        if kind == "text":
            if content:
                target.append(Node("text", content))
            continue
        if content.startswith("/*") and content.endswith("*/"):
            continue
        word = content.split(None, 1)[0]
        if word in ("if", "define"):
            node = Node(word, content.split(None, 1)[1])
            target.append(node)
            stack.append((node, node.body))
        elif word == "else" and content == "else":
            node = stack[-1][0]
            if node is None or node.kind != "if":
                raise TemplateError("else outside an if")
            stack[-1] = (node, node.orelse)
        elif content == "end":
            if len(stack) == 1:
                raise TemplateError("end without a block")
            stack.pop()
        else:
            target.append(Node("expr", content))
    if len(stack) != 1:
        raise TemplateError("unclosed block")
    return root


@dataclass
class Chart:
    templates: dict[str, list[Node]]
    helpers: dict[str, list[Node]]
    meta: dict[str, Any]

    @classmethod
    def load(cls, root: Path = CHART) -> Chart:
        helpers: dict[str, list[Node]] = {}
        templates: dict[str, list[Node]] = {}
        for path in sorted((root / "templates").iterdir()):
            nodes = _parse(path.read_text(encoding="utf-8"))
            if path.name.startswith("_"):
                for node in nodes:
                    if node.kind == "define":
                        helpers[_string(node.text)] = node.body
                    elif node.kind != "text" or node.text.strip():
                        raise TemplateError(f"{path.name}: only define blocks belong in a helpers file")
            else:
                templates[path.name] = nodes
        meta = yaml.safe_load((root / "Chart.yaml").read_text(encoding="utf-8"))
        return cls(templates, helpers, meta)


def _string(token: str) -> str:
    if not (token.startswith('"') and token.endswith('"')):
        raise TemplateError(f"expected a string literal, got {token!r}")
    return json.loads(token)


def _go_text(value: Any) -> str:
    """How Go's text/template prints a YAML value (numbers from values are float64 in Helm)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise TemplateError("printing a map or list needs toYaml, which the chart does not use")
    return str(value)


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value != {} and value != []


class Renderer:
    def __init__(self, chart: Chart, values: dict[str, Any], release: str, namespace: str) -> None:
        self.chart = chart
        self.context = {
            "Values": values,
            "Release": {"Name": release, "Namespace": namespace, "Service": "Helm"},
            "Chart": {
                "Name": chart.meta["name"],
                "Version": chart.meta["version"],
                "AppVersion": chart.meta["appVersion"],
            },
        }

    def lookup(self, path: str) -> Any:
        if not _PATH.match(path):
            raise TemplateError(f"unsupported operand {path!r}")
        value: Any = self.context
        for part in path.split(".")[1:]:
            if not isinstance(value, dict) or part not in value:
                raise TemplateError(f"{path} is not set")
            value = value[part]
        return value

    def argument(self, token: str) -> Any:
        if token.startswith('"'):
            return _string(token)
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        return self.lookup(token)

    def condition(self, text: str) -> bool:
        words = _TOKEN.findall(text)
        if len(words) == 1:
            return _truthy(self.lookup(words[0]))
        if len(words) == 2 and words[0] == "not":
            return not _truthy(self.lookup(words[1]))
        if len(words) == 3 and words[0] in ("eq", "ne"):
            equal = self.argument(words[1]) == self.argument(words[2])
            return equal if words[0] == "eq" else not equal
        raise TemplateError(f"unsupported condition {text!r}")

    def expression(self, text: str) -> str:
        stages = [stage.strip() for stage in " ".join(_TOKEN.findall(text)).split(" | ")]
        words = _TOKEN.findall(stages[0])
        if words[0] == "include" and len(words) == 3 and words[2] == ".":
            name = _string(words[1])
            if name not in self.chart.helpers:
                raise TemplateError(f"include of an undefined template {name!r}")
            value: Any = self.nodes(self.chart.helpers[name])
        elif words[0] == "fail" and len(words) == 2:
            raise ChartFailed(_string(words[1]))
        elif len(words) == 1:
            value = self.argument(words[0])
        else:
            raise TemplateError(f"unsupported expression {text!r}")
        for stage in stages[1:]:
            if stage != "quote":
                raise TemplateError(f"unsupported function {stage!r}")
            value = json.dumps(_go_text(value), ensure_ascii=False)
        return _go_text(value)

    def nodes(self, nodes: list[Node]) -> str:
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "expr":
                out.append(self.expression(node.text))
            elif node.kind == "if":
                out.append(self.nodes(node.body if self.condition(node.text) else node.orelse))
            else:
                raise TemplateError("define is only allowed in _helpers.tpl")
        return "".join(out)


def default_values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))


def values_schema() -> dict[str, Any]:
    return json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))


def check_values(values: dict[str, Any]) -> None:
    """What `helm install` does before rendering: validate against values.schema.json."""
    jsonschema.Draft7Validator(values_schema()).validate(values)


def with_values(**changes: Any) -> dict[str, Any]:
    """Default values with dotted-path changes, e.g. with_values(**{"secret.existingSecret": "s"})."""
    values = copy.deepcopy(default_values())
    for dotted, value in changes.items():
        target = values
        *parents, last = dotted.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    return values


def render(values: dict[str, Any], release: str = "ops", namespace: str = "chatops") -> dict[str, str]:
    check_values(values)
    renderer = Renderer(Chart.load(), values, release, namespace)
    return {name: renderer.nodes(nodes) for name, nodes in renderer.chart.templates.items()}


def objects(values: dict[str, Any], **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Rendered manifests by kind, each validated against the Kubernetes schemas."""
    found: dict[str, dict[str, Any]] = {}
    for name, text in render(values, **kwargs).items():
        if not name.endswith(".yaml"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            for key in ("apiVersion", "kind", "metadata"):
                assert key in doc, f"{name}: no {key}"
            assert doc["metadata"].get("name"), f"{name}: no metadata.name"
            assert doc["kind"] not in found, f"two {doc['kind']} objects"
            found[doc["kind"]] = doc
    return found


EXISTING = {"secret.existingSecret": "vpn-doctor-tokens"}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(deployment: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value") for item in container(deployment).get("env", [])}


def secret_settings() -> set[str]:
    return {doc.env for doc in setting_docs() if doc.secret}


def plain_settings() -> dict[str, str]:
    return {doc.env: doc.default for doc in setting_docs() if not doc.secret}


# -- the subset renderer itself ---------------------------------------------------------------


def test_renderer_refuses_what_it_does_not_implement() -> None:
    chart = Chart({}, {}, {"name": "c", "version": "1", "appVersion": "1"})
    renderer = Renderer(chart, {"a": "x"}, "r", "n")
    for source in ("{{ .Values.a | upper }}", "{{ toYaml . }}", "{{ range .Values }}x{{ end }}", "{{ .Values.b }}"):
        with pytest.raises(TemplateError):
            renderer.nodes(_parse(source))
    source = 'a:\n{{- if eq .Values.a "x" }}\n  yes{{ else }}no{{ end }} {{ .Values.a | quote }}'
    assert renderer.nodes(_parse(source)) == 'a:\n  yes "x"'
    assert renderer.nodes(_parse("x  {{- /* note */ -}}  \n y")) == "xy"


def test_every_template_parses_within_the_subset() -> None:
    chart = Chart.load()
    assert set(chart.templates) == {"deployment.yaml", "service.yaml", "configmap.yaml", "secret.yaml", "NOTES.txt"}
    assert {"vpn-doctor.fullname", "vpn-doctor.labels", "vpn-doctor.selectorLabels", "vpn-doctor.secretName"} <= set(
        chart.helpers
    )


# -- rendered objects --------------------------------------------------------------------------


def test_socket_mode_defaults_render_valid_objects_tied_together() -> None:
    found = objects(with_values(**EXISTING))
    assert set(found) == {"Deployment", "Service", "ConfigMap"}
    deployment, service, configmap = found["Deployment"], found["Service"], found["ConfigMap"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    app = container(deployment)
    port_names = {p["name"] for p in app["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    refs = app["envFrom"]
    assert refs[0]["configMapRef"]["name"] == configmap["metadata"]["name"]
    assert refs[1]["secretRef"]["name"] == "vpn-doctor-tokens"
    assert env_of(deployment) == {"BIND_ADDRESS": "0.0.0.0", "PORT": "3000"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert app["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in app["volumeMounts"]}
    assert {"/data", "/tmp"} <= mounts
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"


def test_socket_mode_is_one_replica_whatever_replica_count_says() -> None:
    with pytest.raises(jsonschema.ValidationError):
        check_values(with_values(replicaCount=3, **EXISTING))
    # Even past the schema (helm --skip-schema-validation), the template forces one replica.
    renderer = Renderer(Chart.load(), with_values(replicaCount=3, **EXISTING), "ops", "chatops")
    deployment = yaml.safe_load(renderer.nodes(Chart.load().templates["deployment.yaml"]))
    assert deployment["spec"]["replicas"] == 1


def test_http_mode_runs_replicas_on_redis_and_never_socket_mode() -> None:
    values = with_values(mode="http", replicaCount=3, **{**EXISTING, "config.VPN_DOCTOR_STATE": "redis://redis:6379/0"})
    found = objects(values)
    deployment = found["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert env_of(deployment)["SLACK_APP_TOKEN"] == ""
    assert found["ConfigMap"]["data"]["VPN_DOCTOR_STATE"] == "redis://redis:6379/0"


def test_several_replicas_need_http_mode_and_redis_state() -> None:
    with pytest.raises(jsonschema.ValidationError):
        check_values(with_values(mode="http", replicaCount=2, **EXISTING))  # SQLite default
    check_values(with_values(mode="http", replicaCount=1, **EXISTING))


def test_a_secret_is_required_and_the_chart_can_create_it() -> None:
    with pytest.raises(jsonschema.ValidationError):
        check_values(default_values())
    created = with_values(**{"secret.create": True, "secret.values.SLACK_BOT_TOKEN": "xoxb-1"})
    found = objects(created, release="vpn-doctor")
    secret = found["Secret"]
    assert secret["metadata"]["name"] == "vpn-doctor"
    assert set(secret["stringData"]) == secret_settings()
    assert container(found["Deployment"])["envFrom"][1]["secretRef"]["name"] == "vpn-doctor"


def test_a_named_claim_keeps_the_state_volume() -> None:
    found = objects(with_values(**{**EXISTING, "persistence.existingClaim": "vpn-doctor-state"}))
    volumes = {v["name"]: v for v in found["Deployment"]["spec"]["template"]["spec"]["volumes"]}
    assert volumes["state"]["persistentVolumeClaim"] == {"claimName": "vpn-doctor-state"}
    default = objects(with_values(**EXISTING))["Deployment"]["spec"]["template"]["spec"]["volumes"]
    assert {"name": "state", "emptyDir": {}} in default


@pytest.mark.parametrize(
    ("mode", "expect"),
    [("socket", "exactly ONE replica"), ("http", "/slack/events")],
)
def test_notes_explain_the_mode(mode: str, expect: str) -> None:
    notes = render(with_values(mode=mode, **EXISTING))["NOTES.txt"]
    assert expect in notes
    assert "/readyz" in notes and "{{" not in notes


# -- the chart and the Settings model agree ------------------------------------------------------


def test_chart_config_covers_every_plain_setting_with_its_default() -> None:
    plain = plain_settings()
    expected = set(plain) - CHART_MANAGED
    values = default_values()["config"]
    assert set(values) == expected, "values.yaml config and bot/settings.py differ"
    assert set(values_schema()["properties"]["config"]["properties"]) == expected
    configmap = objects(with_values(**EXISTING))["ConfigMap"]["data"]
    assert set(configmap) == expected, "templates/configmap.yaml and bot/settings.py differ"
    for name in expected:
        assert values[name] == plain[name], f"{name}: chart default {values[name]!r}, settings default {plain[name]!r}"


def test_chart_secret_keys_are_the_secret_settings() -> None:
    assert set(default_values()["secret"]["values"]) == secret_settings()
    assert set(values_schema()["properties"]["secret"]["properties"]["values"]["properties"]) == secret_settings()
