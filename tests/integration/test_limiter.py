"""rea.RateLimiter on a real server under always-replay; the resource keeps a ledger of touches."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rea.testing import Harness, RestateServer

APP = "tests.integration.apps.limiter_app:app"
RATE, BURST = 10, 5  # limiter_app.RATE
SLACK = 3  # permits: a grant reaches the resource after the caller's own latency


def _send(h: Harness, handler: str, resource: str, n: int, **job: Any) -> list[str]:
    ids = []
    for i in range(n):
        body = {"resource": resource, "who": f"{resource}-{i}", **job}
        response = h.client.post(f"/LimitedCaller/{handler}/send", json=body)
        response.raise_for_status()
        ids.append(response.json()["invocationId"])
    return ids


def _touches(ledger: Path, resource: str) -> list[tuple[str, int, float, float]]:
    try:
        with sqlite3.connect(ledger) as db:
            rows = db.execute(
                "SELECT who, ticket, started, ended FROM touches WHERE resource = ? "
                "ORDER BY started",
                (resource,),
            ).fetchall()
    except sqlite3.OperationalError:  # nothing touched yet: no table
        return []
    return [(str(w), int(t), float(s), float(e)) for w, t, s, e in rows]


def _wait_touches(ledger: Path, resource: str, n: int, timeout: float = 40) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(rows := _touches(ledger, resource)) < n:
        assert time.monotonic() < deadline, f"{len(rows)} of {n} touched"
        time.sleep(0.1)
    return rows


def _wait_idle(h: Harness, resource: str) -> dict[str, Any]:
    """The limiter's state once nobody waits and no permit is held."""
    deadline = time.monotonic() + 20
    while True:
        state: dict[str, Any] = h.client.post(f"/rea.RateLimiter/{resource}/state").json()
        if not state["queue"] and not state["in_flight"]:
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.1)


def _no_transient_failures(h: Harness) -> None:
    """No attempt of the callers or the limiter failed (a suspension is no failure)."""
    rows = h.query(
        "SELECT e.event_type FROM sys_journal_events e JOIN sys_invocation i ON e.id = i.id "
        "WHERE i.target_service_name IN ('LimitedCaller', 'rea.RateLimiter')"
    )
    assert [r for r in rows if "Transient" in str(r.get("event_type"))] == []


def _check_rate(rows: list[Any]) -> None:
    """Token bucket: any j..i run of touches spans at least (count - burst) / rate seconds."""
    times = [started for _, _, started, _ in rows]
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            allowed = BURST + SLACK + RATE * (times[j] - times[i])
            assert j - i + 1 <= allowed, (i, j, times[j] - times[i])


def test_a_hundred_callers_go_at_the_rate_in_order(h: Harness, ledger: Path) -> None:
    """100 callers of a 10/s bucket with burst 5: all through, at <= the rate, nearly FIFO."""
    _send(h, "rated", "r1", 100)
    rows = _wait_touches(ledger, "r1", 100)
    assert len({who for who, *_ in rows}) == 100
    _check_rate(rows)
    span = rows[-1][2] - rows[0][2]
    assert span >= (100 - BURST - SLACK) / RATE, span
    tickets = [ticket for _, ticket, _, _ in rows]
    assert sorted(tickets) == list(range(1, 101))
    # The first burst is granted at one instant and touches in any order; later grants are
    # 100 ms apart, so only a caller's own latency can swap its touch with a neighbour's.
    assert max(abs(rank - (ticket - 1)) for rank, ticket in enumerate(tickets)) < BURST, tickets
    state = _wait_idle(h, "r1")
    assert state["issued"] == 100
    _no_transient_failures(h)


def test_a_kill_mid_run_loses_no_permit_and_leaks_none(tmp_path: Path) -> None:
    """60 callers; the app is SIGKILLed twice mid-run: each touches once, the rate holds."""
    ledger = tmp_path / "ledger.sqlite"
    retries = {"RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "100"}
    with (
        RestateServer(env=retries) as server,
        Harness(APP, server=server, app_env={"REA_LEDGER": str(ledger)}) as h,
    ):
        _send(h, "rated", "r2", 60)
        for _ in range(2):
            time.sleep(1.5)
            h.kill()
            time.sleep(0.3)
            h.restart()
        rows = _wait_touches(ledger, "r2", 60)
        state = _wait_idle(h, "r2")
        time.sleep(0.5)
        rows = _touches(ledger, "r2")
    # A touch whose run was not journaled before a kill runs again in the next attempt (with
    # the same permit): the first touch of each caller is the one the limiter let through.
    first: dict[str, Any] = {}
    for row in rows:
        first.setdefault(row[0], row)
    assert sorted(first) == sorted(f"r2-{i}" for i in range(60))
    _check_rate(list(first.values()))
    assert state["issued"] == 60


def test_at_most_three_in_flight_and_failures_release(h: Harness, ledger: Path) -> None:
    """12 slow holders of a 3-permit pool, 3 failing: never more than 3 at once, none leaked."""
    _send(h, "pooled", "p1", 9, slow_ms=200)
    for i in range(3):
        body = {"resource": "p1", "who": f"bad-{i}", "slow_ms": 200, "fail": True}
        h.client.post("/LimitedCaller/pooled/send", json=body).raise_for_status()
    rows = _wait_touches(ledger, "p1", 12)
    events = sorted([(s, 1) for *_, s, _ in rows] + [(e, -1) for *_, e in rows])
    held = peak = 0
    for _, step in events:
        held += step
        peak = max(peak, held)
    assert peak <= 3
    assert rows[-1][2] - rows[0][2] >= 3 * 0.2 * 0.9  # 12 of 200 ms, 3 at a time: 4 rounds
    _wait_idle(h, "p1")
    _no_transient_failures(h)


def test_a_permit_never_released_comes_back_after_its_lease(h: Harness, ledger: Path) -> None:
    """Two holders that never release a 1-permit, 2 s lease: the second goes once it ends."""
    _send(h, "forgetful", "l1", 2)
    rows = _wait_touches(ledger, "l1", 2, timeout=20)
    assert rows[1][2] - rows[0][2] >= 1.5
    assert h.client.post("/rea.RateLimiter/l1/state").json()["queue"] == []


def test_a_cancelled_waiter_leaves_the_queue(h: Harness, ledger: Path) -> None:
    """A caller cancelled while queued behind 3 slow holders is gone; the rest run; none leaks."""
    _send(h, "pooled", "c1", 3, slow_ms=2000)
    started = time.monotonic()
    body = {"resource": "c1", "who": "late", "slow_ms": 0}
    late = h.client.post("/LimitedCaller/pooled/send", json=body).json()["invocationId"]
    deadline = started + 10
    while len(h.client.post("/rea.RateLimiter/c1/state").json()["queue"]) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert h.admin_client.cancel(late)
    _wait_touches(ledger, "c1", 3)
    _wait_idle(h, "c1")
    assert "late" not in {who for who, *_ in _touches(ledger, "c1")}
    _no_transient_failures(h)


def _commands(h: Harness, handler: str, resource: str) -> Counter[str]:
    body = {"resource": resource, "who": handler}
    response = h.client.post(f"/LimitedCaller/{handler}", json=body)
    assert response.status_code == 200, response.text
    rows = h.query(
        f"SELECT entry_type FROM sys_journal WHERE id = '{response.headers['x-restate-id']}'"
    )
    return Counter(r["entry_type"] for r in rows if r["entry_type"].startswith("Command"))


def test_an_uncontended_permit_adds_a_clock_read_and_one_awaited_call(h: Harness) -> None:
    """A permit granted at once costs a journaled clock read and one call (no awakeable entry)."""
    bare = _commands(h, "bare", "k1")
    rated = _commands(h, "rated", "k1") - bare
    assert rated == Counter({"Command: Run": 1, "Command: Call": 1}), rated
    # A held permit adds the release's one-way send.
    pooled = _commands(h, "pooled", "k2") - bare
    expected = {"Command: Run": 1, "Command: Call": 1, "Command: OneWayCall": 1}
    assert pooled == Counter(expected), pooled
    _no_transient_failures(h)


def test_only_the_state_is_public_on_the_ingress(h: Harness) -> None:
    """An outside caller cannot take, release or tick permits."""
    for handler in ("acquire", "release", "_tick"):
        response = h.client.post(f"/rea.RateLimiter/x/{handler}", json={})
        assert response.status_code == 400, (handler, response.text)
        assert "not public" in response.text, response.text
    assert h.client.post("/rea.RateLimiter/x/state").json()["queue"] == []


def test_a_killed_waiter_is_granted_and_its_lease_passes_on(h: Harness, ledger: Path) -> None:
    """A queued caller killed (no release) still gets its turn; the limiter then moves on."""
    _send(h, "forgetful", "k3", 1)
    _wait_touches(ledger, "k3", 1)
    body = {"resource": "k3", "who": "killed"}
    killed = h.client.post("/LimitedCaller/forgetful/send", json=body).json()["invocationId"]
    deadline = time.monotonic() + 10
    while len(h.client.post("/rea.RateLimiter/k3/state").json()["queue"]) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert h.admin_client.kill(killed)
    body = {"resource": "k3", "who": "after"}
    h.client.post("/LimitedCaller/forgetful/send", json=body).raise_for_status()
    rows = _wait_touches(ledger, "k3", 2, timeout=20)
    assert [who for who, *_ in rows] == ["k3-0", "after"]
    assert rows[1][2] - rows[0][2] >= 3  # two 2 s leases: the holder's, then the killed one's
    _no_transient_failures(h)
