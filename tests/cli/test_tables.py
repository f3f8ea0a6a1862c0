"""Listings: ids printed whole at any width and when piped, `--json`, retries that count retries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rea.admin import AdminClient, InvocationInfo
from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.cli.test_register import SERVER_VARIABLES, app, run_rea
from tests.integration.test_admin import HEALED


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(app)


def _piped(command: str, cwd: Path, columns: str | None) -> str:
    """stdout of ``python -m rea COMMAND | cat`` with COLUMNS set (or not)."""
    env = {k: v for k, v in os.environ.items() if k not in (*SERVER_VARIABLES, "COLUMNS")}
    if columns is not None:
        env["COLUMNS"] = columns
    shell = f"{sys.executable} -m rea {command} | cat"
    done = subprocess.run(shell, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait(admin: AdminClient, invocation_id: str, done: object) -> InvocationInfo:
    deadline = time.monotonic() + 15
    while True:
        info = admin.invocation(invocation_id)
        if callable(done) and done(info):
            return info
        assert time.monotonic() < deadline, info
        time.sleep(0.1)


@pytest.mark.parametrize("columns", ["80", "40", None])
def test_piped_invocations_print_whole_ids(h: Harness, tmp_path: Path, columns: str | None) -> None:
    key = "a-rather-long-object-key-" * 3
    h.client.post(f"/AdminCounter/{key}/add", json=1)
    h.client.post("/AdminProbe/refuse", json="no " * 40)  # a long failure
    h.client.post("/AdminProbe/echo", json="short")
    listed = run_rea("invocations", "--json", "--limit", "10", "--admin", h.admin_url,
                     cwd=tmp_path)  # fmt: skip
    ids = [info["id"] for info in json.loads(listed.stdout)]
    assert len(ids) >= 3
    out = _piped(f"invocations --limit 10 --admin {h.admin_url}", tmp_path, columns)
    for invocation_id in ids:
        assert re.search(rf"^{invocation_id}\s", out, re.MULTILINE), out


def test_retries_count_retries_and_json_has_attempts(h: Harness, tmp_path: Path) -> None:
    """Restate's retry_count counts attempts: the table shows attempts - 1 as `retries`."""
    admin = h.admin_client
    text = f"retries-{time.monotonic_ns()}"
    flaky = h.client.post("/AdminProbe/flaky/send", json=text).json()["invocationId"]
    napping = h.client.post("/AdminProbe/nap/send").json()["invocationId"]
    done = h.client.post("/AdminProbe/echo", json="x").headers["x-restate-id"]
    _wait(admin, flaky, lambda i: i.status == "backing-off" and i.retry_count >= 3)
    admin.pause(flaky)  # frozen: the count no longer moves between the commands below
    paused = _wait(admin, flaky, lambda i: i.status == "paused")
    _wait(admin, napping, lambda i: i.status == "suspended")
    try:
        args = ["invocations", "--service", "AdminProbe", "--admin", h.admin_url]
        by_id = {i["id"]: i for i in json.loads(run_rea(*args, "--json", cwd=tmp_path).stdout)}
        table = run_rea(*args, cwd=tmp_path).stdout.splitlines()
    finally:
        HEALED.add(text)
        admin.resume(flaky)
        admin.cancel(napping)
    assert paused.retry_count >= 3
    assert by_id[flaky]["attempts"] == paused.retry_count
    assert by_id[flaky]["retries"] == paused.retry_count - 1
    assert "is not healed yet" in by_id[flaky]["last_failure"]
    assert by_id[napping]["retries"] == 0  # its first attempt: no retry yet
    assert (by_id[done]["attempts"], by_id[done]["retries"]) == (None, None)  # count not kept
    header = table[0].split()
    assert header == ["id", "target", "status", "created", "modified", "retries", "failure"]
    flaky_row = next(line for line in table if line.startswith(flaky))
    cells = re.split(r"\s{2,}", flaky_row)  # id, target, status, created, modified, retries...
    assert cells[2] == "paused"
    assert cells[5] == str(paused.retry_count - 1)
    assert set(by_id[done]) >= {"id", "target", "status", "attempts", "retries", "created_at"}
