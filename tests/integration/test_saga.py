"""Sagas on a real server under always-replay, side effects in a sqlite ledger outside the app."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory

APP = "tests.integration.apps.saga_app:app"


def _rows(ledger: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(ledger) as db:
        try:
            return list(db.execute(sql, args).fetchall())
        except sqlite3.OperationalError:  # the app has not created its tables yet
            return []


def _ledger(ledger: Path, saga: str) -> list[str]:
    return [
        r[0] for r in _rows(ledger, "SELECT kind FROM ledger WHERE saga = ? ORDER BY rowid", saga)
    ]


def _attempts(ledger: Path, kind: str) -> int:
    return _rows(ledger, "SELECT count(*) FROM attempts WHERE kind = ?", kind)[0][0]


def test_failure_compensates_lifo_once_and_reraises(h: Harness, ledger: Path) -> None:
    """Step 3 failing: compensations run LIFO, once each, and the caller gets 422."""
    response = h.client.post("/SagaOrder/s1/run", json={"fail_at": "ship"})
    assert response.status_code == 422
    assert response.json()["message"] == "ship refused"
    assert _ledger(ledger, "s1") == [
        "reserve",
        "charge",
        "undo ship",
        "undo charge",
        "undo reserve",
    ]


def test_completed_strategy_skips_the_failing_step(h: Harness, ledger: Path) -> None:
    """COMPLETED compensates only the steps whose action finished."""
    response = h.client.post("/SagaOrder/s2/run", json={"fail_at": "ship", "strategy": "completed"})
    assert response.status_code == 422
    assert _ledger(ledger, "s2") == ["reserve", "charge", "undo charge", "undo reserve"]


def _letters(h: Harness, saga: str, count: int = 0) -> list[dict[str, Any]]:
    """The dead letters of `saga`, once at least `count` arrived (they are one-way sends)."""
    deadline = time.monotonic() + 10
    while True:
        letters: list[dict[str, Any]] = h.client.post("/SagaDeadLetters/order/list").json()
        mine = [x for x in letters if x["payload"]["saga"] == saga]
        if len(mine) >= count or time.monotonic() > deadline:
            return mine
        time.sleep(0.05)


def test_best_effort_dead_letters_and_goes_on(h: Harness, ledger: Path) -> None:
    """BEST_EFFORT: a compensation that keeps failing is dead-lettered; older ones still run."""
    plan = {"fail_at": "ship", "strategy": "best_effort", "broken_compensation": "charge"}
    assert h.client.post("/SagaOrder/s3/run", json=plan).status_code == 422
    assert _ledger(ledger, "s3") == ["reserve", "charge", "undo ship", "undo reserve"]
    letters = _letters(h, "s3", 1)
    assert [(x["step"], x["error"] is not None) for x in letters] == [("charge", True)]
    assert _attempts(ledger, "undo charge") == 3  # the saga's retry policy: 3 attempts


def test_all_strategy_parks_the_rest_after_a_broken_compensation(h: Harness, ledger: Path) -> None:
    """ALL stops at a compensation that keeps failing and parks it and the older steps."""
    plan = {"fail_at": "ship", "broken_compensation": "charge"}
    assert h.client.post("/SagaOrder/s4/run", json=plan).status_code == 422
    assert _ledger(ledger, "s4") == ["reserve", "charge", "undo ship"]
    letters = _letters(h, "s4", 2)
    assert [(x["step"], x["error"] is None) for x in letters] == [
        ("charge", False),
        ("reserve", True),
    ]


def test_until_success_retries_a_flaky_compensation(h: Harness, ledger: Path) -> None:
    """UNTIL_SUCCESS: a compensation failing 4 times then succeeding ends compensated."""
    plan = {"fail_at": "ship", "strategy": "until_success", "flaky_compensation": "charge"}
    assert h.client.post("/SagaOrder/s5/run", json=plan).status_code == 422
    assert _ledger(ledger, "s5") == [
        "reserve",
        "charge",
        "undo ship",
        "undo charge",
        "undo reserve",
    ]
    assert _attempts(ledger, "undo charge") == 5
    assert _letters(h, "s5") == []


def test_transient_action_failure_is_retried_not_compensated(h: Harness, ledger: Path) -> None:
    """A transient failure in an action is retried and the saga completes."""
    response = h.client.post("/SagaOrder/s6/run", json={"transient_at": "charge"})
    assert response.json() == "completed"
    assert _ledger(ledger, "s6") == ["reserve", "charge", "ship"]
    assert _attempts(ledger, "charge") == 3


def test_cancellation_compensates_completed_steps(h: Harness, ledger: Path) -> None:
    """Cancelling a running saga workflow through the admin API compensates what was done."""
    sent = h.client.post("/SagaOrder/s7/run/send", json={"pause_after": "charge"}).json()
    deadline = time.monotonic() + 15
    while _ledger(ledger, "s7") != ["reserve", "charge"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    h.admin.patch(f"/invocations/{sent['invocationId']}/cancel").raise_for_status()
    result = h.client.get("/restate/workflow/SagaOrder/s7/attach")
    assert result.status_code == 409
    assert _ledger(ledger, "s7") == ["reserve", "charge", "undo charge", "undo reserve"]


@pytest.mark.parametrize(
    ("path", "key"), [("/SagaService/place", None), ("/SagaCart/c1/checkout", "c1")]
)
def test_sagas_work_in_services_and_objects(
    h: Harness, ledger: Path, path: str, key: str | None
) -> None:
    """The same saga runs in a plain service and in an exclusive object handler."""
    response = h.client.post(path, json={"fail_at": "charge"})
    assert response.status_code == 422
    saga = key or response.headers["x-restate-id"]
    assert _ledger(ledger, saga) == ["reserve", "undo charge", "undo reserve"]


def test_dead_letter_outlives_the_workflow_and_retries(h: Harness, ledger: Path) -> None:
    """A dead letter survives the workflow's end; retry runs the compensation and removes it."""
    plan = {"fail_at": "ship", "strategy": "best_effort", "broken_compensation": "charge"}
    assert h.client.post("/SagaOrder/s8/run", json=plan).status_code == 422
    status = h.query(
        "SELECT status FROM sys_invocation WHERE target_service_name = 'SagaOrder' "
        "AND target_service_key = 's8' AND target_handler_name = 'run'"
    )
    assert status == [{"status": "completed"}]
    (letter,) = _letters(h, "s8", 1)
    # Still broken: the retry fails and the letter stays, with the new error.
    assert (
        h.client.post("/SagaDeadLetters/order/retry", json=letter["id"]).json().startswith("failed")
    )
    # Nobody can mend a letter through the ingress; the operator repairs the downstream system.
    refused = h.client.post("/SagaDeadLetters/order/add", json=letter)
    assert refused.status_code == 400
    with sqlite3.connect(ledger) as db:
        db.execute("INSERT INTO mended VALUES (?)", (letter["idempotency_key"],))
    assert h.client.post("/SagaDeadLetters/order/retry", json=letter["id"]).json() == "compensated"
    assert "undo charge" in _ledger(ledger, "s8")
    assert _letters(h, "s8") == []


def test_repeated_step_gets_its_own_keys(h: Harness, ledger: Path) -> None:
    """The same step added 3 times: 3 action keys, 3 compensations with 3 distinct keys."""
    response = h.client.post("/SagaRepeat/charges", json={})
    assert response.status_code == 422
    saga = response.headers["x-restate-id"]
    rows = _rows(ledger, "SELECT kind, key FROM ledger WHERE saga = ? ORDER BY rowid", saga)
    assert [kind for kind, _ in rows] == ["charge"] * 3 + ["undo charge"] * 3
    assert len({key for _, key in rows}) == 6


def test_repeated_step_leaves_a_dead_letter_per_occurrence(h: Harness, ledger: Path) -> None:
    """3 occurrences whose compensations all fail leave 3 dead letters with 3 ids."""
    plan = {"strategy": "best_effort", "broken_compensation": "charge"}
    response = h.client.post("/SagaRepeat/charges", json=plan)
    assert response.status_code == 422
    saga = response.headers["x-restate-id"]
    deadline = time.monotonic() + 10
    while True:
        listed = h.client.post("/SagaDeadLetters/repeat/list").json()
        letters = [x for x in listed if x["origin"] == saga]
        if len(letters) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sorted(x["occurrence"] for x in letters) == [1, 2, 3]
    assert len({x["id"] for x in letters}) == 3
    assert len({x["idempotency_key"] for x in letters}) == 3
    assert _attempts(ledger, "undo charge") == 9  # 3 keys, each with the saga's 3 attempts


def _journal_size(h: Harness, invocation: str) -> int:
    return h.query(f"SELECT count(*) AS n FROM sys_journal WHERE id = '{invocation}'")[0]["n"]


def test_saga_journals_like_the_hand_written_pattern(h: Harness) -> None:
    """A failing 3-step rea saga journals as many entries as the hand-written pattern."""
    rea_call = h.client.post("/SagaJournal/with_rea")
    hand_call = h.client.post("/SagaJournal/by_hand")
    assert rea_call.status_code == hand_call.status_code == 422
    rea_size = _journal_size(h, rea_call.headers["x-restate-id"])
    hand_size = _journal_size(h, hand_call.headers["x-restate-id"])
    assert rea_size == hand_size
    assert rea_size > 8


def test_saga_guards(rea_harness: HarnessFactory, ledger: Path) -> None:
    """add() without a registered compensation fails before the action; data plane refuses."""
    m = rea_harness(
        "tests.integration.apps.saga_app:misuse_app", app_env={"REA_LEDGER": str(ledger)}
    )
    response = m.client.post("/SagaMisuse/unregistered", json="g1")
    assert response.status_code == 500
    assert "[saga.unregistered_step]" in response.json()["message"]
    assert _ledger(ledger, "g1") == []  # the action never ran
    response = m.client.post("/SagaDataPlane/orchestrate")
    assert response.status_code == 500
    assert "[plane.orchestration_in_data_plane]" in response.json()["message"]
