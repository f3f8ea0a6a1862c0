"""Typed in-handler clients on a real server under always-replay."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.apps import clients_app


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(clients_app.app)


def test_service_call_round_trips_models_and_dataclasses(h: Harness) -> None:
    """ServiceClient.call sends a model and gets a dataclass back."""
    response = h.client.post("/CCaller/call_service", json={"id": "o1", "amount": 9.5})
    assert response.json() == {"order_id": "o1", "charged": 9.5}


def test_a_typed_call_journals_what_service_call_journals(h: Harness) -> None:
    """ServiceClient.call and ctx.service_call leave the same journal, entry by entry."""

    def journal(path: str) -> list[tuple[str, str]]:
        response = h.client.post(path, json={"id": "o2", "amount": 1.0})
        assert response.status_code == 200
        rows = h.query(
            "SELECT entry_type, entry_lite_json FROM sys_journal WHERE id = "
            f"'{response.headers['x-restate-id']}' ORDER BY index"
        )
        # Invocation ids differ between the two runs; everything else must not.
        return [
            (r["entry_type"], re.sub(r"inv_\w+", "inv", r.get("entry_lite_json", ""))) for r in rows
        ]

    typed, bare = journal("/CCaller/call_service"), journal("/CCaller/call_service_bare")
    assert typed == bare
    assert [kind for kind, _ in typed].count("Command: Call") == 1


def test_request_futures_and_no_input_handlers(h: Harness) -> None:
    """request_future returns durable futures; handlers without input need none."""
    assert h.client.post("/CCaller/futures").json() == ["Receipt", "f1", "pong"]


def test_service_send_returns_the_invocation_id(h: Harness) -> None:
    """send() returns a handle whose invocation id names the callee's invocation."""
    invocation = h.client.post("/CCaller/send_service", json={"id": "s1", "amount": 1}).json()
    assert invocation.startswith("inv_")
    deadline = time.monotonic() + 10
    while True:
        rows = h.query(f"SELECT target, status FROM sys_invocation WHERE id = '{invocation}'")
        if rows and rows[0]["status"] == "completed":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert rows[0]["target"] == "CBilling/charge"


def test_terminal_errors_reach_the_caller_with_their_status(h: Harness) -> None:
    """The callee's TerminalError (status and message) is raised by call()."""
    assert h.client.post("/CCaller/refused").json() == "422 order r1 refused"


def test_object_call_future_and_send(h: Harness) -> None:
    """ObjectClient addresses one object by key with call, request_future and send."""
    assert h.client.post("/CCaller/call_object", json="k1").json() == [5, 12]
    deadline = time.monotonic() + 10
    while h.client.post("/CCounter/k1/add", json=0).json() != 112:
        assert time.monotonic() < deadline, "the send never arrived"
        time.sleep(0.05)


def test_delayed_send_starts_no_earlier_than_the_delay(h: Harness) -> None:
    """A send with delay=500ms runs at least 500 ms after it was sent (both times via rea.now)."""
    sent_at = datetime.fromisoformat(h.client.post("/CCaller/delayed", json="d1").json())
    deadline = time.monotonic() + 15
    while not (stamped := h.client.post("/CCounter/d1/stamped").content):
        assert time.monotonic() < deadline, "the delayed send never ran"
        time.sleep(0.05)
    ran_at = datetime.fromisoformat(json.loads(stamped))
    assert ran_at - sent_at >= timedelta(milliseconds=500)


def test_workflow_submit_signal_attach_and_output(h: Harness) -> None:
    """WorkflowClient submits a run, reads not-ready output, signals it, then attaches."""
    invocation = h.client.post("/CCaller/submit", json="w1").json()
    assert invocation.startswith("inv_")
    assert h.client.post("/CCaller/output", json="w1").content in (b"", b"null")
    assert h.client.post("/CCaller/signal", json="w1").json() == "confirmed 4711"
    receipt = {"order_id": "w1@example.com:4711", "charged": 0.0}
    assert h.client.post("/CCaller/attach", json="w1").json() == receipt
    assert h.client.post("/CCaller/output", json="w1").json() == receipt


def test_callers_cannot_reach_the_promise_rea_keeps_the_output_in(h: Harness) -> None:
    """A handler resolving caller-named promises cannot be made to touch rea's output promise:
    400, and the run still ends with (and attach still returns) its own result."""
    assert h.client.post("/CCaller/submit", json="w2").json().startswith("inv_")
    spoof = h.client.post("/CSignup/w2/resolve", json="_rea.output")
    assert spoof.status_code == 400
    assert "reserved by rea" in spoof.json()["message"]
    assert h.client.post("/CCaller/signal", json="w2").json() == "confirmed 4711"
    receipt = {"order_id": "w2@example.com:4711", "charged": 0.0}
    assert h.client.get("/restate/workflow/CSignup/w2/attach").json() == receipt
    assert h.client.post("/CCaller/attach", json="w2").json() == receipt


def test_workflow_submit_and_signal_take_idempotency_keys(h: Harness) -> None:
    """submit and signal accept business idempotency keys; a keyed signal runs once."""
    submitted, first, second = h.client.post("/CCaller/keyed", json="k1").json()
    assert submitted.startswith("inv_")
    assert first == second == "confirmed 4711"
    rows = h.query(
        "SELECT id FROM sys_invocation WHERE target_service_name = 'CSignup' "
        "AND target_service_key = 'k1' AND target_handler_name = 'confirm'"
    )
    assert len(rows) == 1
    receipt = {"order_id": "k1@example.com:4711", "charged": 0.0}
    assert h.client.post("/CCaller/attach", json="k1").json() == receipt


def test_untyped_clients_by_name_take_an_optional_input(h: Harness) -> None:
    """By name without types, an input may be left out (no body), as for the ingress client."""
    assert h.client.post("/CCaller/submit", json="n1").json().startswith("inv_")
    assert h.client.post("/CCaller/by_name_without_types", json="n1").json() == [
        "pong",
        "confirmed 4711",
    ]


def test_misuse_is_terminal_and_names_the_fix(h: Harness) -> None:
    """A forgotten object key fails once (not retried) with a message naming the call's shape."""
    response = h.client.post("/CCaller/forgot_key")
    assert response.status_code == 500
    message = response.json()["message"]
    assert "needs the object key (a str) right after the context" in message
    invocation = response.headers["x-restate-id"]
    assert clients_app.FORGOT_KEY_ATTEMPTS.count(invocation) == 1  # terminal: not retried


def test_attach_never_starts_a_workflow(h: Harness) -> None:
    """attach on a workflow id never submitted waits (here: times out) and creates no run."""
    assert h.client.post("/CCaller/attach_or_timeout", json="never").json() == "timeout"
    runs = h.query(
        "SELECT id FROM sys_invocation WHERE target_service_name = 'CSignup' "
        "AND target_service_key = 'never' AND target_handler_name = 'run'"
    )
    assert runs == []
    assert h.client.post("/CCaller/output", json="never").content in (b"", b"null")


def test_by_name_client_calls_a_separately_registered_app(
    rea_harness: HarnessFactory, h: Harness
) -> None:
    """A client built by name with type parameters calls a service of another deployment."""
    other = rea_harness(clients_app.remote_app)
    assert other.deployment["id"] != h.deployment["id"]
    assert h.client.post("/CCaller/remote", json=21).json() == "Doubled 42"
