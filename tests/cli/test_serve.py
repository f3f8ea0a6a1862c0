"""`rea serve`: no keep-alive stall, nothing lost on SIGTERM under load, one line for bad input."""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import trustme

import rea
from rea.testing import RestateServer

ECHO_APP = """
import restate

import rea

echo = restate.Service("ServeEcho")


@echo.handler()
async def say(ctx: restate.Context, text: str) -> str:
    return text


app = rea.app([echo])
"""

# Each attempt writes a row to `attempts` when it starts and the effect (inside rea.run) to
# `effects`, both outside the app process, with the worker's pid.
LEDGER_APP = """
import asyncio
import os
import sqlite3

import restate

import rea

LEDGER = os.environ["LEDGER_DB"]
ledger = restate.Service("Ledger")


def _write(table: str, request_id: str) -> None:
    with sqlite3.connect(LEDGER, timeout=30) as db:
        db.execute(f"INSERT INTO {table} VALUES (?, ?)", (request_id, os.getpid()))


@ledger.handler()
async def work(ctx: restate.Context, request_id: str) -> str:
    _write("attempts", request_id)
    # 100-300 ms of work inside the attempt, so that SIGTERM finds attempts in flight.
    await asyncio.sleep(0.1 + int(request_id.rsplit("-", 1)[1]) % 5 * 0.05)
    await rea.run(ctx, "record", _write, "effects", request_id)
    return request_id


app = rea.app([ledger])
"""

SLOW_APP = """
import asyncio

import restate

import rea

slow = restate.Service("ServeSlow")


@slow.handler()
async def nap(ctx: restate.Context, seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


app = rea.app([slow])
"""

READY = re.compile(r"^rea serve: worker (\d+) ready on (https?://\S+)$")


class Served:
    """A `rea serve` child process and the lines it prints."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = dict(os.environ, PYTHONPATH=str(cwd), PYTHONUNBUFFERED="1", **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rea", "serve", *args],
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if match := pattern.search(line):
                return match
        raise AssertionError(f"no line matching {pattern.pattern!r}; output so far: {self.seen}")

    def ready(self, workers: int = 1) -> tuple[list[int], str]:
        """The workers' pids and the URL, once every worker printed its ready line."""
        matches = [self.wait_for(READY) for _ in range(workers)]
        assert len({m.group(2) for m in matches}) == 1, self.seen
        return [int(m.group(1)) for m in matches], matches[0].group(2)

    def rest(self, timeout: float = 60) -> list[str]:
        """The remaining output lines, once the process has exited."""
        self.proc.wait(timeout)
        time.sleep(0.1)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def served() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for s in started:
        s.stop()


def test_5000_sequential_calls_have_no_keep_alive_stall(
    tmp_path: Path, served: list[Served]
) -> None:
    """Hypercorn's default closes a connection after 1,000 requests; rea serve never does."""
    (tmp_path / "echo_app.py").write_text(ECHO_APP)
    with RestateServer(always_replay=False) as server:
        s = Served(tmp_path, "echo_app:app", "--bind", "127.0.0.1:0")
        served.append(s)
        _, url = s.ready()
        rea.AdminClient(server.admin_url).register(url)
        latencies: list[float] = []
        with httpx.Client(base_url=server.ingress_url, timeout=60) as client:
            for i in range(5_000):
                start = time.perf_counter()
                response = client.post("/ServeEcho/say", json=f"call {i}")
                latencies.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
                assert response.json() == f"call {i}"
    latencies.sort()
    p50, p99, worst = (latencies[int(q * (len(latencies) - 1))] for q in (0.5, 0.99, 1.0))
    print(f"5,000 calls: p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max {worst * 1e3:.1f} ms")
    assert worst < 1.0


def _ledger(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    db.execute("CREATE TABLE IF NOT EXISTS attempts (request_id TEXT, pid INTEGER)")
    db.execute("CREATE TABLE IF NOT EXISTS effects (request_id TEXT, pid INTEGER)")
    db.commit()
    return db


def _wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_sigterm_under_load_loses_nothing(tmp_path: Path, served: list[Served]) -> None:
    """SIGTERM to `rea serve --workers 2` mid-load: in-flight attempts finish, the rest wait.

    200 one-way sends go out over 2 s; the parent gets SIGTERM once 60 effects are recorded.
    A second `rea serve` on the same port takes over, and Restate retries what was refused.
    """
    (tmp_path / "ledger_app.py").write_text(LEDGER_APP)
    db_path = tmp_path / "ledger.db"
    db = _ledger(db_path)
    env = {"LEDGER_DB": str(db_path)}
    total = 200
    retry_while_down = {
        # Keep retrying while no app is up (rea's test server kills after 3 attempts).
        "RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "1000",
        "RESTATE_DEFAULT_RETRY_POLICY__MAX_INTERVAL": "200ms",
    }
    with RestateServer(always_replay=False, env=retry_while_down) as server:
        first = Served(
            tmp_path, "ledger_app:app", "--bind", "127.0.0.1:0", "--workers", "2", env=env
        )
        served.append(first)
        old_pids, url = first.ready(workers=2)
        admin = rea.AdminClient(server.admin_url)
        admin.register(url)

        def send_all() -> None:
            with httpx.Client(base_url=server.ingress_url, timeout=30) as client:
                for i in range(total):
                    key = f"req-{i}"
                    response = client.post(
                        "/Ledger/work/send", json=key, headers={"idempotency-key": key}
                    )
                    assert response.status_code == 202, response.text
                    time.sleep(0.01)

        sender = threading.Thread(target=send_all)
        sender.start()

        def effects() -> int:
            return int(db.execute("SELECT count(*) FROM effects").fetchone()[0])

        _wait_until(lambda: effects() >= 60, 60, "60 effects before SIGTERM")
        first.proc.send_signal(signal.SIGTERM)
        at_sigterm = effects()
        output = first.rest(timeout=60)
        assert first.proc.returncode == 0, output
        assert any("stopping 2 worker(s)" in line for line in output), output
        assert output[-1] == "rea serve: stopped", output

        second = Served(tmp_path, "ledger_app:app", "--bind", url.removeprefix("http://"), env=env)
        served.append(second)
        new_pids, _ = second.ready()
        sender.join(60)
        assert not sender.is_alive()

        def all_completed() -> bool:
            rows = admin.query(
                "SELECT status, completion_result FROM sys_invocation "
                "WHERE target_service_name = 'Ledger'"
            )
            return len(rows) == total and all(
                (r.get("status"), r.get("completion_result")) == ("completed", "success")
                for r in rows
            )

        _wait_until(all_completed, 90, f"{total} completed invocations")

    per_request = dict(db.execute("SELECT request_id, count(*) FROM effects GROUP BY request_id"))
    assert per_request == {f"req-{i}": 1 for i in range(total)}
    by_old = db.execute(
        f"SELECT count(*) FROM effects WHERE pid IN ({','.join(map(str, old_pids))})"
    ).fetchone()[0]
    started_on_old = db.execute(
        f"SELECT count(*) FROM attempts WHERE pid IN ({','.join(map(str, old_pids))})"
    ).fetchone()[0]
    by_new = db.execute(f"SELECT count(*) FROM effects WHERE pid = {new_pids[0]}").fetchone()[0]
    print(
        f"SIGTERM at {at_sigterm} effects: the first rea serve finished {by_old} "
        f"({started_on_old} attempts started there), the second {by_new}"
    )
    # Graceful: every attempt that started before the shutdown finished its effect.
    assert started_on_old == by_old
    assert by_old + by_new == total
    assert by_new > 0


@pytest.mark.parametrize(
    ("module_source", "reference", "expected"),
    [
        (None, "no_such_module:app", "cannot import module 'no_such_module'"),
        ("app = 42", "broken:app", "is a builtins.int, not an ASGI app"),
        (None, "no-colon", "must look like 'package.module:app'"),
    ],
)
def test_bad_app_is_one_line_and_exit_2(
    tmp_path: Path, module_source: str | None, reference: str, expected: str
) -> None:
    """An app that cannot be loaded: one error line, exit status 2, no worker left behind."""
    if module_source is not None:
        (tmp_path / "broken.py").write_text(module_source)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rea",
            "serve",
            reference,
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "2",
        ],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("rea: error: ")
    assert expected in lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--workers", "0"], "--workers"),
        (["--bind", "nowhere"], "must look like HOST:PORT"),
        (["--graceful-timeout", "-1"], "--graceful-timeout"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    """Bad options are usage errors (exit status 2) before any worker starts."""
    proc = subprocess.run(
        [sys.executable, "-m", "rea", "serve", "any:app", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert expected in proc.stderr


def test_a_dead_worker_is_reported_and_replaced(tmp_path: Path, served: list[Served]) -> None:
    """SIGKILL one of two workers: the supervisor says so and starts another."""
    (tmp_path / "echo_app.py").write_text(ECHO_APP)
    s = Served(tmp_path, "echo_app:app", "--bind", "127.0.0.1:0", "--workers", "2")
    served.append(s)
    pids, url = s.ready(workers=2)
    os.kill(pids[0], signal.SIGKILL)
    s.wait_for(re.compile(rf"worker {pids[0]} died \(killed by SIGKILL\); starting another"))
    replacement, again = s.ready()
    assert again == url
    assert replacement[0] not in pids
    with httpx.Client(timeout=10) as client:
        assert client.get(f"{url}/health").status_code == 200
    s.stop()
    assert s.proc.returncode == 0


def test_graceful_timeout_bounds_the_drain(tmp_path: Path, served: list[Served]) -> None:
    """An attempt longer than --graceful-timeout is cut at the bound; Restate runs it again."""
    (tmp_path / "slow_app.py").write_text(SLOW_APP)
    retry_while_down = {"RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "1000"}
    with RestateServer(always_replay=False, env=retry_while_down) as server:
        first = Served(tmp_path, "slow_app:app", "--bind", "127.0.0.1:0", "--graceful-timeout", "1")
        served.append(first)
        _, url = first.ready()
        admin = rea.AdminClient(server.admin_url)
        admin.register(url)
        with httpx.Client(base_url=server.ingress_url, timeout=30) as client:
            sent = client.post("/ServeSlow/nap/send", json=3.0)
            assert sent.status_code == 202, sent.text
            _wait_until(
                lambda: bool(admin.query("SELECT id FROM sys_invocation WHERE status = 'running'")),
                30,
                "the attempt to start",
            )
            start = time.monotonic()
            first.proc.send_signal(signal.SIGTERM)
            output = first.rest(timeout=30)
            took = time.monotonic() - start
            assert any("1 request(s) still in flight after 1 s: cut" in line for line in output)
            assert 1.0 <= took < 3.0, (took, output)

            second = Served(tmp_path, "slow_app:app", "--bind", url.removeprefix("http://"))
            served.append(second)
            second.ready()
            output_of = client.get(f"/restate/invocation/{sent.json()['invocationId']}/attach")
            assert output_of.json() == 3.0


def test_http_1_1_deployments_are_served(tmp_path: Path, served: list[Served]) -> None:
    """The same socket serves Restate's HTTP/1.1 (request-response) mode as well as h2c."""
    (tmp_path / "echo_app.py").write_text(ECHO_APP)
    with RestateServer(always_replay=False) as server:
        s = Served(tmp_path, "echo_app:app", "--bind", "127.0.0.1:0")
        served.append(s)
        _, url = s.ready()
        rea.AdminClient(server.admin_url).register(url, use_http_11=True)
        with httpx.Client(base_url=server.ingress_url, timeout=30) as client:
            for i in range(3):
                assert (
                    client.post("/ServeEcho/say", json=f"over 1.1 #{i}").json() == f"over 1.1 #{i}"
                )


def test_https_with_a_certificate_and_strict_security(tmp_path: Path, served: list[Served]) -> None:
    """--certfile/--keyfile serve TLS: a signing server that trusts the CA runs the app with
    strict security (HTTPS required), and the certificate's files are checked up front."""
    (tmp_path / "echo_app.py").write_text(ECHO_APP)
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    ca_file, cert, key = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    env = {"SSL_CERT_FILE": str(ca_file)}
    with RestateServer(always_replay=False, signing_key=True, env=env) as server:
        assert server.identity_key is not None
        s = Served(
            tmp_path,
            "echo_app:app",
            "--bind",
            "127.0.0.1:0",
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
            env={"REA_IDENTITY_KEYS": server.identity_key},  # strict, HTTPS required
        )
        served.append(s)
        _, url = s.ready()
        assert url.startswith("https://127.0.0.1:")
        rea.AdminClient(server.admin_url).register(url)
        with httpx.Client(base_url=server.ingress_url, timeout=30) as client:
            assert client.post("/ServeEcho/say", json="over TLS").json() == "over TLS"
        # Security is on in the workers: a request that Restate did not sign is refused.
        direct = httpx.post(
            f"{url}/invoke/ServeEcho/say",
            content=b"",
            verify=ssl.create_default_context(cafile=str(ca_file)),
        )
        assert direct.status_code == 401
        assert "identity.missing" in direct.text
    alone = subprocess.run(
        [sys.executable, "-m", "rea", "serve", "echo_app:app", "--certfile", str(cert)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert alone.returncode == 2
    assert "--certfile and --keyfile go together" in alone.stdout + alone.stderr
