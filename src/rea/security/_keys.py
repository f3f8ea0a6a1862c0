"""Ed25519 keys for Restate's request identity: the server's private PEM, the app's public key.

restate-server signs every request to a deployment with the private key in
``worker.invoker.request-identity-private-key-pem-file`` (PKCS#8 PEM); the app checks the
signature against ``publickeyv1_`` + base58 (Bitcoin alphabet) of the raw 32-byte public key,
the same string the server logs as the ``kid`` of the key it loaded.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rea.errors import UsageValueError

__all__ = [
    "PUBLIC_KEY_PREFIX",
    "SERVER_KEY_ENV",
    "SERVER_KEY_SECTION",
    "SERVER_KEY_SETTING",
    "KeyPair",
    "generate_key_pair",
    "identity_key_bytes",
    "public_key_from_pem",
    "write_private_key",
]

#: What every Restate request-identity public key starts with (scheme v1).
PUBLIC_KEY_PREFIX = "publickeyv1_"
#: restate-server's setting for the private key it signs with: environment variable, and the
#: TOML section and key (``[worker.invoker] request-identity-private-key-pem-file = "..."``).
SERVER_KEY_ENV = "RESTATE_WORKER__INVOKER__REQUEST_IDENTITY_PRIVATE_KEY_PEM_FILE"
SERVER_KEY_SECTION = "worker.invoker"
SERVER_KEY_SETTING = "request-identity-private-key-pem-file"

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGITS = {char: value for value, char in enumerate(_ALPHABET)}
_RAW_LENGTH = 32
_OTHER_KINDS = (
    ((ed448.Ed448PrivateKey, ed448.Ed448PublicKey), "Ed448"),
    ((x25519.X25519PrivateKey, x25519.X25519PublicKey), "X25519"),
    ((dsa.DSAPrivateKey, dsa.DSAPublicKey), "DSA"),
)


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A request-identity key pair.

    Attributes:
        private_pem: The private key, PKCS#8 PEM: the file restate-server signs with.
        public_key: ``publickeyv1_...``: what the app verifies with (``identity_keys``).
    """

    # Kept out of repr: a key pair printed in a log or a test failure must not leak it.
    private_pem: bytes = field(repr=False)
    public_key: str


def _b58encode(raw: bytes) -> str:
    number = int.from_bytes(raw, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(_ALPHABET[digit])
    # Base58 keeps leading zero bytes, which the number loses, as leading '1's.
    zeros = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _DIGITS:
            raise ValueError(f"{char!r} is not a base58 digit")
        number = number * 58 + _DIGITS[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * zeros + body


def _encode(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_KEY_PREFIX + _b58encode(raw)


def generate_key_pair() -> KeyPair:
    """Generate a new Ed25519 key pair for request signing.

    Returns:
        The private key as PKCS#8 PEM (unencrypted: restate-server reads it without a password)
        and the matching ``publickeyv1_...`` key.
    """
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPair(private_pem=pem, public_key=_encode(private.public_key()))


def public_key_from_pem(pem: bytes) -> str:
    """The ``publickeyv1_...`` key of a PEM key (private or public).

    Args:
        pem: A PEM-encoded Ed25519 key: the server's private key (PKCS#8, unencrypted) or its
            public key (SubjectPublicKeyInfo).

    Returns:
        The public key string the app lists in its identity keys.

    Raises:
        UsageValueError: `pem` is not a readable PEM key, is encrypted, or is not Ed25519.
    """
    if not isinstance(pem, bytes):
        raise UsageValueError(f"public_key_from_pem() takes the PEM as bytes, not {type(pem)!r}")
    if b"PUBLIC KEY-----" in pem:
        key: object = _load(serialization.load_pem_public_key, pem)
    else:
        key = _load(lambda data: serialization.load_pem_private_key(data, password=None), pem)
    if isinstance(key, Ed25519PrivateKey):
        return _encode(key.public_key())
    if isinstance(key, Ed25519PublicKey):
        return _encode(key)
    raise UsageValueError(
        f"the PEM's key is {_kind(key)}, not Ed25519: Restate signs requests with Ed25519 "
        "only (make a key with `rea keys generate` or `openssl genpkey -algorithm ed25519`)"
    )


def _kind(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA ({key.key_size} bits)"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"EC ({key.curve.name})"
    for types, name in _OTHER_KINDS:
        if isinstance(key, types):
            return name
    return type(key).__name__


def _load(loader: Callable[[bytes], object], pem: bytes) -> object:
    try:
        return loader(pem)
    except TypeError as exc:  # cryptography's answer to an encrypted key without a password
        raise UsageValueError(
            "the PEM key is encrypted: restate-server reads its key without a password, so "
            f"the key must be unencrypted ({exc})"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UsageValueError(f"not a readable PEM key: {exc}") from exc


def identity_key_bytes(key: str) -> bytes:
    """The raw 32-byte Ed25519 public key in a ``publickeyv1_...`` string.

    Args:
        key: A request-identity public key, as the app configures it.

    Returns:
        The raw public key bytes.

    Raises:
        UsageValueError: `key` lacks the prefix, is not base58, or does not decode to 32 bytes.
    """
    shown = repr(key[:24] + ("..." if len(key) > 24 else ""))
    if not key.startswith(PUBLIC_KEY_PREFIX):
        raise UsageValueError(f"identity key {shown} does not start with {PUBLIC_KEY_PREFIX!r}")
    try:
        raw = _b58decode(key.removeprefix(PUBLIC_KEY_PREFIX))
    except ValueError as exc:
        raise UsageValueError(f"identity key {shown} is not base58: {exc}") from exc
    if len(raw) != _RAW_LENGTH:
        raise UsageValueError(
            f"identity key {shown} decodes to {len(raw)} bytes; an Ed25519 key has {_RAW_LENGTH}"
        )
    return raw


def write_private_key(path: str | os.PathLike[str], pem: bytes, *, overwrite: bool = False) -> Path:
    """Write a private key readable by its owner only (mode 0600 from creation on).

    The file is created by ``os.open`` with mode 0600, never widened then narrowed, in a
    directory made with mode 0700 if missing. With `overwrite`, the key goes to a new file
    that is renamed over `path`, so an existing key is replaced whole or not at all.

    Args:
        path: Where to write the key.
        pem: The PEM bytes (`KeyPair.private_pem`).
        overwrite: Replace an existing file at `path`.

    Returns:
        The absolute path written.

    Raises:
        UsageValueError: `path` exists and `overwrite` is false.
        OSError: the directory or the file cannot be written.
    """
    target = Path(path).absolute()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = target.with_name(f".{target.name}.{secrets.token_hex(6)}") if overwrite else target
    try:
        # O_EXCL: never write through an existing file (or a planted symlink) to another.
        fd = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UsageValueError(f"{target} already exists: not replacing a private key") from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(written, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(written)
        raise
    return target
