"""The installed `vpn-doctor` console script, run as a real subprocess.

Covers the three analysis commands in every output format and language, the JSON contract
other tools key on, the exit codes (0 analysed, 2 usage or unreadable input, one line on
stderr) and that a peer's pre-shared secret never reaches any output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from knowledge.library import load_catalog

SCRIPT = shutil.which("vpn-doctor") or str(Path(sys.executable).parent / "vpn-doctor")
SECRET = "Kx9-never-print-this-PSK-7QzR"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

CONTRACT_IDS = (
    "tunnel-established", "phase1-proposal-mismatch", "phase2-proposal-mismatch", "subnet-mismatch",
    "ike-version-mismatch", "aggressive-mode", "peer-not-configured", "peer-unresponsive", "psk-mismatch",
    "pfs-mismatch", "id-mismatch", "nat-t-blocked", "dead-peer", "lifetime-mismatch",
    "partial-host-reachability", "phase1-not-established", "phase2-not-established",
    "ikev2-unsupported-firmware", "weak-crypto",
)  # fmt: skip

# The MX event log as copied from the Dashboard (newest first): the key differs.
DASHBOARD_PSK = """\
Jul 22 10:16:04      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: phase1 negotiation failed due to time up. 4ee5cbd332e816a7:96546bbd6ce8c535
Jul 22 10:15:34      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: the packet is retransmitted by 203.0.113.10[500] (2).
Jul 22 10:15:14      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: the packet is retransmitted by 203.0.113.10[500] (1).
Jul 22 10:15:04      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: HASH mismatched
Jul 22 10:15:03      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: received Vendor ID: DPD
Jul 22 10:15:03      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: begin Identity Protection mode.
Jul 22 10:15:03      Non-Meraki VPN  Non-Meraki VPN negotiation  msg: respond new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]
"""  # noqa: E501

# A chat paste mixing Meraki syslog in a code fence and a strongSwan peer's line.
MIXED_PASTE = """\
Morning all, the tunnel to the Osaka office has been down since the firewall change.
Here is what the MX shows:
```
<134>1 1753179611.244272509 MX-HQ events Site-to-site VPN: initiate new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]
<134>1 1753179612.711178002 MX-HQ events Site-to-site VPN: ISAKMP-SA established 198.51.100.2[500]-203.0.113.10[500] spi:4b55c9d15ce74215:e74fdf272ac6ddc4
<134>1 1753179613.111178002 MX-HQ events Site-to-site VPN: initiate new phase 2 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]
<134>1 1753179614.111178002 MX-HQ events Site-to-site VPN: failed to get sainfo.
```
and on the strongSwan side:
May 19 05:29:30 fw-dc1 charon[1187]: 07[IKE] <osaka|1> tried 1 shared key for '192.0.2.20' - '198.51.100.2', but MAC mismatched
何かわかりますか？
"""  # noqa: E501


def api_events_json() -> str:
    """A `GET /networks/{id}/events` page with the key mismatch, pretty-printed as saved by a user."""

    def event(when: str, msg: str) -> dict[str, Any]:
        return {
            "occurredAt": when,
            "networkId": "L_646829496481105433",
            "type": "non_meraki_vpn",
            "description": "Non-Meraki VPN negotiation",
            "category": "non_meraki_vpn",
            "deviceSerial": "Q2MN-7KXD-3RJC",
            "deviceName": "MX-HQ",
            "eventData": {"msg": msg},
        }

    page = {
        "message": None,
        "pageStartAt": "2025-07-22T10:15:03.204214Z",
        "pageEndAt": "2025-07-22T10:15:04.609382Z",
        "events": [
            event("2025-07-22T10:15:04.609382Z", "HASH mismatched"),
            event("2025-07-22T10:15:03.888267Z", "begin Identity Protection mode."),
            event("2025-07-22T10:15:03.204214Z",
                  "respond new phase 1 negotiation: 198.51.100.2[500]<=>203.0.113.10[500]"),
        ],
    }
    return json.dumps(page, indent=2)


def dashboard_peer(**fields: Any) -> dict[str, Any]:
    """One entry of GET /organizations/{orgId}/appliance/vpn/thirdPartyVPNPeers."""
    peer: dict[str, Any] = {
        "name": "Osaka DC",
        "publicIp": "203.0.113.10",
        "remoteId": "203.0.113.10",
        "localId": "198.51.100.2",
        "secret": SECRET,
        "privateSubnets": ["10.20.0.0/16", "10.21.0.0/16"],
        "ipsecPolicies": {
            "ikeCipherAlgo": ["aes256"],
            "ikeAuthAlgo": ["sha256"],
            "ikePrfAlgo": ["prfsha256"],
            "ikeDiffieHellmanGroup": ["group14"],
            "ikeLifetime": 28800,
            "childCipherAlgo": ["aes256"],
            "childAuthAlgo": ["sha256"],
            "childPfsGroup": ["disabled"],
            "childLifetime": 3600,
        },
        "ipsecPoliciesPreset": "custom",
        "ikeVersion": "2",
        "networkTags": ["all"],
    }
    peer.update(fields)
    return peer


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, stdin: bytes | None = None) -> Result:
    """Run the script; its output must be valid UTF-8 whatever it was given."""
    proc = subprocess.run(
        [SCRIPT, *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=120,
        check=False,
    )
    return Result(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8"))


def run_json(*args: str, stdin: bytes | None = None) -> dict[str, Any]:
    proc = run(*args, "--format", "json", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert_contract(doc)
    return doc


def assert_one_line_reason(proc: Result) -> str:
    """Exit 2, nothing on stdout, exactly one non-empty line on stderr and no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected a one-line reason on stderr, got {len(lines)} lines:\n{proc.stderr}"
    assert len(lines[0]) > len("vpn-doctor: ")
    return lines[0]


def assert_contract(doc: object) -> None:
    """The documented `--format json` shape, with strict types."""
    assert isinstance(doc, dict)
    assert isinstance(doc["verdict"], str)
    assert doc["verdict"] in {"healthy", "failing", "degraded", "unknown"}
    assert isinstance(doc["peers"], list)
    for peer in doc["peers"]:
        assert isinstance(peer, dict)
        assert isinstance(peer["address"], str) and peer["address"]
        assert isinstance(peer["state"], str)
        assert peer["state"] in {"up", "down", "flapping", "unknown"}
    assert isinstance(doc["findings"], list)
    known = set(load_catalog().findings)
    for finding in doc["findings"]:
        assert isinstance(finding, dict)
        assert isinstance(finding["id"], str) and finding["id"] in known
        assert finding["phase"] is None or (type(finding["phase"]) is int and finding["phase"] in (1, 2))
        assert finding["peer"] is None or isinstance(finding["peer"], str)
        assert isinstance(finding["severity"], str)
        assert finding["severity"] in {"error", "warning", "info"}
        assert isinstance(finding["evidence"], list)
        for evidence in finding["evidence"]:
            assert isinstance(evidence, dict)
            assert type(evidence["line"]) is int and evidence["line"] >= 1
            assert isinstance(evidence["text"], str)


def file_lines(path: Path) -> list[str]:
    """The file's lines as the engine numbers them: split on newline only."""
    return path.read_bytes().decode("utf-8", "replace").split("\n")


def assert_evidence_cites_file(doc: dict[str, Any], path: Path) -> None:
    lines = file_lines(path)
    cited = 0
    for finding in doc["findings"]:
        for evidence in finding["evidence"]:
            assert 1 <= evidence["line"] <= len(lines)
            assert lines[evidence["line"] - 1].strip() == evidence["text"].strip(), evidence
            cited += 1
    assert cited, "expected at least one evidence line"


@pytest.fixture
def psk_log(tmp_path: Path) -> Path:
    path = tmp_path / "event-log.txt"
    path.write_text(DASHBOARD_PSK, encoding="utf-8")
    return path


def test_script_is_installed() -> None:
    assert Path(SCRIPT).is_file(), "the vpn-doctor console script is not installed next to the interpreter"


# --- diagnose --------------------------------------------------------------------------------
def test_diagnose_file_text(psk_log: Path) -> None:
    proc = run("diagnose", str(psk_log))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert load_catalog().findings["psk-mismatch"].en.title in proc.stdout
    assert "HASH mismatched" in proc.stdout
    assert "203.0.113.10" in proc.stdout


def test_diagnose_stdin_matches_file(psk_log: Path) -> None:
    from_file = run_json("diagnose", str(psk_log))
    from_stdin = run_json("diagnose", "-", stdin=DASHBOARD_PSK.encode())
    default_stdin = run_json("diagnose", stdin=DASHBOARD_PSK.encode())
    assert from_file == from_stdin == default_stdin


def test_diagnose_json(psk_log: Path) -> None:
    doc = run_json("diagnose", str(psk_log))
    assert doc["verdict"] == "failing"
    assert [p["address"] for p in doc["peers"]] == ["203.0.113.10"]
    psk = [f for f in doc["findings"] if f["id"] == "psk-mismatch"]
    assert len(psk) == 1
    assert psk[0]["phase"] == 1
    assert psk[0]["peer"] == "203.0.113.10"
    assert psk[0]["severity"] == "error"
    assert 4 in [e["line"] for e in psk[0]["evidence"]]
    assert_evidence_cites_file(doc, psk_log)


def test_diagnose_markdown(psk_log: Path) -> None:
    proc = run("diagnose", "--format", "markdown", str(psk_log))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^#{1,3} ", proc.stdout, re.M), "expected Markdown headings"
    assert load_catalog().findings["psk-mismatch"].en.title in proc.stdout
    assert "HASH mismatched" in proc.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_diagnose_japanese(psk_log: Path, fmt: str) -> None:
    proc = run("diagnose", "--lang", "ja", "--format", fmt, "-", stdin=psk_log.read_bytes())
    assert proc.returncode == 0, proc.stderr
    assert JAPANESE.search(proc.stdout)
    title_ja = load_catalog().findings["psk-mismatch"].ja.title
    if fmt == "json":
        doc = json.loads(proc.stdout)
        assert_contract(doc)
        assert title_ja in [f["title"] for f in doc["findings"]]
    else:
        assert title_ja in proc.stdout
    assert load_catalog().findings["psk-mismatch"].en.title not in proc.stdout


def test_evidence_lines_in_a_mixed_paste(tmp_path: Path) -> None:
    path = tmp_path / "slack-paste.txt"
    path.write_text(MIXED_PASTE, encoding="utf-8")
    doc = run_json("diagnose", str(path))
    ids = {f["id"] for f in doc["findings"]}
    assert {"subnet-mismatch", "psk-mismatch"} <= ids
    assert_evidence_cites_file(doc, path)


def test_evidence_lines_in_api_json(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(api_events_json(), encoding="utf-8")
    doc = run_json("diagnose", str(path))
    psk = [f for f in doc["findings"] if f["id"] == "psk-mismatch"]
    assert psk, doc["findings"]
    lines = file_lines(path)
    for finding in doc["findings"]:
        for evidence in finding["evidence"]:
            msg = evidence["text"].split("msg: ", 1)[1]
            assert json.dumps(msg)[1:-1] in lines[evidence["line"] - 1], evidence


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n   \n", b"hello team\nthe printer on floor 3 is jammed again\n"],
    ids=["empty", "blank-lines", "no-vpn-lines"],
)
@pytest.mark.parametrize("via", ["file", "stdin"])
def test_diagnose_exit_0_when_nothing_to_find(tmp_path: Path, content: bytes, via: str) -> None:
    path = tmp_path / "input.log"
    path.write_bytes(content)
    args = ("diagnose", str(path)) if via == "file" else ("diagnose", "-")
    doc = run_json(*args, stdin=content if via == "stdin" else None)
    assert doc["verdict"] == "unknown"
    assert doc["findings"] == []
    assert doc["notes"], "the reader should be told why nothing was found"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_diagnose_empty_stdin_readable_answer(fmt: str) -> None:
    proc = run("diagnose", "--format", fmt, stdin=b"")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert load_catalog().message("note.empty", "en") in proc.stdout


# --- usage errors and unreadable input --------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("frobnicate",),
        (),
        ("diagnose", "--format", "xml", "-"),
        ("diagnose", "--lang", "fr", "-"),
        ("diagnose", "a.log", "b.log"),
        ("catalog", "--lang", "de"),
        ("check-peer",),
    ],
    ids=["unknown-command", "no-command", "bad-format", "bad-lang", "two-files", "catalog-bad-lang",
         "check-peer-no-file"],
)
def test_usage_errors_exit_2_with_one_line(args: tuple[str, ...]) -> None:
    assert_one_line_reason(run(*args, stdin=b""))


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    line = assert_one_line_reason(run("diagnose", str(missing)))
    assert str(missing) in line


def test_directory(tmp_path: Path) -> None:
    line = assert_one_line_reason(run("diagnose", str(tmp_path)))
    assert str(tmp_path) in line


def test_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "log.txt"
    link.symlink_to(tmp_path / "gone" / "log.txt")
    line = assert_one_line_reason(run("diagnose", str(link)))
    assert str(link) in line


def test_path_through_a_file(tmp_path: Path, psk_log: Path) -> None:
    """ENOTDIR: cannot be opened whoever runs the test, root included."""
    bad = psk_log / "inner.log"
    assert_one_line_reason(run("diagnose", str(bad)))


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_file_that_opens_but_cannot_be_read() -> None:
    """/proc/self/mem opens for anyone but reading offset 0 fails with EIO."""
    line = assert_one_line_reason(run("diagnose", "/proc/self/mem"))
    assert "/proc/self/mem" in line


def test_closed_stdout_does_not_crash(psk_log: Path) -> None:
    """`vpn-doctor diagnose big.log | head` must not end in a traceback when the reader goes away."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([SCRIPT, "diagnose", str(psk_log)], stdout=write_end, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr, proc.stderr


# --- check-peer --------------------------------------------------------------------------------
def write_json(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def test_check_peer_ikev2_on_old_firmware(tmp_path: Path) -> None:
    path = write_json(tmp_path, "peer.json", dashboard_peer())
    doc = run_json("check-peer", str(path), "--firmware", "MX 15.8")
    assert "ikev2-unsupported-firmware" in [f["id"] for f in doc["findings"]]
    assert doc["verdict"] == "failing"
    assert [p["address"] for p in doc["peers"]] == ["203.0.113.10"]


@pytest.mark.parametrize("firmware", ["MX 18.107.4", "wired-18-107", "MX 15.12"])
def test_check_peer_ikev2_on_new_firmware(tmp_path: Path, firmware: str) -> None:
    path = write_json(tmp_path, "peer.json", dashboard_peer())
    doc = run_json("check-peer", str(path), "--firmware", firmware)
    assert "ikev2-unsupported-firmware" not in [f["id"] for f in doc["findings"]]


def test_check_peer_remote_mismatch(tmp_path: Path) -> None:
    path = write_json(tmp_path, "peer.json", dashboard_peer(ikeVersion="1"))
    doc = run_json("check-peer", str(path), "--remote",
                   "ike=aes128-sha1-modp1024 esp=aes256-sha256 ikev1 local_ts=10.20.0.0/16,10.21.0.0/16")
    assert "phase1-proposal-mismatch" in [f["id"] for f in doc["findings"]]


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_check_peer_never_prints_the_secret(tmp_path: Path, fmt: str, lang: str) -> None:
    weak = dashboard_peer(ipsecPolicies={
        "ikeCipherAlgo": ["des"], "ikeAuthAlgo": ["md5"], "ikeDiffieHellmanGroup": ["group1"],
        "childCipherAlgo": ["des"], "childAuthAlgo": ["md5"], "childPfsGroup": ["group1"],
    })
    path = write_json(tmp_path, "peer.json", weak)
    proc = run("check-peer", str(path), "--firmware", "MX 15.8", "--format", fmt, "--lang", lang,
               "--remote", "ike=aes256-sha256-modp2048 esp=aes256-sha256 ikev1 pfs=modp2048 esp_lifetime=8h")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert SECRET not in proc.stdout and SECRET not in proc.stderr
    if lang == "ja":
        assert JAPANESE.search(proc.stdout)


def test_check_peer_error_messages_never_print_the_secret(tmp_path: Path) -> None:
    doc = {"peers": [dashboard_peer(), dashboard_peer(name="Kobe", publicIp="192.0.2.9")]}
    path = write_json(tmp_path, "peers.json", doc)
    for args in (("--name", "Nagoya"), ("--name", "Kobe", "--remote", "bogus=1"), ()):
        proc = run("check-peer", str(path), *args)
        assert proc.returncode == 2
        assert SECRET not in proc.stderr and SECRET not in proc.stdout


@pytest.mark.parametrize("content", ["{not json", "", '{"peers": "none"}', "[]", "42", '"peer"', "\xff\xfe"],
                         ids=["truncated", "empty", "peers-not-list", "empty-list", "number", "string", "bad-utf8"])
def test_check_peer_bad_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "peer.json"
    path.write_bytes(content.encode("latin-1") if content == "\xff\xfe" else content.encode())
    assert_one_line_reason(run("check-peer", str(path)))


def test_check_peer_unreadable(tmp_path: Path) -> None:
    assert_one_line_reason(run("check-peer", str(tmp_path / "missing.json")))
    assert_one_line_reason(run("check-peer", str(tmp_path)))


def test_check_peer_several_peers_need_a_name(tmp_path: Path) -> None:
    doc = {"peers": [dashboard_peer(), dashboard_peer(name="Kobe", publicIp="192.0.2.9", ikeVersion="1")]}
    path = write_json(tmp_path, "peers.json", doc)
    line = assert_one_line_reason(run("check-peer", str(path), "--firmware", "MX 15.8"))
    assert "--name" in line
    chosen = run_json("check-peer", str(path), "--firmware", "MX 15.8", "--name", "Kobe")
    assert [p["address"] for p in chosen["peers"]] == ["192.0.2.9"]
    assert "ikev2-unsupported-firmware" not in [f["id"] for f in chosen["findings"]]
    other = run_json("check-peer", str(path), "--firmware", "MX 15.8", "--name", "Osaka DC")
    assert "ikev2-unsupported-firmware" in [f["id"] for f in other["findings"]]
    assert_one_line_reason(run("check-peer", str(path), "--name", "Nagoya"))


def test_check_peer_bare_list(tmp_path: Path) -> None:
    path = write_json(tmp_path, "peers.json", [dashboard_peer()])
    doc = run_json("check-peer", str(path), "--firmware", "MX 15.8")
    assert "ikev2-unsupported-firmware" in [f["id"] for f in doc["findings"]]


def test_check_peer_bad_remote(tmp_path: Path) -> None:
    path = write_json(tmp_path, "peer.json", dashboard_peer())
    assert_one_line_reason(run("check-peer", str(path), "--remote", "ike=rot13-crc32"))


def test_check_peer_unreadable_firmware(tmp_path: Path) -> None:
    """A firmware string that cannot be read must not silently skip the firmware check."""
    path = write_json(tmp_path, "peer.json", dashboard_peer())
    assert_one_line_reason(run("check-peer", str(path), "--firmware", "banana"))


# --- catalog -----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_catalog_lists_every_contract_id(lang: str) -> None:
    proc = run("catalog", "--lang", lang) if lang == "ja" else run("catalog")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    assert set(CONTRACT_IDS) <= listed
    catalog = load_catalog()
    for finding_id in CONTRACT_IDS:
        title = getattr(catalog.findings[finding_id], lang).title
        assert title.split("{", 1)[0].rstrip(": ：") in proc.stdout
    assert "{" not in proc.stdout, "a placeholder left unfilled"
    if lang == "ja":
        assert JAPANESE.search(proc.stdout)


def test_catalog_json() -> None:
    proc = run("catalog", "--format", "json", "--lang", "ja")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert isinstance(rows, list)
    assert set(CONTRACT_IDS) <= {row["id"] for row in rows}
    assert all(JAPANESE.search(row["title"]) for row in rows)


@pytest.mark.parametrize(("doc", "missing"), [({"foo": 1}, "name"), ({"name": "x"}, "publicIp or publicHostname")])
def test_check_peer_refuses_json_that_is_not_a_dashboard_peer(tmp_path: Path, doc: dict, missing: str) -> None:
    proc = run("check-peer", str(write_json(tmp_path, "peer.json", doc)))
    assert proc.returncode == 2 and missing in proc.stderr and "not a Dashboard VPN peer" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_check_peer_text_shows_both_ends_values(tmp_path: Path) -> None:
    peer = {"name": "p", "publicIp": "203.0.113.5", "privateSubnets": ["10.0.0.0/24"],
            "ipsecPoliciesPreset": "default", "ikeVersion": "1"}
    proc = run("check-peer", str(write_json(tmp_path, "peer.json", peer)), "--remote", "ike=aes256-sha256-modp2048")
    assert proc.returncode == 0, proc.stderr
    assert "MX 3des-sha1-modp1024 · remote aes256-sha256-modp2048" in proc.stdout


def test_markdown_says_the_verdict_once() -> None:
    row = "Jul 22 10:15:04  Non-Meraki VPN  Non-Meraki VPN negotiation  msg: HASH mismatched\n"
    proc = run("diagnose", "-", "--format", "markdown", stdin=row.encode())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("## ❌ Failing: 1 problem found")
    assert proc.stdout.count("Failing") == 1
