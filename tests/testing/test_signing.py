"""Signing test servers: RestateServer(signing_key=...), Harness(signing=True), --rea-signing."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rea._engine import server_binary
from rea.errors import RegistrationError, UsageValueError
from rea.security._keys import SERVER_KEY_ENV, generate_key_pair, write_private_key
from rea.testing import Harness, RemoteServer, RestateServer
from tests._support import dump_config
from tests.testing import signed_app
from tests.testing.signed_app import make_app

pytest_plugins = ["pytester"]

KID = re.compile(r'kid: "(publickeyv1_[1-9A-HJ-NP-Za-km-z]+)"')
#: Shows the "Loaded request identity key" line, which the default filter (warn) hides.
KID_LOG = "warn,restate_service_client=info"
APP = "tests.testing.signed_app:app"
#: Found before pytester moves HOME (and with it rea's cache) for an inner run.
BINARY = str(server_binary())


def _kids(server: RestateServer) -> set[str]:
    return set(KID.findall(server.log_path.read_text(errors="replace")))


def test_no_signing_by_default() -> None:
    """Without signing_key the server has no identity key and no key setting."""
    server = RestateServer()
    assert server.identity_key is None
    assert server.signing_key_path is None
    assert SERVER_KEY_ENV not in server.environment()


def test_a_key_file_reaches_the_server_config(tmp_path: Path) -> None:
    """signing_key=PATH: the key's public key, and the absolute path in the server's config."""
    pair = generate_key_pair()
    pem = write_private_key(tmp_path / "private.pem", pair.private_pem)
    server = RestateServer(signing_key=pem)
    assert server.identity_key == pair.public_key
    assert server.signing_key_path == pem
    config = dump_config(server)
    assert config["worker"]["invoker"]["request-identity-private-key-pem-file"] == str(pem)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"garbage", "not a readable PEM key"),
        (rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), "is RSA"),
    ],
)  # fmt: skip
def test_a_bad_key_file_is_refused_at_construction(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    """A missing, unreadable or non-Ed25519 key file fails at once, naming the file."""
    path = tmp_path / "key.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageValueError, match=message) as caught:
        RestateServer(signing_key=path)
    assert str(path) in str(caught.value)


@pytest.mark.integration
def test_generated_key_is_known_before_start_and_logged_by_the_server() -> None:
    """signing_key=True: the key is known at once, written 0600 in the base dir, loaded."""
    server = RestateServer(signing_key=True, log_filter=KID_LOG)
    key = server.identity_key
    assert key is not None
    assert key.startswith("publickeyv1_")
    with server:
        path = server.signing_key_path
        assert path == server.base_dir / "identity" / "private.pem"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert server.environment()[SERVER_KEY_ENV] == str(path)
        assert _kids(server) == {key}
    assert not path.exists()  # the temporary base dir went with it


@pytest.mark.integration
def test_a_kept_base_dir_keeps_its_generated_key(tmp_path: Path) -> None:
    """signing_key=True with base_dir: a later server on that dir signs with the same key."""
    first = RestateServer(signing_key=True, base_dir=tmp_path / "data")
    with first:
        pass
    second = RestateServer(signing_key=True, base_dir=tmp_path / "data", log_filter=KID_LOG)
    assert second.identity_key == first.identity_key
    with second:
        assert _kids(second) == {first.identity_key}


@pytest.mark.integration
def test_sdk_app_registers_with_a_signing_server_and_is_refused_by_a_plain_one() -> None:
    """A restate.app checking the server's key answers through a signing server; a plain
    server's registration gets the app's 401; an unsigned direct request gets 401 too."""
    with RestateServer(signing_key=True) as signing, RestateServer() as plain:
        assert signing.identity_key is not None
        app = make_app([signing.identity_key])
        with Harness(app, server=signing) as h:
            assert h.identity_key == signing.identity_key
            assert h.client.post("/SignedEcho/echo", json="a").json() == "signed:a"
            direct = httpx.post(f"{h.app_url}/discover", timeout=10)
            assert direct.status_code == 401
        with pytest.raises(RegistrationError, match="401") as refused:
            Harness(app, server=plain).start()
        assert "META0003" in str(refused.value)


@pytest.mark.integration
def test_harness_signing_runs_the_app_process_with_security_on() -> None:
    """Harness(signing=True): an own signing server, and the app process gets the key and
    REA_SECURITY_MODE=strict, REA_REQUIRE_HTTPS=false; app_env still wins."""
    with Harness(APP, signing=True) as h:
        assert isinstance(h.server, RestateServer)
        assert h.identity_key is not None
        assert h.identity_key == h.server.identity_key
        assert h.client.post("/SignedEcho/echo", json="b").json() == "signed:b"
        assert h.client.post("/SignedEcho/environment").json() == {
            "REA_SECURITY_MODE": "strict",
            "REA_IDENTITY_KEYS": h.identity_key,
            "REA_REQUIRE_HTTPS": "false",
        }
    with Harness(APP, signing=True, app_env={"REA_SECURITY_MODE": "permissive"}) as h:
        assert h.client.post("/SignedEcho/environment").json()["REA_SECURITY_MODE"] == (
            "permissive"
        )


def test_harness_signing_needs_a_signing_server() -> None:
    """signing=True with a server that does not sign is refused before anything starts."""
    with pytest.raises(UsageValueError, match="does not sign"):
        Harness(APP, server=RemoteServer("http://127.0.0.1:1", "http://127.0.0.1:2"), signing=True)
    remote = RemoteServer("http://127.0.0.1:1", "http://127.0.0.1:2", identity_key="publickeyv1_x")
    h = Harness(APP, server=remote, signing=True)
    try:
        assert h.security_env()["REA_IDENTITY_KEYS"] == "publickeyv1_x"
    finally:
        h.close()


def test_no_security_env_without_signing() -> None:
    """A harness on a server that does not sign adds nothing to the app's environment."""
    h = Harness(APP, server=RemoteServer("http://127.0.0.1:1", "http://127.0.0.1:2"))
    try:
        assert h.identity_key is None
        assert h.security_env() == {}
    finally:
        h.close()


#: The app module, copied into the directory of an inner pytest run.
SIGNED_APP = Path(signed_app.__file__).read_text()

PLUGIN_TEST = """
def test_session_server_signs(restate_server, rea_harness):
    assert restate_server.identity_key is not None
    h = rea_harness("signed_app:app")
    assert h.client.post("/SignedEcho/echo", json="p").json() == "signed:p"
    assert h.client.post("/SignedEcho/environment").json()["REA_IDENTITY_KEYS"] == (
        restate_server.identity_key
    )
"""

PLUGIN_FIXTURE_TEST = """
def test_signing_on_request(restate_server, rea_signing_server, rea_harness):
    assert getattr(restate_server, "identity_key", None) is None
    assert rea_signing_server.identity_key is not None
    h = rea_harness("signed_app:app", signing=True)
    assert h.server is rea_signing_server
    assert h.client.post("/SignedEcho/echo", json="q").json() == "signed:q"
"""


@pytest.mark.integration
def test_rea_signing_option_makes_the_session_server_sign(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--rea-signing: restate_server signs, and rea_harness's app processes check it."""
    monkeypatch.setenv("REA_RESTATE_SERVER", BINARY)
    pytester.makepyfile(test_signed=PLUGIN_TEST, signed_app=SIGNED_APP)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rea-signing")
    result.assert_outcomes(passed=1)


@pytest.mark.integration
def test_rea_harness_signing_uses_the_signing_server_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the option, rea_harness(app, signing=True) runs on rea_signing_server."""
    monkeypatch.setenv("REA_RESTATE_SERVER", BINARY)
    pytester.makepyfile(test_fixture=PLUGIN_FIXTURE_TEST, signed_app=SIGNED_APP)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_rea_signing_with_a_remote_server_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """--rea-signing cannot make the server of --rea-server sign: the run says so."""
    pytester.makepyfile(test_remote="def test_it(restate_server):\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--rea-signing", "--rea-server", "http://127.0.0.1:1"
    )
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--rea-signing starts a signing server*"])
