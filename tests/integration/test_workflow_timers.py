"""Durable timers, races, loops, continue-as-new and scaled time on a real server.

Always-replay is on (the harness default): every await suspends and the handler replays its
journal, so a helper that computed anything from the wall clock, or raced through asyncio,
would fail here with a journal mismatch.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import rea
from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory

APP = "tests.integration.apps.timers_app:app"


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    # A child process (kill() needs one) in real time, whatever --rea-time-scale says.
    return rea_harness(APP, time_scale=1.0)


def _journal(h: Harness, invocation: str) -> list[dict[str, Any]]:
    return h.query(
        "SELECT index, entry_type, entry_lite_json FROM sys_journal "
        f"WHERE id = '{invocation}' ORDER BY index"
    )


def _types(h: Harness, invocation: str) -> list[str]:
    return [str(row["entry_type"]) for row in _journal(h, invocation)]


def _failures(h: Harness, invocation: str) -> list[dict[str, Any]]:
    """Transient failures (a journal mismatch is one) recorded for the invocation."""
    rows = h.query(f"SELECT event_type FROM sys_journal_events WHERE id = '{invocation}'")
    return [row for row in rows if "Transient" in str(row.get("event_type"))]


def _send(h: Harness, path: str, body: Any = None) -> str:
    response = h.client.post(f"{path}/send", json=body)
    assert response.status_code in (200, 202), response.text
    invocation: str = response.json()["invocationId"]
    return invocation


def _attach(h: Harness, invocation: str) -> Any:
    with rea.SyncIngressClient(h.ingress_url) as client:
        return client.attach(invocation)


def _wait_for(condition: Any, what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def _wake_up_times(h: Harness, invocation: str) -> list[int]:
    """The journaled wake-up times (ms since the epoch) of the invocation's sleeps."""
    return [
        json.loads(row["entry_lite_json"])["Command"]["Sleep"]["wake_up_time"]
        for row in _journal(h, invocation)
        if row["entry_type"] == "Command: Sleep"
    ]


# -- sleep_until ---------------------------------------------------------------------------------
def test_sleep_until_resumes_no_earlier_than_the_target(h: Harness) -> None:
    """Two seconds ahead: the journaled time after the sleep is at or after the target."""
    response = h.client.post("/Timers/wait_for", json=2.0)
    assert response.status_code == 200, response.text
    times = response.json()
    assert times["after"] >= times["target"]
    assert times["after"] - times["target"] < 1.0
    invocation = response.headers["x-restate-id"]
    (wake_up,) = _wake_up_times(h, invocation)
    assert wake_up >= times["target"] * 1000
    assert _failures(h, invocation) == []


def test_sleep_until_is_not_moved_by_an_app_kill(h: Harness) -> None:
    """SIGKILL of the app during the sleep: the journaled timer fires when it would have."""
    invocation = _send(h, "/Timers/wait_for", 2.0)
    wake_ups = _wait_for(lambda: _wake_up_times(h, invocation), "the sleep to be journaled")
    h.kill()
    h.restart()
    times = _attach(h, invocation)
    assert times["after"] >= times["target"]
    assert times["after"] - times["target"] < 1.0
    # Replays after the restart found the same timer in the journal: none was added or moved.
    assert _wake_up_times(h, invocation) == wake_ups
    assert wake_ups[0] >= times["target"] * 1000


def test_a_past_time_returns_at_once_without_a_timer(h: Harness) -> None:
    """A target in the past journals the time read and no sleep."""
    response = h.client.post("/Timers/wait_for", json=-3600.0)
    assert response.status_code == 200, response.text
    assert "Command: Sleep" not in _types(h, response.headers["x-restate-id"])


# -- race ----------------------------------------------------------------------------------------
def _awakeable(h: Harness, workflow: str) -> str:
    def read() -> str | None:
        answer = h.client.post(f"/TimerFlow/{workflow}/awakeable")
        # Before the run handler stored it the body is empty (None).
        value: str | None = answer.json() if answer.status_code == 200 and answer.content else None
        return value

    awakeable_id: str = _wait_for(read, "the awakeable id")
    return awakeable_id


def _workflow_result(h: Harness, workflow: str) -> Any:
    response = h.client.get(f"/restate/workflow/TimerFlow/{workflow}/attach")
    return response.status_code, response.json()


def test_race_an_awakeable_resolved_from_outside_wins(h: Harness) -> None:
    """Resolved through the ingress client before the timeout: its value wins."""
    _send(h, "/TimerFlow/won/run", {"timeout_ms": 30_000})
    with rea.SyncIngressClient(h.ingress_url) as client:
        client.resolve_awakeable(_awakeable(h, "won"), 42)
    assert _workflow_result(h, "won") == (200, {"value": 42, "timed_out": False})


def test_race_times_out_and_a_late_resolution_is_ignored(h: Harness) -> None:
    """Nobody answers within 1 s: timed out; resolving it afterwards changes nothing."""
    started = time.monotonic()
    invocation = _send(h, "/TimerFlow/late/run", {"timeout_ms": 1000})
    awakeable_id = _awakeable(h, "late")
    assert _workflow_result(h, "late") == (200, {"value": None, "timed_out": True})
    assert time.monotonic() - started >= 1.0
    with rea.SyncIngressClient(h.ingress_url) as client:
        client.resolve_awakeable(awakeable_id, 42)  # accepted by Restate, read by nobody
    time.sleep(0.2)
    assert _workflow_result(h, "late") == (200, {"value": None, "timed_out": True})
    assert _failures(h, invocation) == []


def test_race_a_rejected_awakeable_raises_its_error(h: Harness) -> None:
    """A failed winner is raised: the workflow fails with the rejection."""
    _send(h, "/TimerFlow/rejected/run", {"timeout_ms": 30_000})
    with rea.SyncIngressClient(h.ingress_url) as client:
        client.reject_awakeable(_awakeable(h, "rejected"), "no way")
    status, body = _workflow_result(h, "rejected")
    assert (status, body["message"]) == (500, "no way")


def test_race_works_for_calls_runs_and_sleeps(h: Harness) -> None:
    """A call and a run win against 30 s; a 10 ms sleep wins; a 30 s sleep loses to 50 ms."""
    response = h.client.post("/Timers/race_kinds")
    assert response.status_code == 200, response.text
    assert response.json() == [[False, 42], [False, 7], [False, None], [True, None]]
    assert _failures(h, response.headers["x-restate-id"]) == []


def test_promise_racer_says_which_contestant_won(h: Harness) -> None:
    """A promise resolved by a shared handler, an awakeable from outside, or the deadline."""
    _send(h, "/TimerFlow/by-promise/run", {"timeout_ms": 30_000, "racer": True})
    _awakeable(h, "by-promise")
    assert h.client.post("/TimerFlow/by-promise/cancel", json="changed my mind").status_code == 200
    assert _workflow_result(h, "by-promise") == (
        200,
        {"name": "cancel", "value": "changed my mind", "timed_out": False},
    )

    _send(h, "/TimerFlow/by-awakeable/run", {"timeout_ms": 30_000, "racer": True})
    with rea.SyncIngressClient(h.ingress_url) as client:
        client.resolve_awakeable(_awakeable(h, "by-awakeable"), 7)
    assert _workflow_result(h, "by-awakeable") == (
        200,
        {"name": "approve", "value": 7, "timed_out": False},
    )

    _send(h, "/TimerFlow/by-deadline/run", {"timeout_ms": 300, "racer": True})
    assert _workflow_result(h, "by-deadline") == (
        200,
        {"name": None, "value": None, "timed_out": True},
    )


# -- loop ----------------------------------------------------------------------------------------
def test_a_bounded_loop_completes_and_fails_past_its_bound(h: Harness) -> None:
    """200 polls within max_iterations=200 complete; a 201st fails with status 508."""
    with ThreadPoolExecutor(2) as pool:
        within = pool.submit(
            h.client.post, "/Loops/count", json={"max_iterations": 200, "stop_after": 200}
        )
        beyond = pool.submit(
            h.client.post, "/Loops/count", json={"max_iterations": 200, "stop_after": 201}
        )
        completed, failed = within.result(), beyond.result()
    assert (completed.status_code, completed.json()) == (200, 200), completed.text
    assert failed.status_code == 508, failed.text
    assert "max_iterations=200" in failed.json()["message"]
    runs = [t for t in _types(h, failed.headers["x-restate-id"]) if t == "Command: Run"]
    assert len(runs) == 200  # the bound held: no 201st poll


def test_continue_as_new_runs_three_generations_with_short_journals(h: Harness) -> None:
    """Each generation hands its state to the next; the journals do not grow."""
    response = h.client.post("/Poller/p1/poll", json={"generations": 3, "per_generation": 4})
    assert response.status_code == 200, response.text
    first = response.json()
    second = _attach(h, first["next"])
    third = _attach(h, second["next"])
    assert [r["generation"] for r in (first, second, third)] == [0, 1, 2]
    assert [r["polled"] for r in (first, second, third)] == [4, 8, 12]
    assert third["next"] is None
    ids = [response.headers["x-restate-id"], first["next"], second["next"]]
    lengths = [len(_types(h, invocation)) for invocation in ids]
    assert lengths[1] == lengths[0]
    assert lengths[2] <= lengths[0]  # the last one sends nothing
    rows = h.query(
        "SELECT id, idempotency_key FROM sys_invocation WHERE target = 'Poller/p1/poll' "
        "ORDER BY created_at"
    )
    assert [row["id"] for row in rows] == ids
    keys = [row["idempotency_key"] for row in rows]
    assert keys[1] == rea.idempotency_key("rea.continue_as_new", ids[0], 1)
    assert keys[2] == rea.idempotency_key("rea.continue_as_new", ids[0], 2)


# -- scaled time ---------------------------------------------------------------------------------
def _run_long(h: Harness, workflow: str, sleep_s: float, timeout_s: float) -> tuple[Any, str]:
    invocation = _send(h, f"/LongFlow/{workflow}/run", {"sleep_s": sleep_s, "timeout_s": timeout_s})
    response = h.client.get(f"/restate/workflow/LongFlow/{workflow}/attach")
    assert response.status_code == 200, response.text
    return response.json(), invocation


def test_a_day_of_sleep_and_a_two_day_race_take_seconds_under_scaled_time(
    rea_harness: HarnessFactory,
) -> None:
    """24 h asleep, a 48 h race timeout: seconds of wall time, the journal of a short run."""
    day, two_days = 24 * 3600.0, 48 * 3600.0
    scaled = rea_harness(APP, time_scale=1e-5)
    started = time.monotonic()
    result, scaled_invocation = _run_long(scaled, "scaled", day, two_days)
    wall = time.monotonic() - started
    assert result["timed_out"] is True
    assert wall < 10.0
    # rea.now stays real time: (24 h + 2 loop pauses of 1 h + 48 h) x 1e-5 = 2.66 s went by.
    assert 2.6 < result["elapsed"] < 10.0
    scaled_types = _types(scaled, scaled_invocation)

    plain = rea_harness(APP, time_scale=1.0)
    result, plain_invocation = _run_long(plain, "plain", 0.2, 0.2)
    assert result["timed_out"] is True
    assert _types(plain, plain_invocation) == scaled_types
    assert scaled_types.count("Command: Sleep") == 5  # sleep_until, ctx.sleep, 2 pauses, race


# -- the data-plane guard ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "helper", ["sleep_until", "race", "PromiseRacer", "loop", "continue_as_new"]
)
def test_orchestration_helpers_are_refused_in_a_data_plane_service(h: Harness, helper: str) -> None:
    """Under STRICT each helper fails with plane.orchestration_in_data_plane, naming itself."""
    response = h.client.post("/TimersData/orchestrate", json=helper)
    assert response.status_code == 500, response.text
    message = response.json()["message"]
    assert "[plane.orchestration_in_data_plane]" in message
    assert f"rea.{helper}" in message
