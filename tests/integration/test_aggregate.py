"""rea.aggregate on a real server under always-replay: five named calls, one failing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from rea.testing import Harness

APP = "tests.integration.apps.breaker_app:app"


@pytest.fixture(autouse=True)
def _no_retries(h: Harness) -> Iterator[None]:
    """After each test: calls left pending have finished, and nothing failed transiently."""
    yield
    # A quorum or a failure returns before the slowest calls end; they must not outlive the
    # app (they would retry against it forever, and the check below would see that).
    deadline = time.monotonic() + 10
    while h.query(
        "SELECT id FROM sys_invocation WHERE target_service_name = 'AggWorker' "
        "AND status != 'completed'"
    ):
        assert time.monotonic() < deadline, "AggWorker calls still running"
        time.sleep(0.05)
    rows = h.query(
        "SELECT e.event_type FROM sys_journal_events e JOIN sys_invocation i ON e.id = i.id "
        "WHERE i.target_service_name IN ('Aggregator', 'AggWorker')"
    )
    assert [r for r in rows if "Transient" in str(r.get("event_type"))] == []


FIVE: list[dict[str, Any]] = [
    {"name": "a", "delay_ms": 300},
    {"name": "bb"},
    {"name": "ccc", "fail": True, "delay_ms": 100},
    {"name": "dddd", "delay_ms": 200},
    {"name": "eeeee"},
]


def _fan_in(h: Harness, policy: str | int, jobs: list[dict[str, Any]] = FIVE) -> dict[str, Any]:
    response = h.client.post("/Aggregator/fan_in", json={"jobs": jobs, "policy": policy})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_best_effort_returns_four_values_and_one_named_error(h: Harness) -> None:
    """Best-effort waits for all five: four typed values in input order, one error by name."""
    result = _fan_in(h, "best_effort")
    assert list(result["values"]) == ["a", "bb", "dddd", "eeeee"]
    assert result["values"]["dddd"] == ["Receipt", 4]
    assert result["errors"] == {"ccc": [502, "ccc failed"]}
    assert result["pending"] == []


def test_quorum_three_succeeds_without_waiting_for_the_slowest(h: Harness) -> None:
    """Quorum(3) returns once three succeeded; the 300 ms call is left pending."""
    result = _fan_in(h, 3)
    assert len(result["values"]) >= 3
    assert all(kind == "Receipt" for kind, _ in result["values"].values())
    assert "a" in result["pending"]
    names = [job["name"] for job in FIVE]
    assert list(result["values"]) == [n for n in names if n in result["values"]]


def test_all_or_nothing_raises_the_failure(h: Harness) -> None:
    """All-or-nothing raises as soon as ccc fails, with its status and name."""
    result = _fan_in(h, "all")
    assert result["raised"] == [502, "rea.aggregate(): a future failed: 'ccc': [502] ccc failed"]
    assert result["errors"] == {"ccc": "ccc failed"}
    assert "a" not in result["succeeded"]  # fail-fast: the 300 ms call was not waited for


def test_a_quorum_that_cannot_be_met_raises(h: Harness) -> None:
    """Quorum(5) with one failure can never be met: it raises once the failure arrives."""
    result = _fan_in(h, 5)
    assert result["raised"][0] == 502
    assert "Quorum(5) cannot be met" in result["raised"][1]


def test_all_succeeding_returns_every_value_in_order(h: Harness) -> None:
    """With no failure, "all" returns the five values in input order."""
    jobs = [{**job, "fail": False} for job in FIVE]
    result = _fan_in(h, "all", jobs)
    assert list(result["values"]) == ["a", "bb", "ccc", "dddd", "eeeee"]
    assert result["errors"] == {}
