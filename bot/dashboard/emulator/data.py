"""The bundled demo organisation, read from bot/demo/*.json.

Events are stored as scripts relative to "now" (see events.json) so that any recent
time window always holds a realistic history; this module turns them into Dashboard
event objects with absolute `occurredAt` time stamps.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


def _read(directory: Path, name: str) -> Any:
    return json.loads((directory / name).read_text(encoding="utf-8"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _derived(seed: str) -> dict[str, str]:
    """Stable per-run values (SPIs, cookies, byte counts) so runs differ like real ones."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return {
        "spi_a": "c" + digest[1:8],
        "spi_b": "c" + digest[9:16],
        "spi_c": "c" + digest[17:24],
        "spi_d": "c" + digest[25:32],
        "cookie": digest[32:48],
        "bytes_in": str(int(digest[48:54], 16) * 7),
        "bytes_out": str(int(digest[54:60], 16) * 5),
        "octet": str(20 + int(digest[60:62], 16) % 200),
        "hex2": digest[62:64],
    }


def _fill(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return Template(value).safe_substitute(variables)
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


@dataclass
class DemoData:
    organizations: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    devices: list[dict[str, Any]]
    peers: dict[str, Any]
    vpn_statuses: list[dict[str, Any]]
    uplink_statuses: list[dict[str, Any]]
    event_types: list[dict[str, Any]]
    event_scripts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = DEMO_DIR) -> DemoData:
        scripts = {k: v for k, v in _read(directory, "events.json").items() if not k.startswith("_")}
        return cls(
            organizations=_read(directory, "organizations.json"),
            networks=_read(directory, "networks.json"),
            devices=_read(directory, "devices.json"),
            peers=_read(directory, "peers.json"),
            vpn_statuses=_read(directory, "vpn_statuses.json"),
            uplink_statuses=_read(directory, "uplink_statuses.json"),
            event_types=_read(directory, "event_types.json"),
            event_scripts=scripts,
        )

    def copy(self) -> DemoData:
        """A private copy a test may edit without touching other emulators."""
        return copy.deepcopy(self)

    @property
    def org_id(self) -> str:
        return str(self.organizations[0]["id"])

    def network(self, network_id: str) -> dict[str, Any] | None:
        return next((n for n in self.networks if n["id"] == network_id), None)

    def events(self, network_id: str, now: datetime) -> list[dict[str, Any]]:
        """Every scripted event of the network up to `now`, newest first."""
        spec = self.event_scripts.get(network_id)
        if spec is None:
            return []
        device = spec.get("device", {})
        made: list[dict[str, Any]] = []
        for number, script in enumerate(spec["scripts"]):
            every, start, span = float(script["every"]), float(script["start"]), float(script["span"])
            runs = int((span - start) // every) + 1 if span >= start else 0
            for run in range(runs):
                ago = start + run * every
                seq = runs - 1 - run
                ike = int(script.get("ike_base", 100)) + seq
                child = int(script.get("child_base", 1000)) + seq
                variables = {
                    "ike": str(ike),
                    "ike_prev": str(ike - 1),
                    "child": str(child),
                    "child_prev": str(child - 1),
                    **_derived(f"{network_id}/{number}/{seq}"),
                }
                for line in script["lines"]:
                    moment = now - timedelta(seconds=ago) + timedelta(seconds=float(line.get("at", 0)))
                    if moment > now:
                        continue
                    data = dict(script.get("eventData", {}))
                    if "msg" in line:
                        data["msg"] = line["msg"]
                    made.append(
                        {
                            "occurredAt": iso(moment),
                            "networkId": network_id,
                            "type": script["type"],
                            "description": script["description"],
                            "category": script["category"],
                            "clientId": None,
                            "clientDescription": None,
                            "clientMac": "",
                            "deviceSerial": device.get("serial"),
                            "deviceName": device.get("name"),
                            "eventData": _fill(data, variables),
                        }
                    )
        made.sort(key=lambda e: e["occurredAt"], reverse=True)
        return made
