"""Which server the CLI talks to: options, --data, rea's and Restate's variables, the token.

Order (docs/cli.md): option > --data DIR > REA_*_URL > RESTATE_*_URL > RESTATE_HOST > the
server of ./.rea > defaults; RESTATE_AUTH_TOKEN goes to the admin API and the ingress.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from rea.cli import _endpoints
from rea.testing import Harness, RestateServer
from rea.testing.pytest_plugin import HarnessFactory
from tests.cli.test_register import (
    SERVER_VARIABLES,
    app,
    one_error_line,
    run_rea,
    unused_url,
    write_local_state,
)

APP = "tests.cli.apps.diagnosis_app:app"


@pytest.fixture
def two_servers(
    rea_harness: HarnessFactory, retrying_server: RestateServer
) -> Iterator[tuple[Harness, Harness, str, str]]:
    """An app on the session's server and one on a second server, each called once."""
    first = rea_harness(app)
    with Harness(APP, server=retrying_server) as second:
        first_id = first.client.post("/AdminProbe/echo", json="a").headers["x-restate-id"]
        second_id = second.client.post("/Diagnosed/greet", json="b").headers["x-restate-id"]
        yield first, second, first_id, second_id


def _listed(result: subprocess.CompletedProcess[str]) -> set[str]:
    assert result.returncode == 0, result.stderr
    return {info["id"] for info in json.loads(result.stdout)}


def test_restate_admin_url_lists_a_second_servers_invocations(
    two_servers: tuple[Harness, Harness, str, str], tmp_path: Path
) -> None:
    """RESTATE_ADMIN_URL beats ./.rea's server; REA_ADMIN_URL beats it; --admin beats all."""
    first, second, first_id, second_id = two_servers
    write_local_state(first, tmp_path)  # `rea dev` runs the first server here
    restate = {"RESTATE_ADMIN_URL": second.admin_url}

    table = run_rea("invocations", cwd=tmp_path, env=restate)
    assert second_id in table.stdout, table.stderr
    assert first_id not in table.stdout
    assert _listed(run_rea("invocations", "--json", cwd=tmp_path)) >= {first_id}

    both = {**restate, "REA_ADMIN_URL": first.admin_url}
    listed = _listed(run_rea("invocations", "--json", cwd=tmp_path, env=both))
    assert first_id in listed
    assert second_id not in listed
    chosen = run_rea("invocations", "--json", "--admin", second.admin_url, cwd=tmp_path, env=both)
    assert second_id in _listed(chosen)


def test_restate_ingress_url_is_where_invoke_calls(
    two_servers: tuple[Harness, Harness, str, str], tmp_path: Path
) -> None:
    _, second, _, _ = two_servers
    env = {"RESTATE_INGRESS_URL": second.ingress_url, "RESTATE_ADMIN_URL": second.admin_url}
    result = run_rea("invoke", "Diagnosed/greet", '"Ada"', cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "Hello, Ada"


@pytest.fixture
def started_server(tmp_path: Path) -> Iterator[Path]:
    """`rea server start --data DIR` in the background: DIR, once its server.json is written."""
    data = tmp_path / "srv"
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    process = subprocess.Popen(
        [sys.executable, "-m", "rea", "server", "start", "--data", str(data)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while "pid" not in _state(data):
            assert process.poll() is None, "rea server start exited"
            assert time.monotonic() < deadline, "rea server start did not start a server"
            time.sleep(0.1)
        yield data
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _state(data: Path) -> dict[str, object]:
    try:
        state: dict[str, object] = json.loads((data / "server.json").read_text())
    except (OSError, ValueError):
        return {}
    return state


def test_data_targets_the_server_rea_server_start_runs(
    started_server: Path, rea_harness: HarnessFactory, tmp_path: Path
) -> None:
    """--data DIR beats the variables (here pointing nowhere) for every command."""
    h = rea_harness(app)  # an app to register there; its own server is the session's
    elsewhere = {"REA_ADMIN_URL": unused_url(), "RESTATE_INGRESS_URL": unused_url()}
    data = ["--data", str(started_server)]

    registered = run_rea("register", h.app_url, *data, cwd=tmp_path, env=elsewhere)
    assert registered.returncode == 0, registered.stderr
    called = run_rea("invoke", "AdminProbe/echo", '"dir"', *data, cwd=tmp_path, env=elsewhere)
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout) == "DIR"
    listed = run_rea("invocations", "--json", *data, cwd=tmp_path, env=elsewhere)
    assert [i["target"] for i in json.loads(listed.stdout)] == ["AdminProbe/echo"]
    letters = run_rea("dlq", "list", *data, cwd=tmp_path, env=elsewhere)
    assert letters.stdout.strip() == "0 dead letter(s)", letters.stderr


def test_data_without_a_server(tmp_path: Path) -> None:
    assert "no such directory" in one_error_line(
        run_rea("invocations", "--data", "nowhere", cwd=tmp_path), 2
    )
    (tmp_path / "idle").mkdir()
    line = one_error_line(run_rea("invoke", "A/b", "--data", "idle", cwd=tmp_path), 1)
    assert "--data idle: no Restate server runs for idle" in line
    assert "rea server start --data idle" in line


@pytest.mark.parametrize("variable", ["RESTATE_ADMIN_URL", "REA_ADMIN_URL"])
def test_a_bad_url_names_its_variable(tmp_path: Path, variable: str) -> None:
    result = run_rea("invocations", cwd=tmp_path, env={variable: "localhost:9070"})
    assert f"{variable}: not an http(s) URL: 'localhost:9070'" in one_error_line(result, 2)


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """RESTATE_HOST gives Restate's ports on that host, under the URL variables."""
    monkeypatch.chdir(tmp_path)  # no ./.rea here
    for name in SERVER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert _endpoints.server_url(None, "admin") == "http://127.0.0.1:9070"
    assert _endpoints.server_url(None, "ingress") == "http://127.0.0.1:8080"
    monkeypatch.setenv("RESTATE_HOST", "restate.example")
    monkeypatch.setenv("RESTATE_HOST_SCHEME", "https")
    assert _endpoints.server_url(None, "admin") == "https://restate.example:9070"
    assert _endpoints.server_url(None, "ingress") == "https://restate.example:8080"
    monkeypatch.setenv("RESTATE_INGRESS_URL", "http://ingress.example/")
    assert _endpoints.server_url(None, "ingress") == "http://ingress.example"
    monkeypatch.setenv("REA_INGRESS_URL", "http://rea.example")
    assert _endpoints.server_url(None, "ingress") == "http://rea.example"
    assert _endpoints.server_url("http://option.example", "ingress") == "http://option.example"
    monkeypatch.setenv("RESTATE_AUTH_TOKEN", "  ")
    assert _endpoints.auth_token() is None  # blank: as if unset


class _Recorder(BaseHTTPRequestHandler):
    """A stand-in for Restate that records the Authorization header of each request."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.seen.append((self.path, self.headers.get("authorization")))
        body = b'{"rows": []}' if self.path == "/query" else b'"ok"'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_restate_auth_token_is_sent_to_admin_and_ingress(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    env = {"RESTATE_AUTH_TOKEN": "s3cret", "RESTATE_ADMIN_URL": url, "RESTATE_INGRESS_URL": url}
    try:
        assert run_rea("invocations", cwd=tmp_path, env=env).returncode == 0
        invoked = run_rea("invoke", "Svc/handler", cwd=tmp_path, env=env)
        assert invoked.stdout.strip() == '"ok"', invoked.stderr
    finally:
        server.shutdown()
        server.server_close()
    assert ("/query", "Bearer s3cret") in _Recorder.seen
    assert ("/Svc/handler", "Bearer s3cret") in _Recorder.seen
