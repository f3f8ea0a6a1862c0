"""`rea keys generate | public`: the key file, the settings printed, one-line errors."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rea._engine import server_binary
from rea.security._keys import SERVER_KEY_ENV, public_key_from_pem
from rea.testing import RestateServer
from tests.cli.test_register import one_error_line, run_rea

KEY = re.compile(r"publickeyv1_[1-9A-HJ-NP-Za-km-z]+")
KID = re.compile(r'kid: "(publickeyv1_[1-9A-HJ-NP-Za-km-z]+)"')


def _generate_json(cwd: Path, *args: str) -> dict[str, Any]:
    result = run_rea("keys", "generate", "--json", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_generate_writes_a_private_key_and_prints_both_sides(tmp_path: Path) -> None:
    """Default: .rea/keys/private.pem (0600, dir 0700, git-ignored), and every setting printed."""
    result = run_rea("keys", "generate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    pem = tmp_path / ".rea" / "keys" / "private.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(pem.parent.stat().st_mode) == 0o700
    assert (pem.parent / ".gitignore").read_text() == "*\n"
    key = public_key_from_pem(pem.read_bytes())
    out = result.stdout
    assert f"Wrote the server's private key to {pem}" in out
    assert f"App public key: {key}" in out
    assert f"  {SERVER_KEY_ENV}={pem}\n" in out
    assert f'  [worker.invoker]\n  request-identity-private-key-pem-file = "{pem}"\n' in out
    assert f"  REA_IDENTITY_KEYS={key}\n" in out
    assert f"rea.SecurityConfig(identity_keys=['{key}'])" in out
    assert set(KEY.findall(out)) == {key}
    assert result.stderr == ""


def test_generate_refuses_to_replace_a_key_without_force(tmp_path: Path) -> None:
    """A second generate exits 2 with one line and keeps the key; --force replaces it (0600)."""
    first = _generate_json(tmp_path)
    pem = Path(first["private_key_file"])
    before = pem.read_bytes()
    refused = run_rea("keys", "generate", cwd=tmp_path)
    line = one_error_line(refused, 2)
    assert f"{pem} already exists" in line
    assert "--force replaces it" in line
    assert refused.stdout == ""
    assert pem.read_bytes() == before
    pem.chmod(0o644)
    second = _generate_json(tmp_path, "--force")
    assert second["public_key"] != first["public_key"]
    assert public_key_from_pem(pem.read_bytes()) == second["public_key"]
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600


def test_generate_json_settings_are_what_the_server_reads(tmp_path: Path) -> None:
    """--json: the env and the TOML settings both reach restate-server's config as the path."""
    document = _generate_json(tmp_path, "--out", "secrets")
    pem = tmp_path / "secrets" / "private.pem"
    assert document["private_key_file"] == str(pem)
    assert document["public_key"] == public_key_from_pem(pem.read_bytes())
    assert document["server"]["env"] == {SERVER_KEY_ENV: str(pem)}
    assert document["app"]["env"] == {"REA_IDENTITY_KEYS": document["public_key"]}
    parsed = tomllib.loads(document["server"]["toml"])
    assert parsed == {"worker": {"invoker": {"request-identity-private-key-pem-file": str(pem)}}}
    config = tmp_path / "restate.toml"
    config.write_text(document["server"]["toml"])
    for args, env in (([], document["server"]["env"]), (["-c", str(config)], {})):
        dumped = subprocess.run(
            [str(server_binary()), *args, "--dump-config"],
            env=env,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        invoker = tomllib.loads(dumped)["worker"]["invoker"]
        assert invoker["request-identity-private-key-pem-file"] == str(pem)


def test_generate_into_an_existing_directory_adds_no_gitignore(tmp_path: Path) -> None:
    """--out DIR that exists already: only private.pem is written there."""
    (tmp_path / "keys").mkdir()
    _generate_json(tmp_path, "--out", "keys")
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["private.pem"]


@pytest.mark.integration
def test_generated_key_is_the_kid_of_a_server_run_with_the_printed_setting(
    tmp_path: Path,
) -> None:
    """A server started with the printed env setting logs the printed public key as its kid."""
    document = _generate_json(tmp_path)
    server = RestateServer(
        env=document["server"]["env"], log_filter="warn,restate_service_client=info"
    )
    with server:
        kids = set(KID.findall(server.log_path.read_text(errors="replace")))
    assert kids == {document["public_key"]}


def test_public_prints_the_key_of_a_private_or_public_pem(tmp_path: Path) -> None:
    """`rea keys public PEM` prints the publickeyv1_ key alone; --json names the file."""
    private = Ed25519PrivateKey.generate()
    private_pem = tmp_path / "private.pem"
    private_pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_pem = tmp_path / "public.pem"
    public_pem.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    expected = public_key_from_pem(private_pem.read_bytes())
    for pem in (private_pem, public_pem):
        result = run_rea("keys", "public", str(pem), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected + "\n"
    as_json = run_rea("keys", "public", "public.pem", "--json", cwd=tmp_path)
    assert json.loads(as_json.stdout) == {"pem": str(public_pem), "public_key": expected}


def test_public_of_a_missing_or_wrong_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A missing file, garbage and an RSA key: exit 2 and one line naming the file."""
    (tmp_path / "garbage.pem").write_text("hello")
    (tmp_path / "rsa.pem").write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for name, message in (
        ("missing.pem", "cannot read missing.pem: No such file or directory"),
        ("garbage.pem", "garbage.pem: not a readable PEM key"),
        ("rsa.pem", "rsa.pem: the PEM's key is RSA (1024 bits), not Ed25519"),
    ):
        line = one_error_line(run_rea("keys", "public", name, cwd=tmp_path), 2)
        assert message in line


def test_keys_is_a_rea_command(tmp_path: Path) -> None:
    """`rea --help` lists keys; `rea keys --help` lists generate and public."""
    assert re.search(r"\bkeys\b", run_rea("--help", cwd=tmp_path).stdout)
    keys_help = run_rea("keys", "--help", cwd=tmp_path).stdout
    assert "generate" in keys_help
    assert "public" in keys_help
