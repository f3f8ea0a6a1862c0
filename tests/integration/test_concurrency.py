"""rea's concurrency helpers on a real server under always-replay (a replay at every await)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.apps.concurrency_app import failing

APP = "tests.integration.apps.concurrency_app:app"


@pytest.fixture
def gauge(tmp_path: Path) -> Path:
    return tmp_path / "gauge.sqlite"


@pytest.fixture
def h(rea_harness: HarnessFactory, gauge: Path) -> Harness:
    # A child process: the callees' gauge is a file, whoever runs them.
    return rea_harness(APP, app_env={"REA_CONCURRENCY_GAUGE": str(gauge)})


def _failed_attempts(h: Harness, invocations: list[str]) -> list[dict[str, Any]]:
    """Transient failures (a journal mismatch is one) recorded for these invocations."""
    ids = ", ".join(f"'{i}'" for i in invocations)
    rows = h.query(f"SELECT id, event_type FROM sys_journal_events WHERE id IN ({ids})")
    return [row for row in rows if "Transient" in str(row.get("event_type"))]


def test_fan_out_keeps_every_value_and_every_error_in_input_order(h: Harness) -> None:
    """Twenty calls, five failing terminally: fifteen values and five errors, in place."""
    response = h.client.post("/Fan/fan_out_calls", json=20)
    assert response.status_code == 200, response.text
    reports = response.json()
    assert len(reports) == 20
    assert [i for i, r in enumerate(reports) if not r["ok"]] == [3, 7, 11, 15, 19]
    for n, report in enumerate(reports):
        if failing(n):
            assert report == {"ok": False, "value": None, "error": f"item {n} failed", "code": 422}
        else:
            assert report == {"ok": True, "value": n * 10, "error": None, "code": None}
    assert _failed_attempts(h, [response.headers["x-restate-id"]]) == []


def _timeline(gauge: Path, batch: str) -> tuple[int, list[tuple[int, float, float]]]:
    with sqlite3.connect(gauge) as db:
        (peak,) = db.execute("SELECT max_in_flight FROM peak WHERE batch = ?", (batch,)).fetchone()
        spans = db.execute(
            "SELECT n, entered, left FROM spans WHERE batch = ? ORDER BY entered", (batch,)
        ).fetchall()
    return int(peak), [(int(n), float(a), float(b)) for n, a, b in spans]


def _max_overlap(spans: list[tuple[int, float, float]]) -> int:
    events = sorted([(a, 1) for _, a, _ in spans] + [(b, -1) for _, _, b in spans])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def _rounds(spans: list[tuple[int, float, float]]) -> int:
    """The longest chain of calls each started after the previous one ended."""
    depth: dict[int, int] = {}
    for n, entered, _ in spans:  # spans are sorted by entry
        before = [depth[m] for m, _, left in spans if m in depth and left <= entered]
        depth[n] = 1 + max(before, default=0)
    return max(depth.values())


def test_map_concurrent_never_exceeds_its_limit(h: Harness, gauge: Path) -> None:
    """Twelve 200 ms calls with limit=3: exactly 3 in flight at the peak, about four rounds."""
    batch, duration = uuid.uuid4().hex, 0.2
    started = time.perf_counter()
    response = h.client.post(
        "/Fan/map_slow", json={"batch": batch, "count": 12, "limit": 3, "ms": 200}
    )
    wall = time.perf_counter() - started
    assert response.status_code == 200, response.text
    assert response.json() == [n * 10 for n in range(12)]

    peak, spans = _timeline(gauge, batch)
    assert len(spans) == 12
    span = max(b for _, _, b in spans) - min(a for _, a, _ in spans)
    print(
        f"\nmap_concurrent(limit=3) over 12 x {duration * 1000:.0f} ms calls: "
        f"max in flight {peak} (from the callees' timeline: {_max_overlap(spans)}), "
        f"rounds {_rounds(spans)}, "
        f"callee span {span:.3f} s = {span / duration:.2f} rounds, "
        f"request wall time {wall:.3f} s = {wall / duration:.2f} rounds"
    )
    for n, entered, left in spans:
        print(f"  item {n:2d}: {entered - spans[0][1]:.3f} s -> {left - spans[0][1]:.3f} s")
    assert peak == 3
    assert _max_overlap(spans) == 3
    assert _rounds(spans) == 4
    # Four rounds of 200 ms, plus the latency of starting each next call: not 12 rounds. The
    # request's wall time adds the ingress round trip, hence a little slack on a loaded machine.
    assert 4 * duration <= span <= 7 * duration
    assert 4 * duration <= wall <= 8 * duration
    # Items start in input order.
    assert [n for n, _, _ in spans] == list(range(12))
    assert _failed_attempts(h, [response.headers["x-restate-id"]]) == []


def test_map_concurrent_keeps_input_order_when_completions_are_not(h: Harness) -> None:
    """Later items finish first; results still come back in input order."""
    assert h.client.post("/Fan/map_mixed", json=7).json() == list(range(7))


def test_map_concurrent_fails_fast(h: Harness) -> None:
    """The first failure is raised, and no item after the slots it freed is started."""
    response = h.client.post("/Fan/map_failing")
    assert response.json() == "item 3 failed"
    rows = h.query(
        f"SELECT entry_type FROM sys_journal WHERE id = '{response.headers['x-restate-id']}'"
    )
    calls = [r for r in rows if r["entry_type"] == "Command: Call"]
    # limit=2: items 0-3 must have started for 3 to fail; at most one more (item 4).
    assert 4 <= len(calls) <= 5, rows


def test_gather_returns_values_in_argument_order(h: Harness) -> None:
    """A call, a run and a slower call come back as values, in argument order."""
    assert h.client.post("/Fan/gather_values", json=2).json() == [80, 3, 2]


def test_gather_raises_the_first_failure_in_argument_order(h: Harness) -> None:
    """The second future fails last but is raised: argument order, after all completed."""
    assert h.client.post("/Fan/gather_first_failure").json() == "409: item 2 failed late"


def test_select_names_the_first_finisher(h: Harness) -> None:
    """A fast call beats a long durable sleep, and a short sleep beats a slow call."""
    fast = h.client.post("/Fan/race", json={"call_ms": 0, "sleep_ms": 30000})
    assert fast.json() == ["call", 7]
    slow = h.client.post("/Fan/race", json={"call_ms": 3000, "sleep_ms": 50})
    assert slow.json() == ["timeout", None]


def test_select_raises_the_winners_error(h: Harness) -> None:
    """When the winner failed, select raises its TerminalError, status included."""
    assert h.client.post("/Fan/race_failure").json() == "422: item 3 failed"
    failed = h.client.post("/Fan/race", json={"call_ms": 0, "sleep_ms": 5000, "fail": True})
    assert failed.status_code == 409
    assert failed.json()["message"] == "item 7 failed late"


def test_ordered_iteration_of_a_set_starts_calls_in_a_stable_order(h: Harness) -> None:
    """Calls started over ordered(mapping built from a set) replay without a mismatch."""
    names = ["delta", "ab", "charlie", "b", "echo", "alpha"]
    expected = [len(name) * 40 for name in sorted(names)]
    assert h.client.post("/Fan/ordered_calls", json=names).json() == expected


async def _post_all(h: Harness, requests: list[tuple[str, Any]]) -> list[httpx.Response]:
    async with h.async_client(timeout=60.0) as client:
        return list(
            await asyncio.gather(*(client.post(path, json=body) for path, body in requests))
        )


def test_fifty_replayed_invocations_of_each_helper_have_no_journal_mismatch(h: Harness) -> None:
    """50 invocations each of gather, fan_out, map_concurrent and select: all 200, no retries."""
    races = [
        {"call_ms": 0, "sleep_ms": 30000},  # the call wins
        {"call_ms": 1000, "sleep_ms": 0},  # the sleep wins
        {"call_ms": 15, "sleep_ms": 15},  # a near tie: either, but the same on every replay
    ]
    requests: list[tuple[str, Any]] = []
    for i in range(50):
        requests.append(("/Fan/gather_values", i))
        requests.append(("/Fan/fan_out_calls", 8))
        requests.append(("/Fan/map_mixed", 6))
        requests.append(("/Fan/race", races[i % 3]))
    started = time.perf_counter()
    responses = asyncio.run(_post_all(h, requests))
    elapsed = time.perf_counter() - started
    print(f"\n200 invocations under always-replay in {elapsed:.2f} s")

    assert [r.status_code for r in responses] == [200] * 200, [
        r.text for r in responses if r.status_code != 200
    ]
    fan_out_expected = [
        {"ok": False, "value": None, "error": f"item {n} failed", "code": 422}
        if failing(n)
        else {"ok": True, "value": n * 10, "error": None, "code": None}
        for n in range(8)
    ]
    for i in range(50):
        gathered, fanned, mapped, raced = (r.json() for r in responses[4 * i : 4 * i + 4])
        assert gathered == [i * 40, i + 1, i]
        assert fanned == fan_out_expected
        assert mapped == list(range(6))
        if i % 3 == 0:
            assert raced == ["call", 7]
        elif i % 3 == 1:
            assert raced == ["timeout", None]
        else:
            assert raced in (["call", 7], ["timeout", None])
    invocations = [r.headers["x-restate-id"] for r in responses]
    assert _failed_attempts(h, invocations) == []
