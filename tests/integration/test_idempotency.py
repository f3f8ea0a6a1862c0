"""Idempotency keys on a real server: business keys dedupe across invocations, redundant ones
are reported through the policy (STRICT fails the caller, WARN logs once and sends the key).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import pytest

from rea._idempotency import idempotency_key
from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.apps import idem_app


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(idem_app.app)


@pytest.fixture
def policy_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Warnings of rea's policy logger (the app runs on a thread of this process)."""
    caplog.set_level(logging.WARNING, logger="rea.policy")
    return caplog


def _about(caplog: pytest.LogCaptureFixture, rule: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if f"[{rule}]" in r.getMessage()]


def _order() -> str:
    # Unique per run: the server keeps idempotency keys (and --rea-server may be reused).
    return f"o-{uuid.uuid4().hex[:12]}"


def _pay(h: Harness, **request: Any) -> Any:
    return h.client.post("/IdemCheckout/pay", json=request)


def _callees(h: Harness, key: str) -> list[dict[str, Any]]:
    return h.query(
        "SELECT id FROM sys_invocation WHERE target_service_name = 'IdemPayments' "
        f"AND idempotency_key = '{key}'"
    )


def test_business_key_dedupes_across_invocations(h: Harness) -> None:
    """Two checkouts charging the same order with the same business key share one charge."""
    order = _order()
    first = _pay(h, order=order)
    second = _pay(h, order=order)
    assert first.status_code == second.status_code == 200, first.text + second.text
    assert first.json() == second.json()
    assert [row["id"] for row in _callees(h, idempotency_key("order", order, "charge"))] == [
        first.json()
    ]
    other = _pay(h, order=_order())
    assert other.json() != first.json()


def test_business_key_dedupes_sends(h: Harness) -> None:
    """Two sends with the same business key from two invocations start one charge."""
    order = _order()
    sent = [_pay(h, order=order, send=True) for _ in range(2)]
    assert [s.status_code for s in sent] == [200, 200], [s.text for s in sent]
    key = idempotency_key("order", order, "charge")
    deadline = time.monotonic() + 10
    while not (rows := _callees(h, key)):
        assert time.monotonic() < deadline, "the charge never showed up"
        time.sleep(0.05)
    assert len(rows) == 1
    assert sent[0].json() == sent[1].json() == rows[0]["id"]


@pytest.mark.parametrize("kind", ["invocation", "uuid", "raw_uuid"])
def test_redundant_key_fails_under_strict(h: Harness, kind: str) -> None:
    """A key from the invocation id or rea.uuid fails the caller with the rule, the target
    and the fix, and nothing is charged."""
    response = _pay(h, order=_order(), key=kind, mode="strict")
    assert response.status_code == 500, response.text
    message = response.json()["message"]
    assert "[idempotency.redundant]" in message
    assert idem_app.CHARGE in message
    assert "Fix: drop the key" in message


def test_redundant_key_is_sent_under_warn(h: Harness, policy_log: pytest.LogCaptureFixture) -> None:
    """Under WARN the call goes through with its key, and rea logs once across replays."""
    response = _pay(h, order=_order(), key="invocation", mode="warn")
    assert response.status_code == 200, response.text
    callee = response.json()
    rows = h.query(f"SELECT idempotency_key FROM sys_invocation WHERE id = '{callee}'")
    assert len(rows) == 1
    assert rows[0]["idempotency_key"].endswith(":charge")
    logged = _about(policy_log, "idempotency.redundant")
    assert len(logged) == 1
    assert idem_app.CHARGE in logged[0]


def test_no_key_is_fine(h: Harness) -> None:
    """Without a key each checkout makes its own charge (the journal dedupes retries)."""
    order = _order()
    first = _pay(h, order=order, key="none")
    second = _pay(h, order=order, key="none")
    assert first.status_code == second.status_code == 200
    assert first.json() != second.json()
