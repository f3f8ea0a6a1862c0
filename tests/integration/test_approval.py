"""Human approvals on a real server: notify once, answer from outside, time out, escalate."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import rea
from rea.testing import Harness, RestateServer
from rea.testing.pytest_plugin import HarnessFactory

APP = "tests.integration.apps.approval_app:app"


def _asked(ledger: Path, invocation: str) -> list[tuple[str, int]]:
    try:
        with sqlite3.connect(ledger) as db:
            rows = db.execute(
                "SELECT awakeable, escalation FROM asked WHERE invocation = ? ORDER BY rowid",
                (invocation,),
            ).fetchall()
    except sqlite3.OperationalError:  # the app has not created its table yet
        return []
    return [(str(a), int(e)) for a, e in rows]


def _start(h: Harness, ledger: Path, workflow_id: str, **expense: Any) -> tuple[str, str]:
    """Submit an expense; its invocation id and the awakeable id `notify` was given."""
    sent = h.client.post(f"/Expenses/{workflow_id}/run/send", json={"amount": 10, **expense})
    invocation = sent.json()["invocationId"]
    deadline = time.monotonic() + 20
    while not (asked := _asked(ledger, invocation)):
        assert time.monotonic() < deadline, "notify was not called"
        time.sleep(0.05)
    return invocation, asked[0][0]


def _result(h: Harness, workflow_id: str) -> dict[str, Any]:
    response = h.client.get(f"/restate/workflow/Expenses/{workflow_id}/attach")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_approved_from_outside_before_the_timeout(h: Harness, ledger: Path) -> None:
    """An approver's answer through the ingress client wins over the timeout."""
    invocation, awakeable = _start(h, ledger, "e1", timeout_ms=30_000)
    with rea.SyncIngressClient(h.ingress_url) as client:
        client.resolve_awakeable(awakeable, {"approved": True, "approver": "ann", "reason": "ok"})
    assert _result(h, "e1") == {
        "outcome": "approved",
        "approver": "ann",
        "reason": "ok",
        "escalated": False,
    }
    assert _asked(ledger, invocation) == [(awakeable, 0)]


def test_rejected_with_a_reason(h: Harness, ledger: Path) -> None:
    """A rejected awakeable (or approved=false) is a rejection with its reason."""
    _, awakeable = _start(h, ledger, "e2", timeout_ms=30_000)
    with rea.SyncIngressClient(h.ingress_url) as client:
        client.reject_awakeable(awakeable, "too expensive")
    result = _result(h, "e2")
    assert (result["outcome"], result["reason"]) == ("rejected", "too expensive")


def test_timeout_escalates_then_times_out_and_a_late_answer_is_ignored(
    h: Harness, ledger: Path
) -> None:
    """No answer: escalate after the first timeout, timed out after the second; a late
    answer is accepted by Restate and changes nothing."""
    started = time.monotonic()
    invocation, awakeable = _start(h, ledger, "e3", timeout_ms=1000, escalate=True)
    result = _result(h, "e3")
    assert time.monotonic() - started >= 2.0
    assert result == {"outcome": "timed_out", "approver": None, "reason": None, "escalated": True}
    assert _asked(ledger, invocation) == [(awakeable, 0), (awakeable, 1)]
    with rea.SyncIngressClient(h.ingress_url) as client:
        client.resolve_awakeable(awakeable, {"approved": True, "approver": "late"})
    assert _result(h, "e3")["outcome"] == "timed_out"


def test_rea_approve_answers_from_the_command_line(h: Harness, ledger: Path) -> None:
    """`rea approve ID --reject --reason ...` from a shell is a rejection with that reason."""
    _, awakeable = _start(h, ledger, "e5", timeout_ms=30_000)
    answered = subprocess.run(
        [sys.executable, "-m", "rea", "approve", awakeable, "--reject", "--approver", "cfo",
         "--reason", "over budget", "--ingress", h.ingress_url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.strip() == "rejected"
    assert _result(h, "e5") == {
        "outcome": "rejected",
        "approver": "cfo",
        "reason": "over budget",
        "escalated": False,
    }


def test_timeout_without_escalation(h: Harness, ledger: Path) -> None:
    """Without escalate, the first timeout ends the wait."""
    invocation, _ = _start(h, ledger, "e4", timeout_ms=500)
    assert _result(h, "e4")["outcome"] == "timed_out"
    assert len(_asked(ledger, invocation)) == 1


def test_approval_in_a_data_plane_service_is_a_violation(h: Harness) -> None:
    """Waiting for a person in a data-plane service is plane.orchestration_in_data_plane."""
    response = h.client.post("/PettyCash/spend")
    assert response.status_code == 500
    assert "[plane.orchestration_in_data_plane]" in response.json()["message"]


def test_a_day_of_sleep_and_two_48h_deadlines_take_seconds_under_scaled_time(
    rea_harness: HarnessFactory, ledger: Path
) -> None:
    """Scaled test time: 24 h asleep, then 48 h + 48 h (escalation) with no answer, in < 10 s,
    journaled like an unscaled run of the same workflow."""
    day, two_days = 24 * 3600 * 1000, 48 * 3600 * 1000
    scaled = rea_harness(APP, app_env={"REA_LEDGER": str(ledger)}, time_scale=1e-5)
    started = time.monotonic()
    invocation, _ = _start(scaled, ledger, "s1", sleep_ms=day, timeout_ms=two_days, escalate=True)
    assert _result(scaled, "s1")["outcome"] == "timed_out"
    assert time.monotonic() - started < 10
    short = rea_harness(APP, app_env={"REA_LEDGER": str(ledger)}, time_scale=1.0)
    other, _ = _start(short, ledger, "s2", sleep_ms=10, timeout_ms=50, escalate=True)
    assert _result(short, "s2")["outcome"] == "timed_out"

    def shape(h: Harness, invocation: str) -> list[str]:
        rows = h.query(
            f"SELECT entry_type FROM sys_journal WHERE id = '{invocation}' ORDER BY index"
        )
        return [row["entry_type"] for row in rows]

    assert shape(scaled, invocation) == shape(short, other)
    assert shape(scaled, invocation).count("Command: Sleep") == 3


def test_notify_runs_once_across_app_kills(ledger: Path) -> None:
    """Three SIGKILLs of the app while it waits: notify was called exactly once."""
    retries = {"RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "100"}
    with (
        RestateServer(env=retries) as server,
        Harness(APP, server=server, app_env={"REA_LEDGER": str(ledger)}) as h,
    ):
        invocation, awakeable = _start(h, ledger, "k1", timeout_ms=60_000)
        for _ in range(3):
            h.kill()
            time.sleep(0.3)
            h.restart()
            time.sleep(0.3)
        with rea.SyncIngressClient(h.ingress_url) as client:
            client.resolve_awakeable(awakeable, {"approved": True, "approver": "bob"})
        assert _result(h, "k1")["approver"] == "bob"
        assert _asked(ledger, invocation) == [(awakeable, 0)]
