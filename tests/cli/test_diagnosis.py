"""`rea invoke` tells a failing or stuck invocation from a server that is down, within 5 s.

The server is `retrying_server` (conftest.py): like Restate's defaults and unlike the session's
server, it retries a failing invocation for long instead of killing it after 3 attempts.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rea.admin import AdminClient
from rea.errors import AppStartError
from rea.testing import Harness, RestateServer
from rea.testing.pytest_plugin import HarnessFactory
from tests.cli.test_register import app, one_error_line, run_rea

APP = "tests.cli.apps.diagnosis_app:app"
SYNTAX_ERROR = "def greet(name:\n    return name\n"
#: The acceptance bound, for the whole command (a Python start-up included).
WITHIN = 5.0


@pytest.fixture
def admin(retrying_server: RestateServer) -> Iterator[AdminClient]:
    with AdminClient(retrying_server.admin_url) as client:
        yield client


def _invoke(server: RestateServer, cwd: Path, *args: str) -> tuple[str, float]:
    """The one error line of ``rea invoke ARGS`` on `server` (exit 1), and how long it took."""
    env = {"RESTATE_INGRESS_URL": server.ingress_url, "RESTATE_ADMIN_URL": server.admin_url}
    start = time.monotonic()
    result = run_rea("invoke", *args, cwd=cwd, env=env)
    return one_error_line(result, 1), time.monotonic() - start


def _invocation(line: str) -> str:
    found = re.search(r"inv_\w+", line)
    assert found is not None, line
    return found.group()


def test_a_broken_import_in_a_handler_is_shown_at_once(
    retrying_server: RestateServer, admin: AdminClient, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text(SYNTAX_ERROR)
    env = {"REA_TEST_BROKEN_IMPORT": str(broken)}
    with Harness(APP, server=retrying_server, app_env=env):
        line, took = _invoke(retrying_server, tmp_path, "Diagnosed/lazy", '"Ada"')
    admin.kill(_invocation(line))
    assert took < WITHIN, line
    assert "Diagnosed/lazy is failing and Restate keeps retrying it" in line
    assert re.search(r"is backing-off after \d+ attempts?; last error: .*SyntaxError", line)
    assert str(broken) in line  # where the syntax error is
    assert "is the server running" not in line


def test_an_app_that_fails_to_import_after_a_change(
    retrying_server: RestateServer, admin: AdminClient, tmp_path: Path
) -> None:
    """The deployment was registered before the change; the app process now dies at import."""
    broken = tmp_path / "broken.py"
    env = {"REA_TEST_BROKEN_AT_START": str(broken)}
    with Harness(APP, server=retrying_server, app_env=env) as h:
        app_url = h.app_url
        ok = run_rea("invoke", "Diagnosed/greet", '"Ada"', "--ingress", h.ingress_url,
                     "--admin", h.admin_url, cwd=tmp_path)  # fmt: skip
        assert ok.stdout.strip() == '"Hello, Ada"', ok.stderr
        broken.write_text(SYNTAX_ERROR)
        with pytest.raises(AppStartError, match="SyntaxError"):
            h.restart()
        line, took = _invoke(retrying_server, tmp_path, "Diagnosed/greet", '"Bob"')
    admin.kill(_invocation(line))
    assert took < WITHIN, line
    # Restate's attempt hangs on the app's socket (held open, nothing behind it) and records
    # no error: the CLI asks the app itself.
    assert "Diagnosed/greet cannot run: inv_" in line
    assert "is running (1 attempt)" in line
    assert f"its app at {app_url}/ accepts connections but does not answer" in line
    assert "is the app running?" in line


def test_a_deployment_where_nothing_listens(
    retrying_server: RestateServer, admin: AdminClient, tmp_path: Path
) -> None:
    Harness(APP, server=retrying_server).start().close()  # registered, then gone with its port
    line, took = _invoke(retrying_server, tmp_path, "Diagnosed/greet", '"Cy"')
    admin.kill(_invocation(line))
    assert took < WITHIN, line
    assert "Diagnosed/greet is failing and Restate keeps retrying it" in line
    assert "Connection refused" in line


def test_a_call_queued_behind_a_failing_one(
    retrying_server: RestateServer, admin: AdminClient, tmp_path: Path
) -> None:
    """A virtual object key runs one invocation at a time: the failing one blocks the next."""
    broken = tmp_path / "broken.py"
    broken.write_text(SYNTAX_ERROR)
    with Harness(APP, server=retrying_server, app_env={"REA_TEST_BROKEN_IMPORT": str(broken)}) as h:
        blocking = h.client.post("/DiagnosedQueue/k/stuck/send").json()["invocationId"]
        line, took = _invoke(retrying_server, tmp_path, "DiagnosedQueue/k/after")
    admin.kill(_invocation(line))
    admin.kill(blocking)
    assert took < WITHIN, line
    assert line.startswith(
        "rea: error: DiagnosedQueue/k/after waits behind another invocation of the same key: "
    )
    failing = "DiagnosedQueue/k/stuck is failing and Restate keeps retrying it"
    assert f"and {failing}: {blocking} is backing-off" in line
    assert "SyntaxError" in line


def test_a_paused_invocation_found_by_its_idempotency_key(
    rea_harness: HarnessFactory, tmp_path: Path
) -> None:
    """A call with a key attaches to the invocation of that key: here one paused earlier."""
    h = rea_harness(app)
    text = f"paused-{time.monotonic_ns()}"
    headers = {"idempotency-key": text}
    sent = h.client.post("/AdminProbe/flaky/send", json=text, headers=headers).json()
    invocation_id = sent["invocationId"]
    deadline = time.monotonic() + 15
    while h.admin_client.invocation(invocation_id).status != "backing-off":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    h.admin_client.pause(invocation_id)
    try:
        result = run_rea("invoke", "AdminProbe/flaky", json.dumps(text), "--idempotency-key",
                         text, "--ingress", h.ingress_url, "--admin", h.admin_url,
                         cwd=tmp_path)  # fmt: skip
    finally:
        h.admin_client.kill(invocation_id)
    line = one_error_line(result, 1)
    assert f"AdminProbe/flaky is paused, Restate retries it no more: {invocation_id}" in line
    assert "is not healed yet" in line


def test_a_slow_invocation_is_reported_at_the_timeout(
    rea_harness: HarnessFactory, tmp_path: Path
) -> None:
    """A handler that sleeps for an hour: no failure, so the CLI waits --timeout, then says so."""
    h = rea_harness(app)
    result = run_rea("invoke", "AdminProbe/nap", "--timeout", "1", "--ingress", h.ingress_url,
                     "--admin", h.admin_url, cwd=tmp_path)  # fmt: skip
    line = one_error_line(result, 1)
    h.admin_client.cancel(_invocation(line))
    assert re.search(r"no result from AdminProbe/nap after 1 s: inv_\w+ is suspended", line), line
    assert "it keeps running in Restate (--timeout 0 waits without limit)" in line


def test_a_bad_timeout_is_exit_2(tmp_path: Path) -> None:
    result = run_rea("invoke", "AdminProbe/ping", "--timeout", "-1", cwd=tmp_path)
    assert "--timeout must be 0 (no limit) or more" in one_error_line(result, 2)
