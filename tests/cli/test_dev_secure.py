"""`rea dev --secure`: a dev key made once, a signing server, and the app run with security on."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from rea.security._keys import public_key_from_pem
from rea.testing._ports import free_port
from tests.cli.test_dev import _Dev, _rea_dev
from tests.testing import signed_app

#: A restate.app checking signatures with REA_IDENTITY_KEYS (the SDK's own check, not rea's).
APP = Path(signed_app.__file__).read_text()


def _own_ports(root: Path) -> None:
    """Seed ``.rea/server.json`` with free ports, which LocalServer prefers to 8080/9070/5122.

    Two local servers started at once (parallel tests) can both find Restate's default ports
    free and then collide; ports of their own keep these tests out of that race.
    """
    (root / ".rea").mkdir(exist_ok=True)
    ports = [free_port(), free_port(), free_port()]
    (root / ".rea" / "server.json").write_text(json.dumps({"ports": ports}))


def _security_line(dev: _Dev) -> tuple[str, str]:
    """The key file and public key named by the "Security" line (once `dev.ready()`)."""
    line = next(line for line in dev.seen if line.startswith("Security         on (strict): "))
    words = line.split()
    return words[words.index("with") + 1].rstrip(","), words[-1]


def _stop(dev: _Dev) -> None:
    """Ctrl-C `dev` and check it exits 0 (else fail with what it wrote on stderr)."""
    code = dev.stop()
    errors = []
    while not dev.err.empty():
        errors.append(dev.err.get())
    assert code == 0, "".join(errors)


def test_secure_dev_signs_with_a_dev_key_kept_across_runs(tmp_path: Path) -> None:
    """--secure: a 0600 dev key under .rea, a signing server, an app that checks it; the
    next run reuses the key."""
    (tmp_path / "signed_app.py").write_text(APP)
    _own_ports(tmp_path)
    keys: list[str] = []
    for _run in range(2):
        dev = _Dev(tmp_path, "signed_app:app", "--no-reload", "--secure")
        try:
            ingress = dev.ready()
            path, key = _security_line(dev)
            app_url = next(s for s in dev.seen if s.startswith("App ")).split()[1]
            assert Path(path) == tmp_path / ".rea" / "keys" / "dev.pem"
            assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
            assert public_key_from_pem(Path(path).read_bytes()) == key
            state = json.loads((tmp_path / ".rea" / "server.json").read_text())
            assert state["identity_key"] == key
            assert httpx.post(f"{ingress}/SignedEcho/echo", json="s", timeout=30).json() == (
                "signed:s"
            )
            assert httpx.post(f"{ingress}/SignedEcho/environment", timeout=30).json() == {
                "REA_SECURITY_MODE": "strict",
                "REA_IDENTITY_KEYS": key,
                "REA_REQUIRE_HTTPS": "false",
            }
            # The app checks signatures: an unsigned request straight to it is refused.
            unsigned = httpx.Client(http1=False, http2=True, timeout=10)
            with unsigned:
                assert unsigned.get(f"{app_url}/discover").status_code == 401
            keys.append(key)
        finally:
            _stop(dev)
    assert keys[0] == keys[1]
    assert (tmp_path / ".rea" / ".gitignore").read_text() == "*\n"


def test_a_second_secure_dev_reuses_the_signing_server(tmp_path: Path) -> None:
    """While one `rea dev --secure` runs, another in the same directory reuses its server."""
    (tmp_path / "signed_app.py").write_text(APP)
    (tmp_path / "other_app.py").write_text(APP.replace('"SignedEcho"', '"OtherEcho"'))
    _own_ports(tmp_path)
    first = _Dev(tmp_path, "signed_app:app", "--no-reload", "--secure")
    try:
        first.ready()
        _path, key = _security_line(first)
        second = _Dev(tmp_path, "other_app:app", "--no-reload", "--secure")
        try:
            second.line(r"^Reusing the Restate server at ")
            ingress = second.ready()
            assert _security_line(second)[1] == key
            answer = httpx.post(f"{ingress}/OtherEcho/echo", json="o", timeout=30)
            assert answer.json() == "signed:o"
        finally:
            _stop(second)
    finally:
        _stop(first)


def test_secure_dev_refuses_a_running_server_that_does_not_sign(tmp_path: Path) -> None:
    """With `rea server start` (no signing) up for the directory: one line, exit 2."""
    (tmp_path / "signed_app.py").write_text(APP)
    _own_ports(tmp_path)
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
    server = subprocess.Popen(
        [sys.executable, "-m", "rea", "server", "start", "--data", str(tmp_path / ".rea")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        while "Restate admin" not in server.stdout.readline():
            assert server.poll() is None, "rea server start exited"
        proc = _rea_dev(tmp_path, "signed_app:app", "--no-reload", "--secure")
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 2, (out, err)
        lines = [line for line in err.strip().splitlines() if line.startswith("rea: error: ")]
        assert len(lines) == 1, err
        assert "does not sign requests with the dev key" in lines[0]
        assert "run rea dev without --secure" in lines[0]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_broken_dev_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A dev key file that is not an Ed25519 PEM: one error line naming it, exit 2."""
    (tmp_path / "signed_app.py").write_text(APP)
    key = tmp_path / ".rea" / "keys" / "dev.pem"
    key.parent.mkdir(parents=True)
    key.write_text("not a key")
    proc = _rea_dev(tmp_path, "signed_app:app", "--no-reload", "--secure")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"rea: error: {key}: not a readable PEM key")
    assert "delete it" in lines[0]
