"""`rea invocations` end to end on a real server; one line and exit 2 / 1 on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.cli.test_register import app, one_error_line, run_rea, unused_url


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(app)


def _rows(stdout: str) -> dict[str, list[str]]:
    """Table rows by invocation id (the header row under "id")."""
    return {line.split()[0]: line.split() for line in stdout.strip().splitlines()}


def test_lists_invocations_with_filters(h: Harness, tmp_path: Path) -> None:
    greeted = h.client.post("/AdminProbe/echo", json="Ada").headers["x-restate-id"]
    added = h.client.post("/AdminCounter/inv/add", json=1).headers["x-restate-id"]
    refused = h.client.post("/AdminProbe/refuse", json="no").headers["x-restate-id"]
    admin = ["--admin", h.admin_url]

    result = run_rea("invocations", "--service", "AdminProbe", *admin, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows["id"] == ["id", "target", "status", "created", "modified", "retries", "failure"]
    assert greeted in rows
    assert refused in rows
    assert added not in rows
    assert rows[greeted][1:4] == ["AdminProbe/echo", "completed", "(success)"]
    refused_line = next(line for line in result.stdout.splitlines() if refused in line)
    assert "completed (failure)" in refused_line
    assert "[422] refused: no" in refused_line

    keyed = run_rea("invocations", "--service", "AdminCounter", "--status", "completed", *admin,
                    cwd=tmp_path)  # fmt: skip
    assert _rows(keyed.stdout)[added][1] == "AdminCounter/inv/add"

    newest = run_rea("invocations", "--limit", "1", *admin, cwd=tmp_path)
    assert len(_rows(newest.stdout)) == 2  # the header and one row


def test_no_invocations(h: Harness, tmp_path: Path) -> None:
    result = run_rea("invocations", "--status", "paused", "--service", "AdminProbe",
                     "--admin", h.admin_url, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No invocations."


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--status", "sleeping"], "unknown status 'sleeping': use one of pending,"),
        (["--limit", "0"], "--limit must be at least 1, not 0"),
        (["--admin", "not a url"], "--admin: not an http(s) URL"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    assert expected in one_error_line(run_rea("invocations", *args, cwd=tmp_path), 2)


def test_unreachable_admin_is_one_line_and_exit_1(tmp_path: Path) -> None:
    admin = unused_url()
    line = one_error_line(run_rea("invocations", "--admin", admin, cwd=tmp_path), 1)
    assert f"cannot reach the Restate admin API at {admin}" in line
