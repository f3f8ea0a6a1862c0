"""Harnesses in parallel do not collide, and an interrupted test run leaves no process behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.integration.test_harness import _running

APP = """
import restate

svc = restate.Service("Probe")


@svc.handler()
async def ping(ctx: restate.Context) -> str:
    return "pong"


app = restate.app([svc])
"""

PARALLEL_TEST = """
import json, os, time
from pathlib import Path


def test_parallel(rea_harness, restate_server):
    h = rea_harness("probe_app:app")
    assert h.client.post("/Probe/ping").json() == "pong"
    me = os.environ["PYTEST_XDIST_WORKER"]
    out = Path(os.environ["REA_TEST_OUT"])
    record = {
        "ports": list(restate_server.ports) + [int(h.app_url.rsplit(":", 1)[1])],
        "base_dir": str(restate_server.base_dir),
        "pids": [restate_server.pid, h.app_pid],
    }
    (out / f"{me}.json").write_text(json.dumps(record))
    # Both workers must be up at the same time: wait for the other one.
    deadline = time.monotonic() + 60
    while len(list(out.glob("*.json"))) < 2:
        assert time.monotonic() < deadline, "the other worker never ran concurrently"
        time.sleep(0.05)
    assert h.client.post("/Probe/ping").json() == "pong"
"""

SLEEPING_TEST = """
import json, os, time
from pathlib import Path


def test_sleeps(rea_harness, restate_server):
    h = rea_harness("probe_app:app")
    assert h.client.post("/Probe/ping").json() == "pong"
    record = {"pids": [restate_server.pid, h.app_pid], "base_dir": str(restate_server.base_dir)}
    Path(os.environ["REA_TEST_OUT"], "pids.json").write_text(json.dumps(record))
    time.sleep(120)
"""


def _pytest(tmp_path: Path, test_source: str, *args: str) -> subprocess.Popen[bytes]:
    (tmp_path / "probe_app.py").write_text(APP)
    (tmp_path / "test_probe.py").write_text(textwrap.dedent(test_source))
    out = tmp_path / "out"
    out.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_probe.py"],
        cwd=tmp_path,
        env={**_env(), "REA_TEST_OUT": str(out), "PYTHONPATH": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


def test_two_xdist_workers_run_separate_harnesses(tmp_path: Path) -> None:
    """Two pytest-xdist workers each run a server and an app at once, on distinct ports and dirs."""
    proc = _pytest(tmp_path, PARALLEL_TEST, "-n", "2", "--dist", "each")
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output.decode()
    records = [json.loads(p.read_text()) for p in sorted((tmp_path / "out").glob("*.json"))]
    assert len(records) == 2
    first, second = records
    assert not set(first["ports"]) & set(second["ports"])
    assert first["base_dir"] != second["base_dir"]
    for record in records:
        assert not Path(record["base_dir"]).exists()
        for pid in record["pids"]:
            assert not _running(pid)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_leaves_no_process(tmp_path: Path, sig: signal.Signals) -> None:
    """After SIGINT or SIGTERM to pytest, its restate-server and app processes are gone."""
    proc = _pytest(tmp_path, SLEEPING_TEST)
    pids_file = tmp_path / "out" / "pids.json"
    deadline = time.monotonic() + 60
    while not pids_file.exists():
        assert proc.poll() is None, proc.communicate()[0].decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.1)
    record = json.loads(pids_file.read_text())
    assert all(_running(pid) for pid in record["pids"])
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in record["pids"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in record["pids"] if _running(pid)]
    assert not Path(record["base_dir"]).exists()
