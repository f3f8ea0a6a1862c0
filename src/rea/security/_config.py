"""`SecurityConfig`: what the request guards check, validated when it is built."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast, get_args

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from rea.errors import UsageTypeError, UsageValueError
from rea.security._keys import identity_key_bytes
from rea.security._networks import parse_networks

__all__ = ["DEFAULT_MAX_START_MESSAGE", "Mode", "SecurityConfig", "parse_identity_key"]

Mode = Literal["strict", "permissive", "disabled"]

#: Restate's own limit on one protocol message (worker.invoker.message-size-limit, 32 MiB).
DEFAULT_MAX_START_MESSAGE = 32 * 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_identity_key(key: str) -> Ed25519PublicKey:
    """The Ed25519 public key of a Restate identity key (``publickeyv1_`` + base58 of 32 bytes).

    Args:
        key: The key, as the Restate server logs it at start-up.

    Returns:
        The public key tokens are verified with.

    Raises:
        UsageValueError: it is not such a key; the message names its first characters.
        UsageTypeError: it is not a string.
    """
    if not isinstance(key, str):
        raise UsageTypeError(f"an identity key is a string, not {type(key).__name__}")
    return Ed25519PublicKey.from_public_bytes(identity_key_bytes(key))


def _strings(value: object, *, setting: str) -> tuple[str, ...]:
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, Sequence | set | frozenset):
        items = list(value)
    else:
        raise UsageTypeError(f"{setting} must be a list of strings, not {type(value).__name__}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise UsageTypeError(f"{setting} must hold strings, not {type(item).__name__}")
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class SecurityConfig:
    """The request guards for a Restate endpoint, checked before any handler runs.

    Lists may be given as lists, tuples or one comma-separated string; they are kept as tuples.

    Args:
        mode: ``"strict"`` refuses failing requests (401/403 with the reason in the body);
            ``"permissive"`` logs and counts them and lets them through; ``"disabled"`` adds no
            guard at all. Anything else raises: security fails closed.
        identity_keys: Restate request-identity public keys (``publickeyv1_...``); a token
            signed by any of them is accepted (list two while rotating). Required in strict mode.
        require_https: Refuse plain HTTP unless a trusted proxy says the request was HTTPS.
        trusted_proxies: CIDRs of proxies whose ``X-Forwarded-Proto`` and ``X-Forwarded-For``
            are believed.
        allowed_networks: CIDRs that may call the endpoint (the Restate cluster); empty: any.
        replay_protection: Refuse an invocation request received twice (same token, same
            start message) while its token is valid.
        replay_cache_size: Requests remembered for replay protection (oldest forgotten first).
        max_start_message_bytes: Largest first protocol message the replay guard buffers.

    Raises:
        UsageValueError: an unknown mode, a malformed key or CIDR, strict mode without keys,
            or a size below 1.
        UsageTypeError: a setting of the wrong type.
    """

    mode: Mode = "strict"
    identity_keys: Sequence[str] = ()
    require_https: bool = True
    trusted_proxies: Sequence[str] = ()
    allowed_networks: Sequence[str] = ()
    replay_protection: bool = True
    replay_cache_size: int = 100_000
    max_start_message_bytes: int = DEFAULT_MAX_START_MESSAGE

    def __post_init__(self) -> None:
        mode = self.mode.strip().lower() if isinstance(self.mode, str) else self.mode
        if mode not in get_args(Mode):
            raise UsageValueError(
                f"security mode {self.mode!r} is unknown; use 'strict', 'permissive' or "
                "'disabled' (refusing to start rather than guess)"
            )
        set_ = object.__setattr__
        set_(self, "mode", mode)
        keys = _strings(self.identity_keys, setting="identity_keys")
        for key in keys:
            parse_identity_key(key)
        set_(self, "identity_keys", keys)
        if mode == "strict" and not keys:
            raise UsageValueError(
                "strict security needs identity_keys (the Restate server's publickeyv1_... "
                "key, from `rea keys generate`): without one nothing is authenticated; use "
                "mode='permissive' to only log, or mode='disabled'"
            )
        for name in ("require_https", "replay_protection"):
            if not isinstance(getattr(self, name), bool):
                raise UsageTypeError(f"{name} must be True or False")
        for name in ("replay_cache_size", "max_start_message_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise UsageTypeError(f"{name} must be an int, not {type(value).__name__}")
            if value < 1:
                raise UsageValueError(f"{name} must be at least 1, not {value}")
        for name in ("trusted_proxies", "allowed_networks"):
            cidrs = _strings(getattr(self, name), setting=name)
            parse_networks(cidrs, setting=name)
            set_(self, name, cidrs)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SecurityConfig | None:
        """The configuration the ``REA_*`` environment variables describe, if any.

        Reads ``REA_SECURITY_MODE``, ``REA_IDENTITY_KEYS`` (comma-separated),
        ``REA_REQUIRE_HTTPS`` (true/false), ``REA_TRUSTED_PROXIES`` and
        ``REA_ALLOWED_NETWORKS`` (comma-separated CIDRs).

        Args:
            environ: The variables; default: ``os.environ``.

        Returns:
            None when neither ``REA_SECURITY_MODE`` nor ``REA_IDENTITY_KEYS`` is set.

        Raises:
            UsageValueError: a variable holds a value `SecurityConfig` refuses.
        """
        env = os.environ if environ is None else environ
        mode = env.get("REA_SECURITY_MODE", "").strip()
        keys = env.get("REA_IDENTITY_KEYS", "").strip()
        if not mode and not keys:
            return None
        https = env.get("REA_REQUIRE_HTTPS", "").strip().lower()
        if https and https not in _TRUE | _FALSE:
            raise UsageValueError(f"REA_REQUIRE_HTTPS={https!r}: use true or false")
        return cls(
            mode=cast(Mode, mode or "strict"),
            identity_keys=keys,
            require_https=https not in _FALSE if https else True,
            trusted_proxies=env.get("REA_TRUSTED_PROXIES", ""),
            allowed_networks=env.get("REA_ALLOWED_NETWORKS", ""),
        )
