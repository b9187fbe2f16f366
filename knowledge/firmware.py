"""MX firmware strings → comparable version tuples.

The Dashboard spells the same release in several ways ("MX 18.107.4" as a short name,
"wired-18-107" as a device's firmware, "Not running configured version" while an
upgrade is pending). Versions are compared as integer tuples because 15.8 < 15.12,
which string or float comparison gets wrong.
"""

from __future__ import annotations

import re

IKEV2_MINIMUM: tuple[int, ...] = (15, 12)

# An optional "MX"/"wired" product prefix, then at least major.minor, dots or dashes between.
# Other products' firmware ("wireless-25-14", "switch-16-4") does not match on purpose.
_FIRMWARE = re.compile(r"^(?:mx|wired)?[\s_-]*v?(?P<version>\d{1,4}(?:[.-]\d{1,4})+)(?!\d)", re.IGNORECASE)


def parse_firmware(text: str | None) -> tuple[int, ...] | None:
    """The version numbers in an MX firmware string, or None when it names no version."""
    if not isinstance(text, str):
        return None
    match = _FIRMWARE.match(text.strip())
    if not match:
        return None
    return tuple(int(part) for part in re.split(r"[.-]", match["version"]))


def format_firmware(version: tuple[int, ...]) -> str:
    """The Dashboard's short-name form, e.g. (15, 8) → "MX 15.8"."""
    return "MX " + ".".join(str(part) for part in version)


def supports_ikev2(firmware: str | tuple[int, ...] | None) -> bool | None:
    """Whether an MX on this firmware can run IKEv2 with a non-Meraki peer; None if unknown."""
    version = firmware if isinstance(firmware, tuple) else parse_firmware(firmware)
    if version is None:
        return None
    return version >= IKEV2_MINIMUM
