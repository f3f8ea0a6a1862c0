"""`rea dev`: a local server plus the app with reload, and one clear line for bad input."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.test_harness import _running

APP = """
import restate

svc = restate.Service("DevEcho")


@svc.handler()
async def echo(ctx: restate.Context, text: str) -> str:
    return "{prefix}" + text


app = restate.app([svc])
"""


def _rea_dev(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(tmp_path), PYTHONUNBUFFERED="1", COLUMNS="200")
    env.update(extra_env)
    return subprocess.Popen(
        [sys.executable, "-m", "rea", "dev", *args, "--data", str(tmp_path / ".rea")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("module_source", "reference", "expected"),
    [
        (None, "no_such_module:app", "cannot import module 'no_such_module'"),
        ("raise RuntimeError('boom at import')", "broken:app", "RuntimeError: boom at import"),
        ("app = 42", "broken:app", "is a builtins.int, not an ASGI app"),
        ("import restate\napp = restate.Service('S')", "broken:app", "restate.app([...])"),
        ("app = 1", "broken:missing", "has no attribute 'missing'"),
        (None, "no-colon", "must look like 'package.module:app'"),
    ],
)
def test_bad_app_is_one_line_and_exit_2(
    tmp_path: Path, module_source: str | None, reference: str, expected: str
) -> None:
    """An app that fails to import or is not an ASGI app: one error line, exit status 2."""
    if module_source is not None:
        (tmp_path / "broken.py").write_text(module_source)
    proc = _rea_dev(tmp_path, reference)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rea: error: ")
    assert expected in lines[0]
    assert not (tmp_path / ".rea").exists()


def _reader(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _wait_for(lines: queue.Queue[str], pattern: str, seen: list[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


class _Dev:
    """A running `rea dev` whose stdout and stderr lines are read as they come."""

    def __init__(self, tmp_path: Path, *args: str, **extra_env: str) -> None:
        self.proc = _rea_dev(tmp_path, *args, **extra_env)
        self.out: queue.Queue[str] = queue.Queue()
        self.err: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        for stream, into in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=_reader, args=(stream, into), daemon=True).start()

    def line(self, pattern: str, *, stderr: bool = False, timeout: float = 60) -> str:
        """The next line of stdout (or stderr) matching `pattern`."""
        return _wait_for(self.err if stderr else self.out, pattern, self.seen, timeout)

    def ready(self) -> str:
        """Wait until it serves; the ingress URL."""
        ingress = self.line(r"Restate ingress\s+http://").split()[-1]
        self.line(r"^Ready")
        return ingress

    def stop(self) -> int:
        """Ctrl-C, and its exit status."""
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)


def test_dev_serves_registers_reloads_and_stops(tmp_path: Path) -> None:
    """rea dev prints URLs and handlers, re-registers on change, and Ctrl-C stops everything."""
    source = tmp_path / "echoapp.py"
    source.write_text(APP.format(prefix="v1:"))
    proc = _rea_dev(tmp_path, "echoapp:app")
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        ingress = _wait_for(lines, r"Restate ingress\s+http://", seen).split()[-1]
        _wait_for(lines, r"DevEcho\s+Service\s+echo", seen)
        _wait_for(lines, r"^Ready", seen)
        assert httpx.post(f"{ingress}/DevEcho/echo", json="a", timeout=30).json() == "v1:a"

        state = json.loads((tmp_path / ".rea" / "server.json").read_text())
        server_pid = state["pid"]
        assert (tmp_path / ".rea" / "server").is_dir()

        source.write_text(APP.format(prefix="v2:"))
        _wait_for(lines, r"Change detected", seen)
        _wait_for(lines, r"^Ready", seen)
        assert httpx.post(f"{ingress}/DevEcho/echo", json="a", timeout=30).json() == "v2:a"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    deadline = time.monotonic() + 10
    while _running(server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(server_pid)


def test_dev_reuses_a_running_server(tmp_path: Path) -> None:
    """With `rea server start` running for the directory, rea dev reuses it and leaves it up."""
    (tmp_path / "echoapp.py").write_text(APP.format(prefix="r:"))
    env = dict(os.environ, PYTHONUNBUFFERED="1", COLUMNS="200")
    server = subprocess.Popen(
        [sys.executable, "-m", "rea", "server", "start", "--data", str(tmp_path / ".rea")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    server_lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(server.stdout, server_lines), daemon=True).start()
    seen: list[str] = []
    try:
        admin = _wait_for(server_lines, r"Restate admin\s+http://", seen).split()[-1]
        proc = _rea_dev(tmp_path, "echoapp:app", "--no-reload")
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
        _wait_for(lines, rf"Reusing the Restate server at {re.escape(admin)}", seen)
        ingress = _wait_for(lines, r"Restate ingress\s+http://", seen).split()[-1]
        _wait_for(lines, r"^Ready", seen)
        assert httpx.post(f"{ingress}/DevEcho/echo", json="x", timeout=30).json() == "r:x"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        # The reused server belongs to `rea server start`: it is still up.
        assert httpx.get(f"{admin}/health", timeout=5).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert server.returncode == 0


REA_APP = """
import restate
from pydantic import BaseModel

import rea


class Order(BaseModel):
    id: str
    qty: int


svc = restate.Service("DevShop")


@svc.handler()
async def place(ctx: restate.Context, order: Order) -> str:
    return order.id


app = rea.app([svc])
"""


def test_dev_shows_a_rejected_one_way_message(tmp_path: Path) -> None:
    """A one-way send whose input fails validation (the sender got 202) shows on the console."""
    (tmp_path / "shopapp.py").write_text(REA_APP)
    dev = _Dev(tmp_path, "shopapp:app", "--no-reload")
    try:
        ingress = dev.ready()
        sent = httpx.post(f"{ingress}/DevShop/place/send", json={"id": "o1"}, timeout=30)
        assert sent.status_code == 202
        line = dev.line(r"rejected input of DevShop/place", stderr=True, timeout=10)
        assert sent.json()["invocationId"] in line
        assert "qty: Field required" in line
    finally:
        dev.stop()


def _readme_app() -> str:
    """The quickstart app of README.md, as written there."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("```python\n# app.py\n") + len("```python\n")
    return readme[start : readme.index("```", start)]


def test_dev_shows_the_readme_quickstart_live(tmp_path: Path) -> None:
    """On the README's app, a handler's print and the guard's warning show within a second."""
    (tmp_path / "app.py").write_text(_readme_app())
    # The policy is pinned: CI=true in the environment would make it STRICT.
    dev = _Dev(tmp_path, "app:app", "--no-reload", RESTATE_FRAMEWORK_POLICY="warn")
    try:
        ingress = dev.line(r"Restate ingress\s+http://").split()[-1]
        admin = dev.line(r"Restate admin\s+http://").split()[-1]
        assert dev.line(r"Restate UI\s+http://").split()[-1] == f"{admin}/ui/"
        dev.line(r"Retries\s+Restate's default policy")
        dev.line(r"^Ready")
        assert httpx.post(f"{ingress}/Counter/apples/add", json=3, timeout=30).json() == 3
        answered = time.monotonic()
        assert "app │ apples: adding 3" in dev.line(r"apples: adding 3", stderr=True)
        assert time.monotonic() - answered < 1.0
        reset = httpx.post(f"{ingress}/Counter/apples/reset", timeout=30)
        assert reset.status_code == 200  # WARN: the write is skipped, the call goes on
        answered = time.monotonic()
        warning = dev.line(r"state\.write_in_shared", stderr=True)
        assert time.monotonic() - answered < 1.0
        assert "WARNING rea.policy" in warning
    finally:
        dev.stop()


def test_invoke_quotes_the_import_error_of_an_app_rea_dev_could_not_restart(
    tmp_path: Path,
) -> None:
    """An edit with a syntax error under `rea dev`: `rea invoke` names it within 5 s."""
    source = tmp_path / "echoapp.py"
    source.write_text(APP.format(prefix="ok:"))
    dev = _Dev(tmp_path, "echoapp:app")
    try:
        ingress = dev.ready()
        assert httpx.post(f"{ingress}/DevEcho/echo", json="a", timeout=30).json() == "ok:a"
        time.sleep(0.5)  # the file watcher starts after "Ready"
        source.write_text(APP.format(prefix="ok:") + "\ndef broken(:\n")
        dev.line(r"Change detected")
        deadline = time.monotonic() + 30
        while not (tmp_path / ".rea" / "app-error.txt").exists():
            assert time.monotonic() < deadline, "rea dev recorded no start failure"
            time.sleep(0.1)
        start = time.monotonic()
        invoked = subprocess.run(
            [sys.executable, "-m", "rea", "invoke", "DevEcho/echo", '"x"', "--data",
             str(tmp_path / ".rea")],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
            env=dict(os.environ, COLUMNS="200"),
        )  # fmt: skip
        took = time.monotonic() - start
        assert invoked.returncode == 1, invoked.stdout + invoked.stderr
        assert took < 5.0, invoked.stderr
        line = invoked.stderr.strip()
        assert "DevEcho/echo cannot run" in line
        assert "SyntaxError" in line
        assert "echoapp.py, line" in line
    finally:
        dev.stop()
    assert not (tmp_path / ".rea" / "app-error.txt").exists()
