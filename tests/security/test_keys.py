"""Request-identity keys: generation, the publickeyv1_ encoding, PEM reading, private key files."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import restate
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rea.errors import UsageValueError
from rea.security import _keys
from rea.security._keys import (
    KeyPair,
    generate_key_pair,
    identity_key_bytes,
    public_key_from_pem,
    write_private_key,
)
from rea.testing import RestateServer

#: How restate-server logs the key it loaded (between ANSI colour codes).
KID = re.compile(r'kid: "(publickeyv1_[1-9A-HJ-NP-Za-km-z]+)"')


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _private_pem(key: Any, encryption: Any = None) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            encryption or serialization.NoEncryption(),
        )
    )


def _sdk_accepts(key: str) -> None:
    service = restate.Service("KeyCheck")

    @service.handler()
    async def noop(ctx: restate.Context) -> None:
        return None

    restate.app([service], identity_keys=[key])


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\0\x28\x7f\xb4\xcd", "111233QC4"),
        (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
        (bytes.fromhex("00eb15231dfceb60925886b67d065299925915aeb172c06647"),
         "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
    ],
)  # fmt: skip
def test_base58_matches_the_bitcoin_alphabet_vectors(raw: bytes, encoded: str) -> None:
    """Known base58 vectors encode and decode both ways, leading zero bytes as '1's."""
    assert _keys._b58encode(raw) == encoded
    assert _keys._b58decode(encoded) == raw


def test_generated_pair_is_pkcs8_pem_and_its_public_key() -> None:
    """The private key is unencrypted PKCS#8 PEM and the public key is derived from it."""
    pair = generate_key_pair()
    assert pair.private_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    private = serialization.load_pem_private_key(pair.private_pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert pair.public_key.startswith("publickeyv1_")
    assert identity_key_bytes(pair.public_key) == raw
    assert generate_key_pair().public_key != pair.public_key


def test_repr_of_a_pair_leaves_the_private_key_out() -> None:
    """Printing a key pair (a log, a failed assertion) does not show the private key."""
    pair = generate_key_pair()
    assert "PRIVATE" not in repr(pair)
    assert pair.public_key in repr(pair)
    with pytest.raises(AttributeError):
        pair.public_key = "x"  # type: ignore[misc]


def test_public_key_from_private_and_public_pem_agree() -> None:
    """The private PEM and the public PEM of one key give the same publickeyv1_ key."""
    pair = generate_key_pair()
    private = serialization.load_pem_private_key(pair.private_pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    assert public_key_from_pem(pair.private_pem) == pair.public_key
    assert public_key_from_pem(_public_pem(private.public_key())) == pair.public_key


def test_leading_zero_bytes_become_ones_and_the_sdk_accepts_them() -> None:
    """A public key starting with zero bytes keeps its length: '1's, accepted by the SDK."""
    raw = b"\0\0" + bytes(range(1, 31))
    key = public_key_from_pem(_public_pem(Ed25519PublicKey.from_public_bytes(raw)))
    assert key.startswith("publickeyv1_11")
    assert not key.startswith("publickeyv1_111")
    assert identity_key_bytes(key) == raw
    _sdk_accepts(key)


def test_the_sdk_accepts_generated_keys() -> None:
    """restate.app(identity_keys=[...]) accepts every generated key (it checks the format)."""
    for _ in range(20):
        _sdk_accepts(generate_key_pair().public_key)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_a_key_made_by_openssl_reads_as_the_cryptography_one(tmp_path: Path) -> None:
    """`openssl genpkey -algorithm ed25519` (Restate's docs' recipe) gives the same key."""
    pem = tmp_path / "private.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(pem)], check=True)
    public = subprocess.run(
        ["openssl", "pkey", "-in", str(pem), "-pubout"], check=True, capture_output=True
    ).stdout
    assert public_key_from_pem(pem.read_bytes()) == public_key_from_pem(public)


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (rsa.generate_private_key(public_exponent=65537, key_size=1024), r"RSA \(1024 bits\)"),
        (ec.generate_private_key(ec.SECP256R1()), r"EC \(secp256r1\)"),
        (ed448.Ed448PrivateKey.generate(), "Ed448"),
        (x25519.X25519PrivateKey.generate(), "X25519"),
    ],
)
def test_other_key_types_are_refused_by_name(key: Any, kind: str) -> None:
    """An RSA, EC or Ed448 key (private or public PEM) is refused, naming its type."""
    for pem in (
        _private_pem(key),
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ):
        with pytest.raises(UsageValueError, match=f"the PEM's key is {kind}, not Ed25519"):
            public_key_from_pem(pem)


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"", "not a readable PEM key"),
        (b"not a key at all", "not a readable PEM key"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "readable PEM"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "readable PEM"),
        (_private_pem(Ed25519PrivateKey.generate(),
                      serialization.BestAvailableEncryption(b"secret")), "encrypted"),
    ],
)  # fmt: skip
def test_unreadable_pem_is_a_usage_error(pem: bytes, message: str) -> None:
    """Garbage, a truncated PEM or an encrypted key: UsageValueError saying which."""
    with pytest.raises(UsageValueError, match=message):
        public_key_from_pem(pem)


def test_pem_as_text_is_refused() -> None:
    """The PEM must be bytes (as read from the file), not str."""
    pem = generate_key_pair().private_pem.decode()
    with pytest.raises(UsageValueError, match="as bytes"):
        public_key_from_pem(pem)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("publickeyv2_abc", "does not start with 'publickeyv1_'"),
        ("publickeyv1_abc", "decodes to 3 bytes"),
        ("publickeyv1_0OIl", "not base58"),
        ("publickeyv1_" + "1" * 40, "decodes to 40 bytes"),
    ],
)
def test_malformed_identity_keys_are_refused(key: str, message: str) -> None:
    """identity_key_bytes refuses a wrong prefix, non-base58 text and a wrong length."""
    with pytest.raises(UsageValueError, match=message):
        identity_key_bytes(key)


def test_write_private_key_creates_mode_0600_with_os_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is created 0600 by os.open itself (no chmod), whatever the umask."""
    opened: list[tuple[str, int]] = []
    real_open = os.open

    def recording_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        opened.append((os.fspath(path), mode))
        return real_open(path, flags, mode, **kwargs)

    def no_chmod(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("chmod after the fact")

    monkeypatch.setattr(os, "open", recording_open)
    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "fchmod", no_chmod)
    old_umask = os.umask(0)
    try:
        written = write_private_key(tmp_path / "keys" / "private.pem", b"PEM")
    finally:
        os.umask(old_umask)
    assert written == (tmp_path / "keys" / "private.pem").absolute()
    assert written.read_bytes() == b"PEM"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(written.parent.stat().st_mode) == 0o700
    assert opened == [(str(written), 0o600)]


def test_write_private_key_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing file stays as it was unless overwrite=True."""
    target = tmp_path / "private.pem"
    target.write_bytes(b"old")
    with pytest.raises(UsageValueError, match="already exists"):
        write_private_key(target, b"new")
    assert target.read_bytes() == b"old"


def test_write_private_key_does_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    """A symlink at the target is refused, so the key is never written where it points."""
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "private.pem").symlink_to(elsewhere)
    with pytest.raises(UsageValueError, match="already exists"):
        write_private_key(tmp_path / "private.pem", b"PEM")
    assert not elsewhere.exists()


def test_overwrite_replaces_whole_with_mode_0600(tmp_path: Path) -> None:
    """overwrite=True replaces a world-readable file by a 0600 one and leaves no scratch."""
    target = tmp_path / "private.pem"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_private_key(target, b"new", overwrite=True)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["private.pem"]


def test_key_pair_is_a_frozen_dataclass() -> None:
    """KeyPair holds exactly the PEM and the public key."""
    pair = KeyPair(private_pem=b"pem", public_key="publickeyv1_x")
    assert (pair.private_pem, pair.public_key) == (b"pem", "publickeyv1_x")


@pytest.mark.integration
def test_derived_key_is_the_kid_restate_server_logs(tmp_path: Path) -> None:
    """restate-server loading the PEM logs as its kid exactly the key rea derives from it."""
    pair = generate_key_pair()
    pem = write_private_key(tmp_path / "private.pem", pair.private_pem)
    server = RestateServer(signing_key=pem, log_filter="warn,restate_service_client=info")
    with server:
        log = server.log_path.read_text(errors="replace")
    assert set(KID.findall(log)) == {pair.public_key}
    assert public_key_from_pem(pem.read_bytes()) == pair.public_key
