"""rea.CircuitBreaker on a real server under always-replay; the dependency counts its calls."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from rea.testing import Harness

APP = "tests.integration.apps.breaker_app:app"


COOL_DOWN = 2.0  # breaker_app.BREAKER.cool_down, in seconds
SERVICES = "'BreakerCaller', 'BreakerDependency', 'rea.CircuitBreaker'"


@pytest.fixture(autouse=True)
def _no_retries(h: Harness) -> Iterator[None]:
    """After each test: outcomes sent have arrived, and nothing failed transiently."""
    yield
    # Outcomes are one-way sends: let them land before the app stops (else they would retry
    # against it forever, and the check below would see that).
    deadline = time.monotonic() + 10
    while h.query(
        f"SELECT id FROM sys_invocation WHERE target_service_name IN ({SERVICES}) "
        "AND status != 'completed'"
    ):
        assert time.monotonic() < deadline, "breaker invocations still running"
        time.sleep(0.05)
    rows = h.query(
        "SELECT e.event_type FROM sys_journal_events e JOIN sys_invocation i ON e.id = i.id "
        f"WHERE i.target_service_name IN ({SERVICES})"
    )
    assert [r for r in rows if "Transient" in str(r.get("event_type"))] == []


def _set_mode(ledger: Path, dep: str, mode: str, slow_ms: int = 0) -> None:
    with sqlite3.connect(ledger, isolation_level=None) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS modes (dep TEXT PRIMARY KEY, mode TEXT, slow_ms INT)"
        )
        db.execute("INSERT OR REPLACE INTO modes VALUES (?, ?, ?)", (dep, mode, slow_ms))


def _touched(ledger: Path, dep: str) -> int:
    with sqlite3.connect(ledger) as db:
        try:
            return int(db.execute("SELECT count(*) FROM calls WHERE dep = ?", (dep,)).fetchone()[0])
        except sqlite3.OperationalError:  # nothing touched yet: no table
            return 0


def _state(h: Harness, dep: str) -> dict[str, Any]:
    response = h.client.post(f"/rea.CircuitBreaker/{dep}/state")
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


def _wait_state(h: Harness, dep: str, phase: str) -> dict[str, Any]:
    """The breaker's state once it is `phase` (outcomes arrive as one-way sends)."""
    deadline = time.monotonic() + 10
    while True:
        state = _state(h, dep)
        if state["state"] == phase or time.monotonic() > deadline:
            assert state["state"] == phase, state
            return state
        time.sleep(0.05)


def _open(h: Harness, ledger: Path, dep: str, path: str = "/BreakerCaller/pay") -> None:
    """Three failing calls (the threshold), then wait until the breaker has counted them."""
    _set_mode(ledger, dep, "fail")
    for _ in range(3):
        assert h.client.post(path, json=dep).status_code == 500
    _wait_state(h, dep, "open")


def _concurrent(h: Harness, path: str, dep: str, callers: int = 20) -> Counter[int]:
    with httpx.Client(base_url=h.ingress_url, timeout=60) as client:

        def one(_: int) -> int:
            return client.post(path, json=dep).status_code

        with ThreadPoolExecutor(callers) as pool:
            return Counter(pool.map(one, range(callers)))


def test_failures_open_it_and_refusals_do_not_reach_the_dependency(
    h: Harness, ledger: Path
) -> None:
    """After 3 failures, 10 more calls get a 503 and the ledger still counts 3 calls."""
    _open(h, ledger, "d1")
    assert _touched(ledger, "d1") == 3
    responses = [h.client.post("/BreakerCaller/pay", json="d1") for _ in range(10)]
    assert {r.status_code for r in responses} == {503}
    assert "circuit breaker 'd1' is open" in responses[0].json()["message"]
    assert _touched(ledger, "d1") == 3
    # Observability on: the breaker's state and its one transition, counted once (always-replay).
    page = httpx.get(f"{h.app_url}/metrics", timeout=10).text
    assert 'rea_circuit_breaker_state{name="d1",state="open"} 1.0' in page
    opened = 'rea_circuit_breaker_transitions_total{from_state="closed",name="d1",to_state="open"}'
    assert f"{opened} 1.0" in page


def test_after_the_cool_down_exactly_one_probe_goes_and_its_success_closes(
    h: Harness, ledger: Path
) -> None:
    """20 concurrent callers after the cool-down: one slow probe reaches the dependency."""
    _open(h, ledger, "d2")
    _set_mode(ledger, "d2", "ok", slow_ms=1500)
    time.sleep(COOL_DOWN + 0.2)
    statuses = _concurrent(h, "/BreakerCaller/pay", "d2")
    assert statuses == Counter({200: 1, 503: 19})
    assert _touched(ledger, "d2") == 4
    closed = _wait_state(h, "d2", "closed")
    assert closed["generation"] == 3  # opened, half-open, closed: one change each
    _set_mode(ledger, "d2", "ok")
    assert h.client.post("/BreakerCaller/pay", json="d2").status_code == 200
    assert _touched(ledger, "d2") == 5


def test_a_failing_probe_opens_it_again(h: Harness, ledger: Path) -> None:
    """The probe fails: the breaker opens for another cool-down and refuses at once."""
    _open(h, ledger, "d3")
    time.sleep(COOL_DOWN + 0.2)
    assert h.client.post("/BreakerCaller/pay", json="d3").status_code == 500
    reopened = _wait_state(h, "d3", "open")
    assert reopened["generation"] == 3
    assert h.client.post("/BreakerCaller/pay", json="d3").status_code == 503
    assert _touched(ledger, "d3") == 4


def test_client_errors_do_not_count(h: Harness, ledger: Path) -> None:
    """Five 400s from the dependency leave the breaker closed; every call reaches it."""
    _set_mode(ledger, "d4", "reject")
    assert [h.client.post("/BreakerCaller/pay", json="d4").status_code for _ in range(5)] == [
        400
    ] * 5
    assert _touched(ledger, "d4") == 5
    assert _state(h, "d4") == {
        "state": "closed",
        "generation": 0,
        "failures": [],
        "opened_at_ms": None,
        "probe_at_ms": None,
    }


def test_twenty_concurrent_failing_callers_see_one_state(h: Harness, ledger: Path) -> None:
    """20 callers at once on a failing dependency: each is touched or refused, one opening."""
    _set_mode(ledger, "d5", "fail", slow_ms=100)
    statuses = _concurrent(h, "/BreakerCaller/pay", "d5")
    assert set(statuses) <= {500, 503}
    assert statuses[500] >= 3
    state = _wait_state(h, "d5", "open")
    # Up to 20 failure reports, one state change: late reports of generation 0 change nothing.
    assert state["generation"] == 1
    assert len(state["failures"]) == 3
    assert _touched(ledger, "d5") == statuses[500]
    assert h.client.post("/BreakerCaller/pay", json="d5").status_code == 503
    assert _touched(ledger, "d5") == statuses[500]


def test_typed_client_calls_go_through_the_breaker(h: Harness, ledger: Path) -> None:
    """A rea.ServiceClient call is protected as a run is: counted, then refused untouched."""
    assert h.client.post("/BreakerCaller/pay_by_call", json="d6").json() == "d6 ok"
    _open(h, ledger, "d6", path="/BreakerCaller/pay_by_call")
    assert h.client.post("/BreakerCaller/pay_by_call", json="d6").status_code == 503
    assert _touched(ledger, "d6") == 4


def _entries(h: Harness, path: str, dep: str) -> Counter[str]:
    response = h.client.post(path, json=dep)
    assert response.status_code == 200, response.text
    rows = h.query(
        f"SELECT entry_type FROM sys_journal WHERE id = '{response.headers['x-restate-id']}'"
    )
    return Counter(row["entry_type"] for row in rows)


def test_a_closed_breaker_adds_one_awaited_call_to_the_journal(h: Harness) -> None:
    """Through a closed breaker, the caller's journal has one call more and nothing else."""
    bare = _entries(h, "/BreakerCaller/pay_bare", "d7")
    guarded = _entries(h, "/BreakerCaller/pay", "d7")
    extra = guarded - bare
    assert bare - guarded == Counter()
    assert extra["Command: Call"] == 1
    assert extra["Command: OneWayCall"] == 0
    assert set(extra) <= {"Command: Call", "Notification: Call", "Notification: CallInvocationId"}


def test_a_failed_call_adds_one_send(h: Harness, ledger: Path) -> None:
    """A counted failure adds the outcome's one-way send, and no other command."""
    _set_mode(ledger, "d8", "fail")
    response = h.client.post("/BreakerCaller/pay", json="d8")
    assert response.status_code == 500
    rows = h.query(
        f"SELECT entry_type FROM sys_journal WHERE id = '{response.headers['x-restate-id']}'"
    )
    commands = Counter(r["entry_type"] for r in rows if r["entry_type"].startswith("Command"))
    assert commands["Command: Call"] == 1
    assert commands["Command: OneWayCall"] == 1


def test_state_is_readable_through_rea_invoke(h: Harness, ledger: Path) -> None:
    """`rea invoke rea.CircuitBreaker/NAME/state` prints the breaker's state as JSON."""
    _open(h, ledger, "d9")
    command = [sys.executable, "-m", "rea", "invoke", "rea.CircuitBreaker/d9/state"]
    result = subprocess.run(
        [*command, "--ingress", h.ingress_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "open"


def test_only_the_state_is_public_on_the_ingress(h: Harness, ledger: Path) -> None:
    """An outside caller cannot take a probe, report, pass settings or close a breaker."""
    _open(h, ledger, "d10")
    for handler in ("acquire", "_probe", "record", "reset"):
        response = h.client.post(f"/rea.CircuitBreaker/d10/{handler}", json={})
        assert response.status_code == 400, (handler, response.text)
        assert "not public" in response.text, response.text
    assert h.client.post("/rea.CircuitBreaker/d10/state").json()["state"] == "open"
