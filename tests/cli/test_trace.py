"""`rea trace` end to end on a real server: the journal of an invocation as a tree and as JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from rea.cli import _journal
from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.cli.apps.trace_app import app
from tests.cli.test_register import SERVER_VARIABLES, one_error_line, run_rea, unused_url

_ID = re.compile(r"inv_[0-9A-Za-z]+")


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(app)


def _trace(h: Harness, tmp_path: Path, *args: str, columns: int = 250) -> str:
    """`rea trace ARGS` on `h`'s server at a terminal `columns` wide: its stdout."""
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    env.update(COLUMNS=str(columns), NO_COLOR="1")
    command = [sys.executable, "-m", "rea", "trace", *args, "--admin", h.admin_url]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def _line(lines: list[str], text: str) -> int:
    """The number of the one line containing `text`."""
    found = [i for i, line in enumerate(lines) if text in line]
    assert len(found) == 1, (text, lines)
    return found[0]


def test_saga_shows_each_step_and_compensation_in_order(h: Harness, tmp_path: Path) -> None:
    """A failed saga's runs, its transient errors, its compensations (LIFO) and its failure."""
    response = h.client.post("/TraceShop/checkout", json={"id": "A1", "flaky": True})
    assert response.status_code == 422
    invocation = response.headers["x-restate-id"]

    lines = _trace(h, tmp_path, invocation).splitlines()
    assert lines[0].startswith(f"{invocation}  TraceShop/checkout  completed (failure)  ")
    assert lines[0].endswith("  [422] no courier for this address")
    order = [
        "0  input",
        "run reserve",
        "run charge",
        "run ship",
        "run compensate ship (compensation)",
        "run compensate charge (compensation)",
        "run compensate reserve (compensation)",
        "output  [422] no courier for this address",
    ]
    numbers = [_line(lines, text) for text in order]
    assert numbers == sorted(numbers)
    assert "[422] no courier for this address" in lines[numbers[3]]  # the step that failed
    assert "(compensation)" not in " ".join(lines[n] for n in numbers[:4])
    charge = lines[numbers[2]]
    assert charge.endswith("  2 transient errors")
    assert lines[numbers[2] + 1].endswith("transient error [500] RT0007 "
                                          "ConnectionError('card network flaked (1)')")  # fmt: skip
    assert lines[numbers[2] + 2].endswith("ConnectionError('card network flaked (2)')")
    assert lines[-1].startswith("└── ")

    document = json.loads(_trace(h, tmp_path, invocation, "--json"))
    runs = [(e["name"], e["compensation"], e["result"]) for e in document["entries"]
            if e["kind"] == "run"]  # fmt: skip
    assert runs == [
        ("reserve", False, "success"),
        ("charge", False, "success"),
        ("ship", False, "failure"),
        ("compensate ship", True, "success"),
        ("compensate charge", True, "success"),
        ("compensate reserve", True, "success"),
    ]
    charge_entry = document["entries"][2]
    assert [error["message"] for error in charge_entry["transient_errors"]] == [
        "ConnectionError('card network flaked (1)')",
        "ConnectionError('card network flaked (2)')",
    ]
    assert charge_entry["duration_ms"] >= 0
    assert document["entries"][-1]["failure"] == "[422] no courier for this address"
    assert document["completion_failure"] == "[422] no courier for this address"


def _children(h: Harness, parent: str, target: str, count: int = 1) -> list[str]:
    """The ids of the `count` invocations `parent` made to `target`, once they completed."""
    sql = (f"SELECT id, status FROM sys_invocation "
           f"WHERE invoked_by_id = '{parent}' AND target = '{target}'")  # fmt: skip
    deadline = time.monotonic() + 10
    while (rows := h.query(sql)) and any(row["status"] != "completed" for row in rows):
        assert time.monotonic() < deadline, rows  # a send's invocation may still be on its way
        time.sleep(0.05)
    assert len(rows) == count, rows
    return [str(row["id"]) for row in rows]


def test_workflow_shows_sleep_call_send_and_children(h: Harness, tmp_path: Path) -> None:
    """The sleep, the call and the send with each child's id and status; --json has the same."""
    response = h.client.post(f"/TraceFlow/{uuid.uuid4().hex}/run", json=21)
    assert response.json() == 63
    flow = response.headers["x-restate-id"]
    (called,) = _children(h, flow, "TraceHelper/double")
    sent = _children(h, flow, "TraceHelper/note", count=2)  # one now, one 50 ms later

    text = _trace(h, tmp_path, flow)
    lines = text.splitlines()
    assert lines[0].startswith(f"{flow}  TraceFlow/")
    assert "completed (success)" in lines[0]
    sleep = lines[_line(lines, "sleep until ")]
    assert re.search(r"sleep until \d\d:\d\d:\d\d\.\d{3}Z  \d+ms$", sleep), sleep
    call = _line(lines, f"call TraceHelper/double → {called}")
    child = rf"└── {called}  TraceHelper/double  completed \(success\)  \d+ms$"
    assert re.search(child, lines[call + 1]), lines[call + 1]
    sends = [n for n, line in enumerate(lines) if "send TraceHelper/note → " in line]
    assert {_ID.findall(lines[n])[0] for n in sends} == set(sent)
    for n in sends:
        assert f"{_ID.findall(lines[n])[0]}  TraceHelper/note  completed (success)" in lines[n + 1]
    delayed = [n for n in sends if re.search(r" at \d\d:\d\d:\d\d\.\d{3}Z$", lines[n])]
    assert len(delayed) == 1, [lines[n] for n in sends]
    for text_ in ("set state seen", "complete promise ready", "get promise ready",
                  "complete awakeable sign_", "awakeable resolved", "get state seen"):  # fmt: skip
        _line(lines, text_)
    assert re.fullmatch(r"└── \d+  output  success", lines[-1]), lines[-1]

    document = json.loads(_trace(h, tmp_path, flow, "--json"))
    assert document["id"] == flow
    entries = document["entries"]
    # The same entries as the tree, in the same order (the tree's lines start with the index).
    shown = [int(m.group(1)) for line in lines[1:] if (m := re.match(r"[├└]── (\d+)  ", line))]
    assert [e["index"] for e in entries] == shown
    call_entry = next(e for e in entries if e["kind"] == "call")
    assert call_entry["target"] == "TraceHelper/double"
    assert call_entry["invocation_id"] == called
    assert call_entry["child"]["status"] == "completed"
    assert call_entry["child"]["completion_result"] == "success"
    assert call_entry["child"]["invoked_by_id"] == flow
    assert call_entry["child"]["entries"] is None  # --depth 1: its status only
    send_entries = [e for e in entries if e["kind"] == "send"]
    assert {e["invocation_id"] for e in send_entries} == set(sent)
    assert [e["wake_up_at"] is None for e in send_entries] == [True, False]
    sleep_entry = next(e for e in entries if e["kind"] == "sleep")
    assert sleep_entry["result"] == "success"
    assert sleep_entry["duration_ms"] >= 150  # it slept 200 ms (times are in milliseconds)
    assert set(sleep_entry) == set(call_entry)  # every entry has every key

    deep = json.loads(_trace(h, tmp_path, flow, "--json", "--depth", "2"))
    child_entries = next(e for e in deep["entries"] if e["kind"] == "call")["child"]["entries"]
    assert [e["kind"] for e in child_entries] == ["input", "output"]
    flat = _trace(h, tmp_path, flow, "--depth", "0").splitlines()
    assert not any(line.lstrip("│ ").startswith("└── inv_") for line in flat)
    assert any(called in line for line in flat)  # the call still names its child


def test_free_standing_transient_error_and_a_waiting_sleep(h: Harness, tmp_path: Path) -> None:
    """A handler's own transient error sits where it happened; a pending sleep says so."""
    wobbly = h.client.post("/TraceShop/wobbly")
    assert wobbly.json() == "steady"
    lines = _trace(h, tmp_path, wobbly.headers["x-restate-id"]).splitlines()
    before, output = _line(lines, "run before"), _line(lines, "output")
    # One failed attempt per error (the first attempt, under always-replay, suspends after the
    # run instead: its error is the second); each on its own line, where it happened.
    errors = [n for n, line in enumerate(lines) if "transient error" in line]
    assert errors
    assert all(before < n < output for n in errors)
    for n in errors:
        assert re.search(r"── transient error  \[500\] RuntimeError\('wobbled \d'\)$", lines[n])

    napping = h.client.post("/TraceShop/nap/send").json()["invocationId"]
    try:
        for _ in range(50):
            lines = _trace(h, tmp_path, napping).splitlines()
            if "suspended" in lines[0]:
                break
            time.sleep(0.1)
        assert lines[0].startswith(f"{napping}  TraceShop/nap  suspended")
        assert re.search(r"└── 1  sleep until \S+Z  pending$", lines[-1]), lines
    finally:
        h.admin_client.kill(napping)


def test_ids_stay_whole_on_a_narrow_terminal(h: Harness, tmp_path: Path) -> None:
    """At 40 columns the other text folds, but every id is printed whole."""
    response = h.client.post(f"/TraceFlow/{uuid.uuid4().hex}/run", json=1)
    flow = response.headers["x-restate-id"]
    (called,) = _children(h, flow, "TraceHelper/double")
    narrow = _trace(h, tmp_path, flow, "--depth", "2", columns=40)
    ids = set(_ID.findall(narrow))
    assert {flow, called} <= ids
    assert all(len(i) == len(flow) for i in ids)  # none cut
    assert max(len(line) for line in narrow.splitlines()) <= 4 * 2 + len(flow) + 2


def test_unknown_or_malformed_id_is_one_line_and_exit_2(h: Harness, tmp_path: Path) -> None:
    """A purged invocation, an id the server cannot decode, or no id at all: exit 2."""
    gone = h.client.post("/TraceHelper/double", json=2).headers["x-restate-id"]
    h.admin_client.purge(gone)
    admin = ("--admin", h.admin_url)
    line = one_error_line(run_rea("trace", gone, *admin, cwd=tmp_path), 2)
    assert f"invocation '{gone}' does not exist" in line
    line = one_error_line(run_rea("trace", "inv_1nope", *admin, cwd=tmp_path), 2)
    assert line == "rea: error: 'inv_1nope' is not a valid invocation id"
    line = one_error_line(run_rea("trace", "checkout-42", *admin, cwd=tmp_path), 2)
    assert line == "rea: error: 'checkout-42' is not an invocation id (inv_...)"
    line = one_error_line(run_rea("trace", gone, "--depth", "-1", *admin, cwd=tmp_path), 2)
    assert line == "rea: error: --depth cannot be negative, not -1"


def test_unreachable_admin_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """No server at the admin URL: one line naming it, exit 1."""
    admin = unused_url()
    invocation = "inv_1crRlFm3LAfH1xOFbOfjoGHlQGlTELZAAH"
    line = one_error_line(run_rea("trace", invocation, "--admin", admin, cwd=tmp_path), 1)
    assert f"cannot reach the Restate admin API at {admin}" in line


def _row(index: int, entry_type: str, lite: dict[str, Any], at: str) -> dict[str, Any]:
    """A ``sys_journal`` row as the admin API answers it."""
    return {"index": index, "entry_type": entry_type, "appended_at": f"2026-01-02T03:04:{at}Z",
            "entry_lite_json": json.dumps(lite)}  # fmt: skip


def test_entries_of_rows_the_tests_above_do_not_make() -> None:
    """A dead letter's retry run, a cancellation signal and a pause, from rows of their shapes."""
    run = {"Command": {"Run": {"completion_id": 1, "name": "retry abc #2"}}}
    done = {"Notification": {"ty": {"Completion": "Run"}, "id": {"CompletionId": 1},
                             "result": "Success"}}  # fmt: skip
    cancel = {"Notification": {"ty": "Signal", "id": {"SignalIndex": 1}, "result": "Void"}}
    rows = [
        _row(0, "Command: Input", {"Command": {"Input": {}}}, "05.000"),
        _row(1, "Command: Run", run, "05.010"),
        _row(2, "Notification: Run", done, "05.250"),
        _row(3, "Notification: Signal", cancel, "06.000"),
    ]
    paused = {"ty": "Paused", "last_failure": {"error_code": 500, "error_message": "boom"}}
    events = [{"after_journal_entry_index": 2, "appended_at": "2026-01-02T03:04:05.500Z",
               "event_type": "Paused", "event_json": json.dumps(paused)}]  # fmt: skip

    entries = _journal._entries(rows, events, service="SagaDeadLetters")
    assert [e["kind"] for e in entries] == ["input", "run", "paused", "cancelled"]
    retry = entries[1]
    assert retry["compensation"] is True
    assert retry["duration_ms"] == 240
    assert retry["completed_at"] == "2026-01-02T03:04:05.250000+00:00"
    assert entries[2]["failure"] == "[500] boom"
    assert entries[2]["index"] is None
    elsewhere = _journal._entries(rows, [], service="Checkout")
    assert elsewhere[1]["compensation"] is False  # "retry ..." runs elsewhere are the app's own
