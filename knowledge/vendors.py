"""Which cloud a third-party peer probably is, guessed from the names people give it.

Only names are used (peer names, hostnames, free text): an IP address says nothing
reliable about the cloud behind it. The guess only decides which vendor hints a
finding shows, so a miss costs a hint, never a wrong diagnosis.
"""

from __future__ import annotations

import re

# Long names are distinctive anywhere in a word ("AzureVNet", "googlecloud").
_ANYWHERE: dict[str, tuple[str, ...]] = {
    "azure": ("azure", "microsoft"),
    "gcp": ("google",),
    "aws": ("amazon",),
}
# Short names must stand alone ("aws-tokyo", "to_GCP"), so "laws" or "msftp" do not count.
_WHOLE: dict[str, tuple[str, ...]] = {
    "azure": ("msft",),
    "gcp": ("gcp", "gcloud"),
    "aws": ("aws", "vgw", "tgw"),
}


def _words(text: str) -> set[str]:
    """Lower-case words, with camel case split ("GcpVpn" → gcp, vpn)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    return set(re.findall(r"[a-z]+", spaced.lower()))


def guess_vendors(text: str) -> set[str]:
    """The subset of {"azure", "gcp", "aws"} that `text` suggests."""
    if not isinstance(text, str) or not text:
        return set()
    lowered = text.lower()
    words = _words(text)
    found: set[str] = set()
    for vendor, names in _ANYWHERE.items():
        if any(name in lowered for name in names):
            found.add(vendor)
    for vendor, names in _WHOLE.items():
        if words.intersection(names):
            found.add(vendor)
    return found
