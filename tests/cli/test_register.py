"""`rea register URL` end to end on a real server; one line and exit 2 / 1 on failure.

The app is the one of tests/integration/test_admin.py; the helpers here serve
`test_invocations.py` and `test_invoke.py` too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rea.testing import Harness, RestateServer
from rea.testing._ports import free_port
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.test_admin import app

#: Variables that point the CLI at a server: none may leak in from the caller's environment.
SERVER_VARIABLES = (
    "REA_ADMIN_URL",
    "REA_INGRESS_URL",
    "RESTATE_ADMIN_URL",
    "RESTATE_INGRESS_URL",
    "RESTATE_HOST",
    "RESTATE_HOST_SCHEME",
    "RESTATE_AUTH_TOKEN",
)


def run_rea(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m rea ARGS`` in `cwd` with no server variables from the caller's env."""
    base = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    base.update(COLUMNS="250", NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "rea", *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The single ``rea: error:`` line of a failed command (asserting there is just one)."""
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rea: error: ")
    return lines[0]


def write_local_state(h: Harness, directory: Path) -> None:
    """A ``.rea/server.json`` in `directory` naming `h`'s server, as `rea dev` writes it."""
    (directory / ".rea").mkdir()
    state = {"pid": os.getpid(), "ingress_url": h.ingress_url, "admin_url": h.admin_url}
    (directory / ".rea" / "server.json").write_text(json.dumps(state))


def unused_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(app)


def test_register_prints_deployment_and_handlers(h: Harness, tmp_path: Path) -> None:
    """--force: the harness registered the app already (a refusal is test_conventions')."""
    result = run_rea("register", h.app_url, "--admin", h.admin_url, "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first, *table = result.stdout.splitlines()
    assert first.startswith(f"Registered {h.app_url} as deployment dp_")
    rows = {line.split()[0]: line.strip().split(None, 2)[1:] for line in table}
    assert rows["AdminCounter"] == ["VirtualObject", "add (exclusive), current (shared)"]
    assert rows["AdminProbe"] == ["Service", "echo, flaky, nap, ping, refuse"]
    assert rows["AdminFlow"][0] == "Workflow"
    assert "run (workflow)" in rows["AdminFlow"][1]
    assert rows["service"] == ["type", "handlers"]


def test_register_http11(h: Harness, tmp_path: Path) -> None:
    """--http11 registers in request-response mode (over the harness's HTTP/2 one: --force).

    Without --force the server keeps the existing deployment as it is, mode included: the
    CLI refuses (exit 2) instead of reporting a registration that did not happen.
    """
    args = ["register", h.app_url, "--admin", h.admin_url, "--http11"]
    refused = run_rea(*args, "--no-force", cwd=tmp_path)
    assert "already registered" in one_error_line(refused, 2)
    result = run_rea(*args, "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "AdminProbe" in result.stdout
    deployment = h.admin.get(f"/deployments/{result.stdout.split()[4]}").json()
    assert deployment["protocol_type"] == "RequestResponse"
    assert h.client.post("/AdminProbe/echo", json="h1").json() == "H1"


def test_admin_url_from_environment(h: Harness, tmp_path: Path) -> None:
    env = {"REA_ADMIN_URL": h.admin_url}
    result = run_rea("register", h.app_url, "--force", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "as deployment dp_" in result.stdout


def test_admin_url_from_the_local_server_state(h: Harness, tmp_path: Path) -> None:
    """Without --admin or REA_ADMIN_URL, the server of .rea/server.json is used."""
    write_local_state(h, tmp_path)
    result = run_rea("register", h.app_url, "--force", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "as deployment dp_" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["register", "app:9080"], "not an http(s) URL: 'app:9080'"),
        (["register", "http://127.0.0.1:9080", "--admin", "localhost"], "--admin: not an http(s)"),
    ],
)
def test_bad_urls_are_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    assert expected in one_error_line(run_rea(*args, cwd=tmp_path), 2)


def test_unreachable_admin_is_one_line_and_exit_1(tmp_path: Path) -> None:
    admin = unused_url()
    line = one_error_line(run_rea("register", unused_url(), "--admin", admin, cwd=tmp_path), 1)
    assert f"cannot reach the Restate admin API at {admin}" in line


def test_app_the_server_cannot_reach_is_exit_1(h: Harness, tmp_path: Path) -> None:
    """Discovery failing (nothing at the app URL) is the server's 500: one line, exit 1."""
    result = run_rea("register", unused_url(), "--admin", h.admin_url, cwd=tmp_path)
    assert "META0003" in one_error_line(result, 1)


def test_register_twice_without_force_refuses(
    retrying_server: RestateServer, tmp_path: Path
) -> None:
    """As Restate's CLI: a URL already registered is not overwritten without --force (exit 2).

    Restate answers a registration without force of a known URL with 200 and the existing
    deployment, changing nothing; a new one with 201.
    """
    with Harness(app, server=retrying_server) as h:
        deployment = h.deployment["id"]
        # Forget the harness's own registration: the server does not know the URL any more.
        assert h.admin.delete(f"/deployments/{deployment}", params={"force": "true"}).is_success
        args = ["register", h.app_url, "--admin", h.admin_url]

        first = run_rea(*args, "--json", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        registered = json.loads(first.stdout)
        assert registered["uri"] == h.app_url
        names = {s["name"]: s for s in registered["services"]}
        assert {"name": "add", "type": "Exclusive"} in names["AdminCounter"]["handlers"]

        line = one_error_line(run_rea(*args, cwd=tmp_path), 2)
        existing = registered["deployment_id"]
        assert f"{h.app_url} is already registered as deployment {existing}" in line
        assert "nothing was changed (--force overwrites it" in line

        forced = run_rea(*args, "--force", cwd=tmp_path)
        assert forced.returncode == 0, forced.stderr
        assert forced.stdout.startswith(f"Registered {h.app_url} as deployment dp_")
