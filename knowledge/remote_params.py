"""The remote (non-Meraki) end's IPsec settings, as a user types them after `--remote`.

Syntax: `key=value` pairs separated by spaces, commas, semicolons or new lines, with
strongSwan's names and spellings, e.g.

    ike=aes256-sha256-modp2048 esp=aes256-sha256 pfs=modp2048 version=2
    ike_lifetime=8h esp_lifetime=3600 local_ts=192.168.10.0/24 remote_ts=10.1.0.0/16

Spaces around `=` are fine (`rekey_time = 1h`), as are swanctl and ipsec.conf key
names (`proposals`, `esp_proposals`, `ikelifetime`, `keyexchange=ikev2`, `leftsubnet`…)
and a bare `ikev1`/`ikev2`. A list value (proposals, subnets) takes several items
separated by commas or spaces. `local_ts` is the remote end's own LAN (the Dashboard's
private subnets of the peer); `remote_ts` is what the remote end expects behind the MX.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.netmath import parse_network
from knowledge.proposals import NO_PFS, Proposal, UnknownAlgorithm, dh_keyword, parse_proposal


class RemoteParamsError(ValueError):
    """The --remote text could not be read; the message says what to write instead."""


_KEYS: dict[str, tuple[str, ...]] = {
    "ike": ("ike", "proposals", "ike_proposals", "phase1"),
    "esp": ("esp", "esp_proposals", "phase2"),
    "ike_lifetime": ("ike_lifetime", "ikelifetime", "ike_rekey_time"),
    "esp_lifetime": ("esp_lifetime", "lifetime", "keylife", "rekey_time", "child_lifetime"),
    "esp_lifebytes": ("esp_lifebytes", "lifebytes", "life_bytes", "rekey_bytes"),
    "version": ("version", "ike_version", "keyexchange"),
    "pfs": ("pfs", "pfs_group", "pfsgroup"),
    "aggressive": ("aggressive",),
    "local_ts": ("local_ts", "leftsubnet", "local_subnets"),
    "remote_ts": ("remote_ts", "rightsubnet", "remote_subnets"),
}
_CANONICAL = {alias: key for key, aliases in _KEYS.items() for alias in aliases}
_LISTS = frozenset({"ike", "esp", "local_ts", "remote_ts"})
_FLAGS: dict[str, tuple[str, str]] = {
    "ikev1": ("version", "1"),
    "ikev2": ("version", "2"),
    "aggressive": ("aggressive", "yes"),
    "main": ("aggressive", "no"),
}

ACCEPTED_KEYS = ", ".join(
    f"{key} (also {', '.join(aliases[1:])})" if len(aliases) > 1 else key for key, aliases in _KEYS.items()
)

_SECONDS = {
    "": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip
_BYTES = {
    "": 1, "b": 1, "bytes": 1, "k": 1024, "kb": 1024, "kbytes": 1024, "kilobytes": 1024,
    "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3,
}  # fmt: skip
_AMOUNT = re.compile(r"(\d+)\s*([a-z]*)")
# A key starts at the beginning or after a separator and is followed by "=".
_KEY = re.compile(r"(?<![^\s,;])([A-Za-z][\w-]*)\s*=\s*")


class RemoteParams(BaseModel):
    """What the remote end is configured with; None / empty means "not given, not checked"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ike: tuple[str, ...] = Field(default=(), description="phase-1 proposals, strongSwan syntax")
    esp: tuple[str, ...] = Field(default=(), description="phase-2 proposals, strongSwan syntax")
    ike_lifetime: int | None = Field(default=None, gt=0, description="seconds")
    esp_lifetime: int | None = Field(default=None, gt=0, description="seconds")
    esp_lifebytes: int | None = Field(default=None, gt=0, description="data lifetime in bytes")
    version: Literal[1, 2] | None = None
    pfs: str | None = Field(default=None, description=f"strongSwan DH keyword or {NO_PFS!r}")
    aggressive: bool | None = None
    local_ts: tuple[str, ...] = Field(default=(), description="the remote end's own subnets")
    remote_ts: tuple[str, ...] = Field(default=(), description="subnets the remote end expects behind the MX")

    @field_validator("ike", "esp")
    @classmethod
    def _proposals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(parse_proposal(item)) for item in value)

    @field_validator("pfs")
    @classmethod
    def _pfs(cls, value: str | None) -> str | None:
        return None if value is None else dh_keyword(value)

    @field_validator("local_ts", "remote_ts")
    @classmethod
    def _subnets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(parse_network(item)) for item in value)

    @property
    def ike_proposals(self) -> tuple[Proposal, ...]:
        return tuple(parse_proposal(item) for item in self.ike)

    @property
    def esp_proposals(self) -> tuple[Proposal, ...]:
        return tuple(parse_proposal(item) for item in self.esp)

    def pfs_groups(self) -> set[str] | None:
        """PFS groups the remote end accepts: the pfs key, else the DH groups in its ESP proposals."""
        if self.pfs is not None:
            return {self.pfs}
        if not self.esp:
            return None
        groups: set[str] = set()
        for proposal in self.esp_proposals:
            groups.update(NO_PFS if group == "none" else group for group in proposal.dh or ("none",))
        return groups

    def is_empty(self) -> bool:
        return self == RemoteParams()


def _amount(text: str, units: dict[str, int], key: str) -> int:
    match = _AMOUNT.fullmatch(text.lower())
    if not match or match[2] not in units:
        raise RemoteParamsError(f"{key}={text!r}: write a number with an optional unit ({', '.join(units)})")
    return int(match[1]) * units[match[2]]


def _lifetime(text: str, key: str) -> tuple[str, int]:
    """Seconds for a time lifetime, or bytes for a data lifetime ("4608000kb")."""
    match = _AMOUNT.fullmatch(text.lower())
    if match and match[2] in _BYTES and match[2] not in _SECONDS:
        if key != "esp_lifetime":
            raise RemoteParamsError(f"{key}={text!r}: only phase-2 data lifetimes can be compared")
        return "esp_lifebytes", _amount(text, _BYTES, key)
    return key, _amount(text, _SECONDS, key)


def _version(text: str) -> int:
    match = re.fullmatch(r"(?:ike)?v?([12])", text.lower())
    if not match:
        raise RemoteParamsError(f"version={text!r}: write version=1 or version=2 (or ikev1 / ikev2)")
    return int(match[1])


def _yes_no(text: str, key: str) -> bool:
    value = text.lower()
    if value in ("yes", "true", "on", "1", "aggressive"):
        return True
    if value in ("no", "false", "off", "0", "main"):
        return False
    raise RemoteParamsError(f"{key}={text!r}: write aggressive=yes or aggressive=no")


def _pfs(text: str) -> str:
    try:
        return dh_keyword(text)
    except UnknownAlgorithm:
        raise RemoteParamsError(
            f"pfs={text!r}: name the group (pfs=modp2048 or pfs=group14) or write pfs=no"
        ) from None


def _items(segment: str) -> list[str]:
    return [item.strip("\"'") for item in re.split(r"[\s,;]+", segment) if item.strip("\"'")]


def _bare(item: str, values: dict[str, list[str]]) -> None:
    """A word outside any key=value: a known flag, or an error that says what to write."""
    flag = _FLAGS.get(item.lower())
    if flag:
        values.setdefault(flag[0], []).append(flag[1])
        return
    try:
        parse_proposal(item)
    except UnknownAlgorithm:
        raise RemoteParamsError(f"unexpected {item!r}; accepted keys: {ACCEPTED_KEYS}") from None
    raise RemoteParamsError(
        f"{item!r} has no key: write ike={item} for phase 1 or esp={item} for phase 2"
    )


def parse_remote(text: str) -> RemoteParams:
    """Read the --remote text; raises RemoteParamsError with a message meant for the user."""
    values: dict[str, list[str]] = {}
    matches = list(_KEY.finditer(text))
    for item in _items(text[: matches[0].start()] if matches else text):
        _bare(item, values)
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        alias = match[1].lower().replace("-", "_")
        key = _CANONICAL.get(alias)
        if key is None:
            raise RemoteParamsError(f"unknown key {match[1]!r}; accepted keys: {ACCEPTED_KEYS}")
        items = _items(text[match.end() : end])
        # The value comes first; flags such as "ikev2" may follow it (or sit in a list).
        own = items[:1] + [item for item in items[1:] if item.lower() not in _FLAGS]
        for flag in (item for item in items[1:] if item.lower() in _FLAGS):
            _bare(flag, values)
        if key in _LISTS and own and own[0].lower() in _FLAGS:
            _bare(own.pop(0), values)
        if not own:
            raise RemoteParamsError(f"{match[1]}= needs a value")
        if key not in _LISTS and len(own) > 1:
            raise RemoteParamsError(f"{match[1]} takes one value, got {' '.join(own)!r}")
        values.setdefault(key, []).extend(own)
    return _build(values)


def _build(values: dict[str, list[str]]) -> RemoteParams:
    fields: dict[str, object] = {}
    for key, items in values.items():
        if key in _LISTS:
            fields[key] = tuple(items)
            continue
        if len(set(items)) > 1:
            raise RemoteParamsError(f"{key} given twice with different values: {', '.join(items)}")
        raw = items[0]
        if key in ("ike_lifetime", "esp_lifetime"):
            target, amount = _lifetime(raw, key)
            fields[target] = amount
        elif key == "esp_lifebytes":
            fields[key] = _amount(raw, _BYTES, key)
        elif key == "version":
            fields[key] = _version(raw)
        elif key == "aggressive":
            fields[key] = _yes_no(raw, key)
        elif key == "pfs":
            fields[key] = _pfs(raw)
        else:
            fields[key] = raw
    try:
        return RemoteParams.model_validate(fields)
    except ValueError as exc:
        raise RemoteParamsError(_first_problem(exc)) from None


def _first_problem(exc: ValueError) -> str:
    """The first validation problem in plain words, without pydantic's boilerplate."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(part) for part in first["loc"] if not isinstance(part, int))
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        return f"{where}: {message.removeprefix('Value error, ')}"
    return str(exc)
