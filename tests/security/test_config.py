"""SecurityConfig: validated at construction (fail closed), normalized, and read from the env."""

from __future__ import annotations

import dataclasses

import pytest

from rea.errors import UsageError, UsageTypeError, UsageValueError
from rea.security import SecurityConfig
from tests.security.helpers import Signer


def test_defaults(signer: Signer) -> None:
    """Strict, HTTPS required, replay protection on, no allowlist, no trusted proxy."""
    config = SecurityConfig(identity_keys=[signer.public_key])
    assert config.mode == "strict"
    assert config.identity_keys == (signer.public_key,)
    assert config.require_https is True
    assert config.replay_protection is True
    assert config.trusted_proxies == ()
    assert config.allowed_networks == ()
    assert config.replay_cache_size > 0


def test_frozen_and_keyword_only(signer: Signer) -> None:
    """The config cannot be changed after construction, nor built positionally."""
    config = SecurityConfig(identity_keys=[signer.public_key])
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.mode = "disabled"  # type: ignore[misc]
    with pytest.raises(TypeError):
        SecurityConfig("strict")  # type: ignore[misc]


@pytest.mark.parametrize("mode", ["off", "lenient", "", "enforce", None, 1])
def test_unknown_mode_refuses_to_start(signer: Signer, mode: object) -> None:
    """Any mode but strict, permissive or disabled raises: security fails closed."""
    with pytest.raises(UsageValueError, match="unknown"):
        SecurityConfig(mode=mode, identity_keys=[signer.public_key])  # type: ignore[arg-type]


def test_mode_spelling_is_forgiving(signer: Signer) -> None:
    """Case and surrounding blanks do not matter."""
    assert SecurityConfig(mode=" Permissive ").mode == "permissive"  # type: ignore[arg-type]
    assert SecurityConfig(mode="STRICT", identity_keys=signer.public_key).mode == "strict"  # type: ignore[arg-type]


def test_strict_needs_keys() -> None:
    """Strict mode without identity keys authenticates nothing, so it refuses to start."""
    with pytest.raises(UsageValueError, match="strict security needs identity_keys"):
        SecurityConfig()
    assert SecurityConfig(mode="permissive").identity_keys == ()
    assert SecurityConfig(mode="disabled").identity_keys == ()


def test_bad_key_is_named(signer: Signer) -> None:
    """A malformed key raises at construction, naming its first characters."""
    with pytest.raises(UsageValueError, match="'nokey"):
        SecurityConfig(identity_keys=[signer.public_key, "nokeyprefix_abcdef"])
    with pytest.raises(UsageValueError, match="publickeyv1_0OIl"):
        SecurityConfig(identity_keys=["publickeyv1_0OIl"])
    with pytest.raises(UsageValueError, match="32"):
        SecurityConfig(identity_keys=["publickeyv1_abc"])
    with pytest.raises(UsageError):
        SecurityConfig(identity_keys=[signer.public_key], mode="disabled", allowed_networks=5)  # type: ignore[arg-type]


def test_lists_and_strings_are_normalized(signer: Signer, other_signer: Signer) -> None:
    """Lists, tuples and comma-separated strings become tuples, blanks and repeats dropped."""
    config = SecurityConfig(
        identity_keys=f" {signer.public_key}, {other_signer.public_key},{signer.public_key}",
        trusted_proxies=["10.0.0.1", " 10.0.0.0/8 "],
        allowed_networks="10.1.0.0/16,,::1",
    )
    assert config.identity_keys == (signer.public_key, other_signer.public_key)
    assert config.trusted_proxies == ("10.0.0.1", "10.0.0.0/8")
    assert config.allowed_networks == ("10.1.0.0/16", "::1")
    assert config == SecurityConfig(
        identity_keys=(signer.public_key, other_signer.public_key),
        trusted_proxies=("10.0.0.1", "10.0.0.0/8"),
        allowed_networks=("10.1.0.0/16", "::1"),
    )
    assert hash(config)


@pytest.mark.parametrize("setting", ["trusted_proxies", "allowed_networks"])
def test_bad_cidr(signer: Signer, setting: str) -> None:
    """A malformed CIDR raises at construction, naming the setting and the value."""
    with pytest.raises(UsageValueError, match=f"{setting}: '10.0.0.0/33'"):
        SecurityConfig(identity_keys=[signer.public_key], **{setting: ["10.0.0.0/33"]})  # type: ignore[arg-type]


def test_types_and_sizes(signer: Signer) -> None:
    """Flags must be booleans, sizes positive ints, lists hold strings."""
    key = [signer.public_key]
    with pytest.raises(UsageTypeError):
        SecurityConfig(identity_keys=key, require_https="no")  # type: ignore[arg-type]
    with pytest.raises(UsageTypeError):
        SecurityConfig(identity_keys=key, replay_cache_size=1.5)  # type: ignore[arg-type]
    with pytest.raises(UsageValueError):
        SecurityConfig(identity_keys=key, replay_cache_size=0)
    with pytest.raises(UsageValueError):
        SecurityConfig(identity_keys=key, max_start_message_bytes=-1)
    with pytest.raises(UsageTypeError):
        SecurityConfig(identity_keys=[signer.public_key, 3])  # type: ignore[list-item]


def test_from_env_is_none_without_mode_or_keys() -> None:
    """No REA_SECURITY_MODE and no REA_IDENTITY_KEYS: no security configured."""
    assert SecurityConfig.from_env({}) is None
    assert SecurityConfig.from_env({"REA_REQUIRE_HTTPS": "false", "REA_SECURITY_MODE": " "}) is None


def test_from_env_reads_every_variable(signer: Signer, other_signer: Signer) -> None:
    """The REA_* variables map onto the fields; keys and CIDRs are comma-separated."""
    config = SecurityConfig.from_env(
        {
            "REA_IDENTITY_KEYS": f"{signer.public_key},{other_signer.public_key}",
            "REA_REQUIRE_HTTPS": "false",
            "REA_TRUSTED_PROXIES": "10.0.0.1",
            "REA_ALLOWED_NETWORKS": "10.0.0.0/8,127.0.0.1",
        }
    )
    assert config == SecurityConfig(
        mode="strict",
        identity_keys=(signer.public_key, other_signer.public_key),
        require_https=False,
        trusted_proxies=("10.0.0.1",),
        allowed_networks=("10.0.0.0/8", "127.0.0.1"),
    )
    permissive = SecurityConfig.from_env({"REA_SECURITY_MODE": "permissive"})
    assert permissive is not None
    assert (permissive.mode, permissive.require_https) == ("permissive", True)


def test_from_env_fails_closed(signer: Signer) -> None:
    """A strict mode without keys, an unknown mode or a bad flag raises."""
    with pytest.raises(UsageValueError, match="needs identity_keys"):
        SecurityConfig.from_env({"REA_SECURITY_MODE": "strict", "REA_IDENTITY_KEYS": ""})
    with pytest.raises(UsageValueError, match="unknown"):
        SecurityConfig.from_env({"REA_SECURITY_MODE": "audit", "REA_IDENTITY_KEYS": "x"})
    with pytest.raises(UsageValueError, match="REA_REQUIRE_HTTPS"):
        SecurityConfig.from_env(
            {"REA_IDENTITY_KEYS": signer.public_key, "REA_REQUIRE_HTTPS": "maybe"}
        )


def test_from_env_defaults_to_os_environ(signer: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an argument, the process environment is read."""
    monkeypatch.delenv("REA_SECURITY_MODE", raising=False)
    monkeypatch.setenv("REA_IDENTITY_KEYS", signer.public_key)
    config = SecurityConfig.from_env()
    assert config is not None
    assert config.identity_keys == (signer.public_key,)
