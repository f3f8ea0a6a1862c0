"""Every runtime guard fires on a real server under always-replay, through the one policy.

STRICT fails the invocation with a PolicyViolation naming the rule and the fix; WARN logs once
(replays included) and the invocation goes on; DISABLED is silent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests._support import LogRecords, captured_warnings
from tests.integration.apps import guards


@pytest.fixture
def policy_log() -> Iterator[LogRecords]:
    """Warnings of rea's policy logger (the app runs on a thread of this process)."""
    with captured_warnings("rea.policy") as records:
        yield records


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(guards.app)


def _strict(response: Any, rule: str) -> None:
    assert response.status_code == 500, response.text
    message = response.json()["message"]
    assert f"[{rule}]" in message
    assert "Fix: " in message


# -- state.write_in_shared ---------------------------------------------------------------------
@pytest.mark.parametrize("how", ["rea", "raw"])
def test_shared_write_strict(h: Harness, how: str) -> None:
    """A write from a shared handler fails with the rule and the fix, and writes nothing."""
    response = h.client.post("/GuardCounter/s1/shared_write", json={"mode": "strict", "how": how})
    _strict(response, "state.write_in_shared")
    assert h.client.post("/GuardCounter/s1/peek").json() == 0


@pytest.mark.parametrize("how", ["rea", "raw"])
def test_shared_write_warn(h: Harness, policy_log: LogRecords, how: str) -> None:
    """Under WARN the write is skipped, logged once, and the invocation completes."""
    response = h.client.post("/GuardCounter/w1/shared_write", json={"mode": "warn", "how": how})
    assert response.json() == "proceeded"
    assert len(policy_log.about("state.write_in_shared")) == 1
    assert h.client.post("/GuardCounter/w1/peek").json() == 0


def test_shared_write_disabled(h: Harness, policy_log: LogRecords) -> None:
    """Under DISABLED rea stays silent; the server itself then rejects the write."""
    response = h.client.post("/GuardCounter/d1/shared_write", json={"mode": "disabled"})
    assert response.status_code == 500
    assert "[state.write_in_shared]" not in response.text
    assert "cannot write state" in response.text or "failed precondition" in response.text
    assert policy_log.about("state.write_in_shared") == []


def test_stateless_write_strict(h: Harness) -> None:
    """A state write from a plain service is the same rule."""
    _strict(h.client.post("/GuardService/stateless_write", json="strict"), "state.write_in_shared")


def test_stateless_write_warn(h: Harness, policy_log: LogRecords) -> None:
    """Under WARN the plain service's write is skipped and the invocation completes."""
    assert h.client.post("/GuardService/stateless_write", json="warn").json() == "proceeded"
    assert len(policy_log.about("state.write_in_shared")) == 1


def test_exclusive_update_is_allowed(h: Harness) -> None:
    """Exclusive handlers write freely."""
    assert h.client.post("/GuardCounter/ok/bump").json() == 1
    assert h.client.post("/GuardCounter/ok/bump").json() == 2


# -- ctx.inside_run ----------------------------------------------------------------------------
def test_ctx_inside_run_strict(h: Harness) -> None:
    """ctx used inside a run action fails the invocation with the rule."""
    _strict(h.client.post("/GuardService/ctx_in_run", json="strict"), "ctx.inside_run")


def test_ctx_inside_run_warn(h: Harness, policy_log: LogRecords) -> None:
    """Under WARN it is logged exactly once across the replays, and the handler completes."""
    assert h.client.post("/GuardService/ctx_in_run", json="warn").json() == "proceeded True"
    assert len(policy_log.about("ctx.inside_run")) == 1


def test_ctx_inside_run_disabled(h: Harness, policy_log: LogRecords) -> None:
    """Under DISABLED nothing is logged."""
    assert h.client.post("/GuardService/ctx_in_run", json="disabled").json() == "proceeded True"
    assert policy_log.about("ctx.inside_run") == []


def test_rea_api_inside_run_strict(h: Harness) -> None:
    """A rea in-handler API (rea.uuid) inside a run action is the same violation."""
    _strict(h.client.post("/GuardService/rea_api_in_run", json="strict"), "ctx.inside_run")


# -- ctx.after_return --------------------------------------------------------------------------
def _leaked(invocation: str) -> str:
    deadline = time.monotonic() + 10
    while invocation not in guards.LEAKED:
        assert time.monotonic() < deadline, "the leaked task never ran"
        time.sleep(0.05)
    return guards.LEAKED[invocation]


def test_ctx_after_return_strict(h: Harness) -> None:
    """ctx used by a task that outlived its handler raises PolicyViolation in that task."""
    invocation = h.client.post("/GuardService/after_return", json="strict").json()
    assert _leaked(invocation) == "PolicyViolation ctx.after_return"


def test_ctx_after_return_warn(h: Harness, policy_log: LogRecords) -> None:
    """Under WARN the late use is logged once and goes on."""
    invocation = h.client.post("/GuardService/after_return", json="warn").json()
    assert _leaked(invocation) == "proceeded"
    assert len(policy_log.about("ctx.after_return")) == 1


def test_ctx_after_return_disabled(h: Harness, policy_log: LogRecords) -> None:
    """Under DISABLED the late use is not reported."""
    invocation = h.client.post("/GuardService/after_return", json="disabled").json()
    assert _leaked(invocation) == "proceeded"
    assert policy_log.about("ctx.after_return") == []


# -- run.unbounded_retryable -------------------------------------------------------------------
def test_retry_storm_strict(h: Harness) -> None:
    """A RetryableError in a run without limits ends the invocation at the first attempt."""
    started = time.monotonic()
    response = h.client.post("/GuardService/retry_storm", json="strict")
    _strict(response, "run.unbounded_retryable")
    assert time.monotonic() - started < 5


def test_retry_storm_warn(h: Harness, policy_log: LogRecords) -> None:
    """Under WARN the storm is logged once and bounded by the invocation's retry policy."""
    started = time.monotonic()
    response = h.client.post("/GuardService/retry_storm", json="warn")
    # The test server allows 3 attempts, then kills: the storm stopped, with the run's error.
    assert response.status_code == 500
    assert "RetryableError without a limit" in response.json()["message"]
    assert time.monotonic() - started < 10
    assert len(policy_log.about("run.unbounded_retryable")) == 1


# -- plane.orchestration_in_data_plane ---------------------------------------------------------
def test_data_plane_orchestration_strict(h: Harness) -> None:
    """An awakeable in a data-plane service fails with the rule."""
    _strict(
        h.client.post("/GuardData/orchestrate", json="strict"), "plane.orchestration_in_data_plane"
    )


def test_data_plane_orchestration_warn(h: Harness, policy_log: LogRecords) -> None:
    """Under WARN the data-plane awakeable is logged once and allowed."""
    assert h.client.post("/GuardData/orchestrate", json="warn").json() == "proceeded"
    assert len(policy_log.about("plane.orchestration_in_data_plane")) == 1


def test_data_plane_orchestration_disabled(h: Harness, policy_log: LogRecords) -> None:
    """Under DISABLED nothing is reported."""
    assert h.client.post("/GuardData/orchestrate", json="disabled").json() == "proceeded"
    assert policy_log.about("plane.orchestration_in_data_plane") == []


def test_control_plane_may_orchestrate(h: Harness) -> None:
    """The same awakeable in a control-plane service is fine."""
    assert h.client.post("/GuardControl/coordinate").json() == "proceeded"


def test_plane_shows_in_service_metadata(h: Harness) -> None:
    """The plane tag is Restate service metadata, visible through the admin API."""
    service = h.admin.get("/services/GuardData").json()
    assert service["metadata"]["rea.plane"] == "data"


def test_retry_storm_disabled(h: Harness, policy_log: LogRecords) -> None:
    """Under DISABLED rea is silent, and the SDK's storm goes past the server's attempt limit."""
    sent = h.client.post("/GuardService/retry_storm/send", json="disabled").json()
    invocation = sent["invocationId"]
    deadline = time.monotonic() + 15
    retries = 0
    while retries <= 5:
        assert time.monotonic() < deadline, "the storm did not happen"
        time.sleep(0.1)
        rows = h.query(f"SELECT retry_count FROM sys_invocation WHERE id = '{invocation}'")
        retries = int(rows[0].get("retry_count") or 0) if rows else 0
    # More attempts than the test server's limit of 3: only a kill ends it.
    h.admin.patch(f"/invocations/{invocation}/kill").raise_for_status()
    assert policy_log.about("run.unbounded_retryable") == []
