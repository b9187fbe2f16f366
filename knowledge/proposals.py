"""One vocabulary for IKE/ESP algorithms: Dashboard enums and strongSwan keywords.

The Dashboard says "tripledes" and "group14", strongSwan says "3des" and "modp2048".
Everything here is normalised to strongSwan's keywords, because that is the syntax
the remote side's administrator types and reads in logs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["encryption", "integrity", "prf", "dh", "esn"]
KINDS: tuple[Kind, ...] = ("encryption", "integrity", "prf", "dh")

NO_PFS = "disabled"

# IANA Diffie-Hellman group number → strongSwan keyword.
DH_GROUPS: dict[int, str] = {
    1: "modp768",
    2: "modp1024",
    5: "modp1536",
    14: "modp2048",
    15: "modp3072",
    16: "modp4096",
    17: "modp6144",
    18: "modp8192",
    19: "ecp256",
    20: "ecp384",
    21: "ecp521",
    22: "modp1024s160",
    23: "modp2048s224",
    24: "modp2048s256",
    25: "ecp192",
    26: "ecp224",
    27: "ecp224bp",
    28: "ecp256bp",
    29: "ecp384bp",
    30: "ecp512bp",
    31: "curve25519",
    32: "curve448",
}
_DH_KEYWORDS = set(DH_GROUPS.values())
_DH_NUMBERS = {name: number for number, name in DH_GROUPS.items()}

_ALIASES: dict[str, str] = {
    "aes": "aes128",
    "tripledes": "3des",
    "sha": "sha1",
    "sha2_256": "sha256",
    "sha2_384": "sha384",
    "sha2_512": "sha512",
    "prfsha": "prfsha1",
    "x25519": "curve25519",
    "x448": "curve448",
    "modpnone": "none",
}

_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("encryption", re.compile(r"(?:3des|des|null|cast128|chacha20poly1305)")),
    ("encryption", re.compile(r"(?:aes|camellia|blowfish|serpent|twofish)(?:128|192|256)(?:ctr)?")),
    ("encryption", re.compile(r"(?:aes|camellia)(?:128|192|256)?(?:gcm|ccm)(?:8|12|16|64|96|128)?")),
    ("integrity", re.compile(r"md5(?:_128)?|sha1(?:_160)?|sha(?:256|384|512)(?:_96)?|sha2_256_96")),
    ("integrity", re.compile(r"aesxcbc|aescmac")),
    ("integrity", re.compile(r"aes(?:128|192|256)gmac")),
    ("prf", re.compile(r"prf(?:md5|sha1|sha256|sha384|sha512|aesxcbc|aescmac)")),
    ("dh", re.compile(r"none")),
    ("esn", re.compile(r"(?:no)?esn")),
)

# What a Dashboard user reads for each weak keyword; only names, so any language can use them.
WEAK_NAMES: dict[str, str] = {
    "des": "DES",
    "3des": "3DES",
    "null": "NULL",
    "md5": "MD5",
    "md5_128": "MD5",
    "prfmd5": "MD5",
    "modp768": "DH group 1",
    "modp1024": "DH group 2",
    "modp1536": "DH group 5",
}


_FAMILIES = frozenset({"aes", "camellia", "sha", "group", "dh", "modp", "ecp"})


class UnknownAlgorithm(ValueError):
    """A name that is neither a strongSwan keyword nor a Dashboard enum value."""


def classify(token: str) -> tuple[Kind, str]:
    """The kind and strongSwan keyword of one algorithm name (either vocabulary)."""
    name = token.strip().strip("!").lower()
    name = _ALIASES.get(name, name)
    group = re.fullmatch(r"(?:group|dh)?(\d{1,2})", name)
    if group and int(group[1]) in DH_GROUPS:
        return "dh", DH_GROUPS[int(group[1])]
    if name in _DH_KEYWORDS:
        return "dh", name
    for kind, pattern in _PATTERNS:
        if pattern.fullmatch(name):
            return kind, name
    raise UnknownAlgorithm(f"unknown algorithm {token!r}")


def dh_keyword(value: str) -> str:
    """A Dashboard DH/PFS value ("group14", "14", "disabled") as a strongSwan keyword or NO_PFS."""
    name = value.strip().lower()
    if name in (NO_PFS, "none", "no", "off", "false", "0"):
        return NO_PFS
    kind, keyword = classify(name)
    if kind != "dh":
        raise UnknownAlgorithm(f"{value!r} is not a Diffie-Hellman group")
    return NO_PFS if keyword == "none" else keyword


def dh_label(keyword: str) -> str:
    """A DH keyword with its group number, e.g. "modp2048 (group14)", for both audiences."""
    number = _DH_NUMBERS.get(keyword)
    return f"{keyword} (group{number})" if number else keyword


def prf_for(integrity: str) -> str | None:
    """The PRF strongSwan (and the MX, with ikePrfAlgo "default") derives from an integrity algorithm."""
    base = re.sub(r"_\d+$", "", integrity)
    candidate = "prf" + base
    try:
        return candidate if classify(candidate)[0] == "prf" else None
    except UnknownAlgorithm:
        return None


@dataclass(frozen=True)
class Proposal:
    """One proposal: every listed algorithm of each kind may combine with every other."""

    encryption: tuple[str, ...] = ()
    integrity: tuple[str, ...] = ()
    prf: tuple[str, ...] = ()
    dh: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "-".join((*self.encryption, *self.integrity, *self.prf, *self.dh))

    def values(self, kind: Kind) -> tuple[str, ...]:
        if kind == "prf" and not self.prf:
            return tuple(p for p in (prf_for(i) for i in self.integrity) if p)
        return getattr(self, kind) if kind in KINDS else ()

    def algorithms(self) -> tuple[str, ...]:
        return (*self.encryption, *self.integrity, *self.prf, *self.dh)


def parse_proposal(text: str) -> Proposal:
    """A strongSwan proposal such as "aes256-sha256-modp2048" (Dashboard names also accepted).

    A bare number after a family name is joined to it, so "aes-256-sha-256-group-14" reads too.
    """
    parts = [p for p in text.strip().strip("!").lower().split("-") if p]
    tokens: list[str] = []
    for part in parts:
        if part.isdigit() and tokens and tokens[-1] in _FAMILIES:
            tokens[-1] += part
        else:
            tokens.append(part)
    if not tokens:
        raise UnknownAlgorithm(f"empty proposal {text!r}")
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for token in tokens:
        kind, name = classify(token)
        if kind != "esn" and name not in found[kind]:
            found[kind].append(name)
    if not found["encryption"]:
        raise UnknownAlgorithm(f"proposal {text!r} names no encryption algorithm")
    return Proposal(**{kind: tuple(names) for kind, names in found.items()})


def parse_proposals(text: str) -> tuple[Proposal, ...]:
    """A comma- or space-separated list of proposals."""
    return tuple(parse_proposal(item) for item in re.split(r"[\s,]+", text) if item)


def format_proposals(proposals: Iterable[Proposal]) -> str:
    return ",".join(str(p) for p in proposals)


def _overlap(mx: Proposal, remote: Proposal, kind: Kind) -> bool:
    """Whether the two share an algorithm of `kind`; an unspecified remote kind does not constrain."""
    theirs = remote.values(kind)
    return not theirs or bool(set(mx.values(kind)) & set(theirs))


def mismatched_kinds(mx: Proposal, remotes: Sequence[Proposal], kinds: Sequence[Kind]) -> list[Kind]:
    """The algorithm kinds that keep the remote proposals from matching the MX's; [] on a match.

    When every kind overlaps with some remote proposal but no single proposal matches as a
    whole, all compared kinds are named, because the combination is what fails.
    """
    if any(all(_overlap(mx, remote, kind) for kind in kinds) for remote in remotes):
        return []
    failing = [kind for kind in kinds if not any(_overlap(mx, remote, kind) for remote in remotes)]
    return failing or list(kinds)


def weak_algorithms(proposals: Iterable[Proposal]) -> list[str]:
    """Display names of the weak algorithms the proposals allow, without duplicates, in order."""
    names: list[str] = []
    for proposal in proposals:
        for algorithm in proposal.algorithms():
            name = WEAK_NAMES.get(algorithm)
            if name and name not in names:
                names.append(name)
    return names
