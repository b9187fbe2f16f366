"""The config check: a Dashboard peer definition (plus firmware and remote settings) → Diagnosis."""

from __future__ import annotations

import json
from typing import Any

import pytest

from knowledge.config_check import check_peer, mx_policy
from knowledge.library import load_catalog
from knowledge.models import Basis, Diagnosis, Finding, PeerState, Severity, Verdict
from knowledge.proposals import Proposal, mismatched_kinds, parse_proposal
from knowledge.remote_params import RemoteParams, RemoteParamsError
from knowledge.vendors import guess_vendors

SECRET = "Tr0ub4dor-psk-never-shown"

STRONG_POLICY = {
    "ikeCipherAlgo": ["aes256"],
    "ikeAuthAlgo": ["sha256"],
    "ikePrfAlgo": ["default"],
    "ikeDiffieHellmanGroup": ["group14"],
    "ikeLifetime": 28800,
    "childCipherAlgo": ["aes256"],
    "childAuthAlgo": ["sha256"],
    "childPfsGroup": ["group14"],
    "childLifetime": 3600,
}
STRONG_REMOTE = (
    "ike=aes256-sha256-modp2048 esp=aes256-sha256-modp2048 ike_lifetime=8h esp_lifetime=1h "
    "version=1 local_ts=192.168.1.0/24 remote_ts=10.0.0.0/16"
)


def peer(**fields: Any) -> dict[str, Any]:
    """A peer shaped like the Dashboard's GET example, overridden by `fields`."""
    base: dict[str, Any] = {
        "name": "Branch firewall",
        "publicIp": "203.0.113.7",
        "remoteId": "fw@example.net",
        "localId": "mx@example.net",
        "secret": SECRET,
        "privateSubnets": ["192.168.1.0/24"],
        "ipsecPolicies": dict(STRONG_POLICY),
        "ipsecPoliciesPreset": "custom",
        "ikeVersion": "1",
        "networkTags": ["all"],
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def ids(diagnosis: Diagnosis) -> list[str]:
    return diagnosis.finding_ids


def only(diagnosis: Diagnosis, finding_id: str) -> Finding:
    matches = [f for f in diagnosis.findings if f.id == finding_id]
    assert len(matches) == 1, diagnosis.finding_ids
    return matches[0]


# --- firmware and IKEv2 ----------------------------------------------------------------------------


@pytest.mark.parametrize("firmware", ["MX 15.8", "wired-15-8", "MX 14.56", "wired-14-56"])
def test_ikev2_on_old_firmware_fails(firmware: str) -> None:
    diagnosis = check_peer(peer(ikeVersion="2"), firmware=firmware)
    finding = only(diagnosis, "ikev2-unsupported-firmware")
    assert finding.severity is Severity.ERROR
    assert finding.basis is Basis.CONFIG
    assert finding.facts["firmware"] == firmware.replace("wired-", "MX ").replace("-", ".")
    assert finding.facts["firmware"] in finding.title
    assert diagnosis.verdict is Verdict.FAILING


@pytest.mark.parametrize(
    ("version", "firmware"),
    [("2", "MX 15.12"), ("2", "MX 18.107.4"), ("2", "wired-18-107"), ("2", "Not running configured version"),
     ("2", None), ("2", "garbage"), ("1", "MX 14.56")],
)  # fmt: skip
def test_no_firmware_finding_when_supported_unknown_or_ikev1(version: str, firmware: str | None) -> None:
    diagnosis = check_peer(peer(ikeVersion=version), firmware=firmware)
    assert diagnosis.findings == []
    assert diagnosis.verdict is Verdict.HEALTHY


def test_google_named_peer_gets_the_gcp_hint() -> None:
    plain = only(check_peer(peer(ikeVersion="2"), firmware="MX 15.8"), "ikev2-unsupported-firmware")
    google_peer = peer(ikeVersion="2", name="GCP-vpn-tokyo")
    google = only(check_peer(google_peer, firmware="MX 15.8"), "ikev2-unsupported-firmware")
    assert "gcp" not in {h.vendor for h in plain.hints}
    assert "gcp" in {h.vendor for h in google.hints}


# --- weak crypto ------------------------------------------------------------------------------------


def test_des_md5_group1_are_weak() -> None:
    policy = dict(
        STRONG_POLICY, ikeCipherAlgo=["des"], ikeAuthAlgo=["md5"], ikeDiffieHellmanGroup=["group1"]
    )
    finding = only(check_peer(peer(ipsecPolicies=policy)), "weak-crypto")
    assert finding.facts["weak"] == "DES, MD5, DH group 1"
    assert finding.severity is Severity.WARNING


def test_weak_phase2_and_pfs_count_too() -> None:
    policy = dict(STRONG_POLICY, childCipherAlgo=["aes256", "des"], childPfsGroup=["group1"])
    assert only(check_peer(peer(ipsecPolicies=policy)), "weak-crypto").facts["weak"] == "DES, DH group 1"


def test_mx_defaults_are_reported_as_weak() -> None:
    for variant in (peer(ipsecPolicies=None, ipsecPoliciesPreset=None), peer(ipsecPoliciesPreset="default")):
        diagnosis = check_peer(variant)
        assert only(diagnosis, "weak-crypto").facts["weak"] == "3DES, MD5, DH group 2"
        assert only(diagnosis, "weak-crypto").facts["policy"] == "default"
        assert diagnosis.verdict is Verdict.DEGRADED


def test_strong_policy_is_healthy() -> None:
    diagnosis = check_peer(peer(), firmware="MX 18.107.4")
    assert diagnosis.findings == []
    assert diagnosis.verdict is Verdict.HEALTHY
    assert diagnosis.summary == load_catalog().message("verdict.config_ok", "en", peers="203.0.113.7", count=0)


# --- the MX policy ----------------------------------------------------------------------------------


def test_default_policy_matches_the_documented_defaults() -> None:
    policy = mx_policy(peer(ipsecPolicies=None, ipsecPoliciesPreset=None))
    assert str(policy.ike) == "3des-sha1-modp1024"
    assert set(policy.esp.encryption) == {"3des", "aes128"}  # type: ignore[union-attr]
    assert set(policy.esp.integrity) == {"md5", "sha1"}  # type: ignore[union-attr]
    assert (policy.pfs, policy.ike_lifetime, policy.esp_lifetime) == ("disabled", 28800, 28800)


def test_preset_wins_over_custom_values() -> None:
    assert mx_policy(peer(ipsecPoliciesPreset="default")).source == "default"
    assert mx_policy(peer(ipsecPoliciesPreset="custom")).source == "custom"
    assert mx_policy(peer(ipsecPoliciesPreset="azure")).ike is None


def test_dashboard_example_policy_is_read_in_strongswan_terms() -> None:
    example = {
        "ikeCipherAlgo": ["tripledes"], "ikeAuthAlgo": ["sha1"], "ikePrfAlgo": ["prfsha1"],
        "ikeDiffieHellmanGroup": ["group2"], "ikeLifetime": 28800, "childCipherAlgo": ["aes128"],
        "childAuthAlgo": ["sha1"], "childPfsGroup": ["disabled"], "childLifetime": 28800,
    }  # fmt: skip
    policy = mx_policy(peer(ipsecPolicies=example))
    assert str(policy.ike) == "3des-sha1-prfsha1-modp1024"
    assert (str(policy.esp), policy.pfs) == ("aes128-sha1", "disabled")


# --- remote parameters ------------------------------------------------------------------------------


def test_matching_remote_is_healthy() -> None:
    diagnosis = check_peer(peer(), remote=STRONG_REMOTE)
    assert diagnosis.findings == []
    assert diagnosis.verdict is Verdict.HEALTHY


def test_remote_against_mx_defaults() -> None:
    default_peer = peer(ipsecPolicies=None, ipsecPoliciesPreset=None)
    assert ids(check_peer(default_peer, remote="ike=3des-sha1-modp1024 esp=aes128-sha1 esp_lifetime=8h")) == [
        "weak-crypto"
    ]
    assert ids(check_peer(default_peer, remote="esp=3des-md5")) == ["weak-crypto"]


def test_phase1_mismatch_names_the_differing_fields_and_both_values() -> None:
    default_peer = peer(ipsecPolicies=None, ipsecPoliciesPreset=None)
    diagnosis = check_peer(default_peer, remote="ike=aes256-sha256-modp2048")
    finding = only(diagnosis, "phase1-proposal-mismatch")
    assert finding.facts["parameter"] == "ikeCipherAlgo / ikeAuthAlgo / ikeDiffieHellmanGroup"
    assert finding.facts["mx_value"] == "3des-sha1-modp1024"
    assert finding.facts["remote_value"] == "aes256-sha256-modp2048"
    hint_texts = " ".join(h.text for h in finding.hints)
    assert "3des-sha1-modp1024" in hint_texts and "aes256-sha256-modp2048" in hint_texts
    assert diagnosis.verdict is Verdict.FAILING


def test_phase1_one_matching_proposal_is_enough() -> None:
    remote = "ike=aes128-sha1-modp1024,aes256-sha256-modp2048"
    assert "phase1-proposal-mismatch" not in ids(check_peer(peer(), remote=remote))


def test_phase1_only_the_dh_group_differs() -> None:
    finding = only(check_peer(peer(), remote="ike=aes256-sha256-modp1536"), "phase1-proposal-mismatch")
    assert finding.facts["parameter"] == "ikeDiffieHellmanGroup"


def test_phase1_prf_is_compared_for_ikev2_only() -> None:
    policy = dict(STRONG_POLICY, ikePrfAlgo=["prfsha1"])
    remote = "ike=aes256-sha256-modp2048"
    assert "phase1-proposal-mismatch" not in ids(check_peer(peer(ipsecPolicies=policy), remote=remote))
    v2_peer = peer(ipsecPolicies=policy, ikeVersion="2")
    v2 = only(check_peer(v2_peer, remote=remote), "phase1-proposal-mismatch")
    assert v2.facts["parameter"] == "ikePrfAlgo"
    derived = check_peer(peer(ikeVersion="2"), remote="ike=aes256-sha1-modp2048")
    assert only(derived, "phase1-proposal-mismatch").facts["parameter"] == "ikeAuthAlgo"


def test_phase2_mismatch() -> None:
    finding = only(check_peer(peer(), remote="esp=aes128-sha1-modp2048"), "phase2-proposal-mismatch")
    assert finding.facts == finding.facts | {
        "parameter": "childCipherAlgo / childAuthAlgo",
        "mx_value": "aes256-sha256",
        "remote_value": "aes128-sha1",
    }
    assert finding.phase == 2


def test_pfs_mismatch_both_ways() -> None:
    default_peer = peer(ipsecPoliciesPreset="default")
    off = only(check_peer(default_peer, remote="esp=aes128-sha1-modp2048"), "pfs-mismatch")
    assert (off.facts["mx_value"], off.facts["remote_value"]) == ("disabled", "modp2048")
    on = only(check_peer(peer(), remote="pfs=no"), "pfs-mismatch")
    assert (on.facts["parameter"], on.facts["mx_value"], on.facts["remote_value"]) == (
        "childPfsGroup", "modp2048", "disabled"
    )  # fmt: skip
    assert "pfs-mismatch" not in ids(check_peer(peer(), remote="pfs=group14"))


def test_lifetime_mismatch_is_a_warning_per_phase() -> None:
    diagnosis = check_peer(peer(), remote="ike_lifetime=3600 esp_lifetime=28800")
    findings = [f for f in diagnosis.findings if f.id == "lifetime-mismatch"]
    compared = [(f.phase, *(f.facts[k] for k in ("parameter", "mx_value", "remote_value"))) for f in findings]
    assert compared == [
        (1, "ikeLifetime", "28800s", "3600s"),
        (2, "childLifetime", "3600s", "28800s"),
    ]
    assert all(f.severity is Severity.WARNING for f in findings)
    assert diagnosis.verdict is Verdict.DEGRADED


def test_kilobyte_lifetime_is_flagged() -> None:
    finding = only(check_peer(peer(), remote="esp_lifetime=4608000kb"), "lifetime-mismatch")
    assert (finding.phase, finding.facts["remote_value"]) == (2, "4608000 KB")


def test_ike_version_mismatch() -> None:
    finding = only(check_peer(peer(), remote="ikev2", firmware="MX 15.8"), "ike-version-mismatch")
    assert (finding.facts["mx_value"], finding.facts["remote_value"]) == ("IKEv1", "IKEv2")
    assert "ike-version-mismatch" not in ids(check_peer(peer(ikeVersion="2"), remote="version=2"))


def test_aggressive_mode_remote() -> None:
    assert "aggressive-mode" in ids(check_peer(peer(), remote="aggressive=yes"))
    assert "aggressive-mode" not in ids(check_peer(peer(ikeVersion="2"), remote="aggressive=yes"))


def test_subnet_mismatch_and_equal_sets() -> None:
    remote = "local_ts=192.168.0.0/16 remote_ts=10.0.0.0/16"
    finding = only(check_peer(peer(), remote=remote), "subnet-mismatch")
    assert finding.facts | {"parameter": "privateSubnets"} == finding.facts
    assert (finding.facts["mx_value"], finding.facts["remote_value"]) == ("192.168.1.0/24", "192.168.0.0/16")
    assert (finding.facts["local_ts"], finding.facts["remote_ts"]) == ("192.168.0.0/16", "10.0.0.0/16")
    reordered = peer(privateSubnets=["10.2.0.0/24", "10.1.0.0/24"])
    assert "subnet-mismatch" not in ids(check_peer(reordered, remote="local_ts=10.1.0.0/24,10.2.0.0/24"))


def test_azure_peer_gets_the_supernet() -> None:
    azure = peer(name="Azure-VNet-prod", privateSubnets=["192.168.10.0/24", "192.168.20.0/24"])
    finding = only(check_peer(azure, remote="local_ts=192.168.10.0/24"), "subnet-mismatch")
    assert finding.facts["supernet"] == "192.168.0.0/19"
    assert finding.facts["subnets"] == "192.168.10.0/24, 192.168.20.0/24"
    assert any(h.vendor == "azure" and "192.168.0.0/19" in h.text for h in finding.hints)


def test_remote_params_object_and_bad_text() -> None:
    as_text = check_peer(peer(), remote="ike=aes128-sha1-modp1024")
    as_model = check_peer(peer(), remote=RemoteParams(ike=("aes128-sha1-modp1024",)))
    assert as_text == as_model
    with pytest.raises(RemoteParamsError):
        check_peer(peer(), remote="colour=blue")


def test_unknown_preset_skips_policy_comparisons_but_keeps_the_vendor() -> None:
    aws = peer(ipsecPoliciesPreset="aws", name="vpc-tunnel-1")
    diagnosis = check_peer(aws, remote="ike=aes256-sha256-modp2048")
    assert diagnosis.findings == []
    aws_subnets = check_peer(peer(ipsecPoliciesPreset="aws"), remote="local_ts=10.9.0.0/16")
    finding = only(aws_subnets, "subnet-mismatch")
    assert "aws" in {h.vendor for h in finding.hints}


# --- the report as a whole ---------------------------------------------------------------------------


def test_report_shape_and_language() -> None:
    diagnosis = check_peer(peer(ikeVersion="2"), firmware="MX 15.8", remote=STRONG_REMOTE, lang="ja")
    assert diagnosis.lang == "ja"
    reports = [(p.address, p.state, p.ike_version) for p in diagnosis.peers]
    assert reports == [("203.0.113.7", PeerState.UNKNOWN, 2)]
    assert all(f.peer == "203.0.113.7" and f.basis is Basis.CONFIG for f in diagnosis.findings)
    assert "tunnel-established" not in ids(diagnosis)
    entry = load_catalog().entry("ikev2-unsupported-firmware")
    assert only(diagnosis, "ikev2-unsupported-firmware").title == entry.ja.title.format(firmware="MX 15.8")
    count = sum(f.severity is not Severity.INFO for f in diagnosis.findings)
    expected = load_catalog().message("verdict.config_failing", "ja", peers="203.0.113.7", count=count)
    assert diagnosis.summary == expected, "a configuration's verdict speaks of the configuration, not a tunnel"
    assert str(count) in diagnosis.summary


def test_peer_named_only_by_name() -> None:
    diagnosis = check_peer({"name": "lonely", "secret": SECRET})
    assert diagnosis.peers[0].address == "lonely"


@pytest.mark.parametrize(
    "odd",
    [
        {},
        {"ikeVersion": 2, "ipsecPolicies": "aes", "privateSubnets": "not a list"},
        {"ipsecPolicies": {"ikeCipherAlgo": "aes256", "ikeLifetime": "soon", "childPfsGroup": ["group99"]}},
        {"ipsecPolicies": {"ikeCipherAlgo": [None, 7]}, "privateSubnets": ["10.0.0.0/33"], "name": None},
    ],
)
def test_odd_peer_objects_do_not_crash(odd: dict[str, Any]) -> None:
    diagnosis = check_peer(odd, firmware="MX ???", remote=STRONG_REMOTE)
    assert diagnosis.verdict in set(Verdict)


def test_not_a_peer_object_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        check_peer([peer()])  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_secret_never_appears_in_the_output(lang: str) -> None:
    noisy = peer(
        name="Azure-gcp-aws",
        ikeVersion="2",
        ipsecPolicies=dict(STRONG_POLICY, ikeCipherAlgo=["des"], childAuthAlgo=["md5"]),
        privateSubnets=["192.168.10.0/24", "192.168.20.0/24"],
        remoteId=None,
    )
    remote = "ike=aes128-sha1-modp1024 esp=3des-md5-modp1024 ike_lifetime=1h esp_lifetime=1kb version=1 " \
             "aggressive=yes local_ts=192.168.10.0/24 remote_ts=10.0.0.0/8"  # fmt: skip
    diagnosis = check_peer(noisy, firmware="MX 15.8", remote=remote, lang=lang)  # type: ignore[arg-type]
    assert len(diagnosis.findings) >= 6
    dumped = json.dumps(diagnosis.model_dump(mode="json"), ensure_ascii=False)
    assert SECRET not in dumped
    assert SECRET not in repr(diagnosis)


# --- helpers the engine reuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "vendors"),
    [
        ("GCP-vpn-tokyo", {"gcp"}),
        ("to Google Cloud", {"gcp"}),
        ("AzureVNetGw", {"azure"}),
        ("Microsoft hub", {"azure"}),
        ("aws_vpc_1", {"aws"}),
        ("vgw-0a1b2c tunnel 1", {"aws"}),
        ("Amazon", {"aws"}),
        ("laws office, msftp, gcpx", set()),
        ("Branch firewall 203.0.113.7", set()),
        ("aws to azure", {"aws", "azure"}),
        ("", set()),
    ],
)
def test_guess_vendors(text: str, vendors: set[str]) -> None:
    assert guess_vendors(text) == vendors


def test_mismatched_kinds_names_the_combination_when_each_part_exists_somewhere() -> None:
    mx = parse_proposal("aes256-sha256-modp2048")
    remotes = [parse_proposal("aes256-sha1-modp2048"), parse_proposal("aes128-sha256-modp2048")]
    every = ["encryption", "integrity", "dh"]
    assert mismatched_kinds(mx, remotes, every) == every  # type: ignore[arg-type]
    assert mismatched_kinds(mx, [Proposal(encryption=("aes256",))], ["encryption", "integrity"]) == []
