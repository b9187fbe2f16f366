"""The --remote syntax: forgiving about spelling and separators, clear when it cannot read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge.proposals import NO_PFS, UnknownAlgorithm, classify, dh_keyword
from knowledge.remote_params import ACCEPTED_KEYS, RemoteParams, RemoteParamsError, parse_remote


def test_full_line_with_spaces() -> None:
    params = parse_remote(
        "ike=aes256-sha256-modp2048 esp=aes128-sha1 ike_lifetime=3600 esp_lifetime=28800 "
        "version=2 pfs=modp2048 remote_ts=10.1.0.0/16 local_ts=192.168.10.0/24"
    )
    assert params == RemoteParams(
        ike=("aes256-sha256-modp2048",),
        esp=("aes128-sha1",),
        ike_lifetime=3600,
        esp_lifetime=28800,
        version=2,
        pfs="modp2048",
        local_ts=("192.168.10.0/24",),
        remote_ts=("10.1.0.0/16",),
    )


@pytest.mark.parametrize("separator", [" ", ";", "; ", ",", ", ", "\n", " \n "])
def test_every_separator(separator: str) -> None:
    text = separator.join(["esp=aes128-sha1", "version=1", "local_ts=10.0.0.0/24"])
    assert parse_remote(text) == RemoteParams(esp=("aes128-sha1",), version=1, local_ts=("10.0.0.0/24",))


def test_swanctl_names_and_spaces_around_equals() -> None:
    params = parse_remote(
        "proposals = aes256-sha256-modp2048\nesp_proposals = aes256-sha256\nrekey_time = 1h"
    )
    assert params.ike == ("aes256-sha256-modp2048",)
    assert params.esp == ("aes256-sha256",)
    assert params.esp_lifetime == 3600


def test_ipsec_conf_names() -> None:
    params = parse_remote(
        "keyexchange=ikev1 ike=aes128-sha1-modp1024! ikelifetime=8h lifetime=60m leftsubnet=10.9.0.0/16"
    )
    assert (params.version, params.ike, params.ike_lifetime, params.esp_lifetime, params.local_ts) == (
        1,
        ("aes128-sha1-modp1024",),
        28800,
        3600,
        ("10.9.0.0/16",),
    )


def test_lists_take_commas_and_spaces_and_bare_flags_anywhere() -> None:
    params = parse_remote("ikev2 ike=aes256-sha256-modp2048,aes128-sha1-modp1024, esp=aes256-sha256 "
                          "local_ts=192.168.10.0/24, 192.168.20.0/24 ikev2")
    assert params.version == 2
    assert params.ike == ("aes256-sha256-modp2048", "aes128-sha1-modp1024")
    assert params.local_ts == ("192.168.10.0/24", "192.168.20.0/24")


def test_dashboard_spellings_are_normalised_to_strongswan() -> None:
    params = parse_remote("ike=tripledes-sha1-group2 esp=aes-256-sha-256 pfs=group14")
    assert params.ike == ("3des-sha1-modp1024",)
    assert params.esp == ("aes256-sha256",)
    assert params.pfs == "modp2048"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("esp_lifetime=28800", 28800), ("esp_lifetime=28800s", 28800), ("rekey_time=8h", 28800),
     ("keylife=480m", 28800), ("lifetime=1d", 86400), ("esp_lifetime=60 minutes", None)],
)
def test_lifetime_units(text: str, seconds: int | None) -> None:
    if seconds is None:
        with pytest.raises(RemoteParamsError):
            parse_remote(text)
    else:
        assert parse_remote(text).esp_lifetime == seconds


def test_data_lifetime_is_kept_apart_from_time() -> None:
    params = parse_remote("esp_lifetime=4608000kb")
    assert (params.esp_lifetime, params.esp_lifebytes) == (None, 4608000 * 1024)
    assert parse_remote("life_bytes=1000000").esp_lifebytes == 1000000


@pytest.mark.parametrize(
    ("text", "pfs"), [("pfs=no", NO_PFS), ("pfs=disabled", NO_PFS), ("pfs=ecp256", "ecp256")]
)
def test_pfs_values(text: str, pfs: str) -> None:
    assert parse_remote(text).pfs == pfs


def test_pfs_falls_back_to_esp_proposals() -> None:
    assert parse_remote("esp=aes128-sha1").pfs_groups() == {NO_PFS}
    assert parse_remote("esp=aes128-sha1-modp2048,aes128-sha1").pfs_groups() == {NO_PFS, "modp2048"}
    assert parse_remote("esp=aes128-sha1-modp2048 pfs=no").pfs_groups() == {NO_PFS}
    assert parse_remote("version=1").pfs_groups() is None


def test_aggressive_mode_flags() -> None:
    assert parse_remote("aggressive=yes").aggressive is True
    assert parse_remote("main").aggressive is False


def test_empty_text_means_nothing_given() -> None:
    assert parse_remote("").is_empty()
    assert parse_remote(" ;\n").is_empty()


def test_unknown_key_lists_the_accepted_keys() -> None:
    with pytest.raises(RemoteParamsError) as caught:
        parse_remote("esp=aes128-sha1 dpd_delay=30s")
    message = str(caught.value)
    assert "dpd_delay" in message
    assert ACCEPTED_KEYS in message
    for key in ("ike", "esp", "ike_lifetime", "esp_lifetime", "version", "pfs", "local_ts", "remote_ts"):
        assert key in ACCEPTED_KEYS


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("aes256-sha256-modp2048", "ike=aes256-sha256-modp2048"),
        ("hello", "accepted keys"),
        ("version=3", "version=1 or version=2"),
        ("pfs=yes", "pfs=modp2048"),
        ("ike=aes256-foo-modp2048", "unknown algorithm 'foo'"),
        ("ike=sha256-modp2048", "no encryption"),
        ("local_ts=10.0.0.300/24", "local_ts"),
        ("ike=", "needs a value"),
        ("version=2 version=1", "given twice"),
        ("version=1 2", "takes one value"),
        ("ike_lifetime=100kb", "phase-2 data lifetimes"),
        ("aggressive=maybe", "aggressive=yes"),
    ],
)
def test_bad_input_says_what_to_write(text: str, hint: str) -> None:
    with pytest.raises(RemoteParamsError) as caught:
        parse_remote(text)
    assert hint in str(caught.value)


def test_model_validates_when_built_directly() -> None:
    assert RemoteParams(ike=["aes-sha-group2"]).ike == ("aes128-sha1-modp1024",)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        RemoteParams(esp=("rot13-crc32",))
    with pytest.raises(ValidationError):
        RemoteParams(esp_lifetime=0)


@pytest.mark.parametrize(
    ("name", "kind", "keyword"),
    [
        ("group1", "dh", "modp768"),
        ("group2", "dh", "modp1024"),
        ("group5", "dh", "modp1536"),
        ("group14", "dh", "modp2048"),
        ("14", "dh", "modp2048"),
        ("group19", "dh", "ecp256"),
        ("x25519", "dh", "curve25519"),
        ("tripledes", "encryption", "3des"),
        ("aes", "encryption", "aes128"),
        ("AES256GCM16", "encryption", "aes256gcm16"),
        ("sha", "integrity", "sha1"),
        ("sha2_256", "integrity", "sha256"),
        ("prfsha256", "prf", "prfsha256"),
    ],
)
def test_dashboard_and_strongswan_names_share_one_vocabulary(name: str, kind: str, keyword: str) -> None:
    assert classify(name) == (kind, keyword)


def test_unknown_algorithm_is_rejected() -> None:
    with pytest.raises(UnknownAlgorithm):
        classify("rot13")
    assert dh_keyword("disabled") == NO_PFS
