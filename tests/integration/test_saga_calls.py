"""Compensations that call handlers: stock held in a virtual object comes back on failure."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from rea.testing import Harness, RestateServer
from rea.testing.pytest_plugin import HarnessFactory

APP = "tests.integration.apps.stock_app:app"


def _available(h: Harness, sku: str) -> int:
    value: int = h.client.post(f"/Stock/{sku}/available").json()
    return value


def _journal(h: Harness, invocation: str) -> list[dict[str, Any]]:
    return h.query(
        "SELECT entry_type, name, entry_lite_json FROM sys_journal "
        f"WHERE id = '{invocation}' ORDER BY index"
    )


def _called(entry: dict[str, Any]) -> str:
    target = json.loads(entry["entry_lite_json"])["Command"]["Call"]["invocation_target"]
    obj = target["VirtualObject"]
    return f"{obj['name']}/{obj['key']}/{obj['handler']}"


@pytest.mark.parametrize("policy", ["strict", "warn"])
def test_context_compensation_releases_the_stock(rea_harness: HarnessFactory, policy: str) -> None:
    """A failed order's reservation is released by a call from its compensation."""
    h = rea_harness(APP, app_env={"RESTATE_FRAMEWORK_POLICY": policy})
    sku = f"widget-{policy}"
    placed = h.client.post("/StockOrders/place", json={"sku": sku, "qty": 3, "amount": 10})
    assert placed.json() == "placed"
    assert _available(h, sku) == 97
    declined = h.client.post("/StockOrders/place", json={"sku": sku, "qty": 5, "amount": 500})
    assert declined.status_code == 402
    assert declined.json()["message"] == "card declined"
    assert _available(h, sku) == 97
    # Journaled like the hand-written pattern: a call to Stock/release, not a run.
    journal = _journal(h, declined.headers["x-restate-id"])
    calls = [_called(e) for e in journal if e["entry_type"] == "Command: Call"]
    assert calls == [f"Stock/{sku}/reserve", f"Stock/{sku}/release"]
    assert not any(e.get("name") == "compensate reserve" for e in journal)


def test_a_context_compensation_journals_like_the_hand_written_saga(
    rea_harness: HarnessFactory,
) -> None:
    """A declined order's journal under rea.Saga equals the hand-written pattern's, entry types
    and call targets alike."""
    h = rea_harness(APP)

    def journal(path: str, sku: str) -> list[tuple[str, str]]:
        order = {"sku": sku, "qty": 2, "amount": 500}
        response = h.client.post(path, json=order)
        assert response.status_code == 402
        entries = _journal(h, response.headers["x-restate-id"])
        calls = {id(e): _called(e).replace(sku, "SKU") for e in entries
                 if e["entry_type"] == "Command: Call"}  # fmt: skip
        return [(e["entry_type"], calls.get(id(e), e.get("name") or "")) for e in entries]

    assert journal("/StockOrders/place", "twin-a") == journal(
        "/StockOrders/place_by_hand", "twin-b"
    )


def test_plain_compensation_using_the_context_names_the_context_form(
    rea_harness: HarnessFactory,
) -> None:
    """A run compensation that touches ctx fails with a message naming (ctx, payload, key)."""
    h = rea_harness(APP, app_env={"RESTATE_FRAMEWORK_POLICY": "strict"})
    order = {"sku": "misused", "qty": 2, "amount": 500}
    declined = h.client.post("/StockOrders/place_with_plain_release", json=order)
    assert declined.status_code == 402  # the saga still re-raises its own error
    deadline = time.monotonic() + 10
    while not (letters := h.client.post("/SagaDeadLetters/plain-release/list").json()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (letter,) = letters
    assert letter["step"] == "reserve"
    assert "[ctx.inside_run]" in letter["error"]
    assert "async def undo(ctx, payload, key)" in letter["error"]
    assert letter["compensation"] == ""  # a closure: it cannot be retried from the letter
    assert _available(h, "misused") == 98  # what the dead letter is for: still held


def test_context_compensation_dead_letter_is_retried_through_a_handler(
    rea_harness: HarnessFactory,
) -> None:
    """A release refused for good is dead-lettered; its retry makes the call again, from
    SagaDeadLetters/retry, and the stock comes back."""
    h = rea_harness(APP)
    sku = "frozen-widget"
    h.client.post(f"/Stock/{sku}/freeze", json=True).raise_for_status()
    declined = h.client.post("/StockOrders/place", json={"sku": sku, "qty": 4, "amount": 500})
    assert declined.status_code == 402
    deadline = time.monotonic() + 10
    while not (letters := [x for x in h.client.post("/SagaDeadLetters/stock-order/list").json()
                           if x["origin"] == declined.headers["x-restate-id"]]):  # fmt: skip
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (letter,) = letters
    assert (letter["step"], letter["compensation"]) == ("reserve", "stock-order/reserve")
    assert "frozen" in letter["error"]
    assert _available(h, sku) == 96
    still = h.client.post("/SagaDeadLetters/stock-order/retry", json=letter["id"])
    assert still.json() == "failed: the stock is frozen"
    h.client.post(f"/Stock/{sku}/freeze", json=False).raise_for_status()
    retried = h.client.post("/SagaDeadLetters/stock-order/retry", json=letter["id"])
    assert retried.json() == "compensated"
    assert _available(h, sku) == 100
    calls = [_called(e) for e in _journal(h, retried.headers["x-restate-id"])
             if e["entry_type"] == "Command: Call"]  # fmt: skip
    assert calls == [f"Stock/{sku}/release"]


@pytest.mark.parametrize("policy", ["strict", "warn"])
def test_context_compensations_survive_app_kills(policy: str) -> None:
    """Orders in flight across 3 app SIGKILLs: every declined order's stock is back."""
    retries = {"RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "100"}
    with (
        RestateServer(env=retries) as server,
        Harness(APP, server=server, app_env={"RESTATE_FRAMEWORK_POLICY": policy}) as h,
    ):
        orders = 24
        sent = []
        for i in range(orders):
            amount = 500 if i % 2 else 10  # every other order is declined
            order = {"sku": "crash", "qty": 1, "amount": amount, "slow_ms": 200}
            response = h.client.post("/StockOrders/place/send", json=order)
            response.raise_for_status()
            sent.append(response.json()["invocationId"])
        for _ in range(3):
            time.sleep(0.7)
            h.kill()
            time.sleep(0.2)
            h.restart()
        statuses = []
        for invocation in sent:
            statuses.append(h.client.get(f"/restate/invocation/{invocation}/attach").status_code)
        assert sorted(statuses) == [200] * (orders // 2) + [402] * (orders // 2)
        assert _available(h, "crash") == 100 - orders // 2
