"""rea.IngressClient and SyncIngressClient against a real server (always-replay)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from rea.ingress import (
    AlreadyInvoked,
    BadRequest,
    IngressClient,
    InvocationFailed,
    NotPublic,
    Output,
    SyncIngressClient,
    UnknownTarget,
)
from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.apps import ingress_app as app
from tests.integration.apps.ingress_app import Order, Receipt

T = TypeVar("T")


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(app.app)


@pytest.fixture
def client(h: Harness) -> Iterator[SyncIngressClient]:
    with SyncIngressClient(h.ingress_url, admin_url=h.admin_url) as sync_client:
        yield sync_client


def eventually(probe: Callable[[], T | None], timeout: float = 15.0) -> T:
    """The first truthy value of `probe`, polled until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
    return value


def unique(prefix: str) -> str:
    """Keys differ per run: the session's server keeps idempotency keys and workflow ids."""
    return f"{prefix}-{time.time_ns()}"


def test_typed_calls_round_trip_models_dataclasses_and_lists(client: SyncIngressClient) -> None:
    """Models in, dataclasses and list[dataclass] out; no-input and optional-input handlers."""
    assert client.service(app.charge).call(Order(id="o1", amount=9.5)) == Receipt("o1", 9.5)
    orders = [Order(id="a", amount=1), Order(id="b", amount=2)]
    assert client.service(app.receipts).call(orders) == [Receipt("a", 1), Receipt("b", 2)]
    assert client.service(app.ping).call() == "pong"
    assert client.service(app.greet).call(None) == "hello stranger"
    assert client.service("IngShop", "greet").call("ann") == "hello ann"
    assert client.service("IngShop", "ping").call() == "pong"


def test_async_client_calls(h: Harness) -> None:
    """The async client does the same over HTTP/2 (prior knowledge on cleartext)."""

    async def use() -> tuple[Receipt, str]:
        async with IngressClient(h.ingress_url) as client:
            receipt = await client.service(app.charge).call(Order(id="a1", amount=2.0))
            return receipt, await client.service(app.ping).call()

    assert asyncio.run(use()) == (Receipt("a1", 2.0), "pong")


def test_terminal_errors_surface_as_invocation_failed(client: SyncIngressClient) -> None:
    """The handler's TerminalError: code, message, metadata and invocation id."""
    with pytest.raises(InvocationFailed) as caught:
        client.service(app.refuse).call(Order(id="r1", amount=1))
    error = caught.value
    assert (error.status, error.code, error.message) == (422, 422, "order r1 refused")
    assert error.metadata == {"reason": "limit"}
    assert error.source == "invocation"
    assert error.invocation_id is not None
    assert error.invocation_id.startswith("inv_")


def test_invalid_input_is_the_handlers_400(client: SyncIngressClient) -> None:
    """rea.app's validation answers 400 from the invocation: InvocationFailed, not BadRequest."""
    with pytest.raises(InvocationFailed) as caught:
        client.service("IngShop", "charge").call({"id": 1})
    assert caught.value.code == 400
    assert "amount: Field required" in caught.value.message


def test_ingress_refusals(client: SyncIngressClient) -> None:
    """Unknown service or handler: UnknownTarget; private handler: NotPublic; bad id: 400."""
    with pytest.raises(UnknownTarget, match="service 'IngNope' not found"):
        client.service("IngNope", "x").call(1)
    with pytest.raises(UnknownTarget, match="handler 'nope' was not found"):
        client.service("IngShop", "nope").call()
    with pytest.raises(NotPublic):
        client.service("IngHidden", "secret").call()
    with pytest.raises(BadRequest, match="bad invocation id"):
        client.attach("not-an-id")
    never_used = unique("never-used")
    with pytest.raises(UnknownTarget, match="not found"):
        client.service(app.slow).attach(idempotency_key=never_used)
    with pytest.raises(UnknownTarget, match="invocation not found"):
        client.service(app.slow).output(idempotency_key=never_used)


def test_send_then_attach_and_output_by_idempotency_key(client: SyncIngressClient) -> None:
    """send with a key; output is not ready while it sleeps; attach and output by key or id."""
    key = unique("slow")
    sent = client.service(app.slow).send(1500, idempotency_key=key)
    assert (sent.status, sent.execution_time) == ("Accepted", None)
    assert client.service(app.slow).output(idempotency_key=key) == Output(ready=False)
    assert client.output(sent.invocation_id) == Output(ready=False)
    assert client.service(app.slow).attach(idempotency_key=key) == 1500
    assert client.service(app.slow).output(idempotency_key=key) == Output(True, 1500)
    assert client.attach(sent.invocation_id, int) == 1500
    assert client.output(sent.invocation_id) == Output(True, 1500)
    again = client.service(app.slow).send(1500, idempotency_key=key)
    assert (again.invocation_id, again.status) == (sent.invocation_id, "PreviouslyAccepted")
    assert again.previously_accepted


def test_keyed_calls_return_the_first_result(client: SyncIngressClient) -> None:
    """A call repeated with its key is not run again: the counter moves once."""
    counter = unique("keyed")
    assert client.object(app.add).call(counter, 5, idempotency_key="add-5") == 5
    assert client.object(app.add).call(counter, 5, idempotency_key="add-5") == 5
    assert client.object(app.total).call(counter) == 5
    assert client.object(app.add).attach(counter, idempotency_key="add-5") == 5
    assert client.object(app.add).output(counter, idempotency_key="add-5") == Output(True, 5)


def test_object_keys_are_escaped(client: SyncIngressClient, h: Harness) -> None:
    """A key with '/' and a space reaches the object unchanged."""
    key = unique("cart/7 x")
    assert client.object(app.add).call(key, 2) == 2
    rows = h.query(
        f"SELECT service_key FROM state WHERE service_name = 'IngCounter' AND service_key = '{key}'"
    )
    assert rows == [{"service_key": key}]


def test_concurrent_sends_with_one_key_make_one_invocation(h: Harness) -> None:
    """100 sends at once with the same key: one invocation, named by every answer."""
    key = unique("burst")

    async def burst() -> list[Any]:
        async with IngressClient(h.ingress_url) as client:
            facade = client.service(app.slow)
            return await asyncio.gather(*(facade.send(10, idempotency_key=key) for _ in range(100)))

    results = asyncio.run(burst())
    assert len({r.invocation_id for r in results}) == 1
    assert Counter(r.status for r in results) == {"Accepted": 1, "PreviouslyAccepted": 99}
    rows = h.query(f"SELECT id FROM sys_invocation WHERE idempotency_key = '{key}'")
    assert [row["id"] for row in rows] == [results[0].invocation_id]


def test_delayed_send_runs_after_its_delay(client: SyncIngressClient) -> None:
    """delay="2s": executionTime is two seconds away, and the handler runs no earlier."""
    before = datetime.now(UTC)
    sent = client.service(app.stamp).send(delay="2s")
    assert sent.execution_time is not None
    assert timedelta(milliseconds=1900) <= sent.execution_time - before <= timedelta(seconds=6)
    assert client.output(sent.invocation_id) == Output(ready=False)
    ran_at = datetime.fromisoformat(client.attach(sent.invocation_id))
    assert ran_at >= sent.execution_time


def test_workflow_submit_output_signal_attach(client: SyncIngressClient) -> None:
    """Output is not ready while the run waits; signal resolves its promise; then the result."""
    flow = client.workflow(app.run)
    workflow_id = unique("w")
    first = flow.submit(workflow_id, "ann@example.com")
    assert first.status == "Accepted"
    second = flow.submit(workflow_id, "ann@example.com")
    assert (second.invocation_id, second.status) == (first.invocation_id, "PreviouslyAccepted")
    assert flow.output(workflow_id) == Output(ready=False)
    with pytest.raises(AlreadyInvoked):
        flow.call(workflow_id, "ann@example.com")
    assert flow.signal(workflow_id, "status") == "waiting"
    assert flow.signal(workflow_id, app.confirm, 4711) == "confirmed 4711"
    assert flow.signal(workflow_id, app.status) == "confirmed 4711"
    receipt = Receipt("ann@example.com:4711", 0.0)
    assert flow.attach(workflow_id) == receipt
    assert flow.output(workflow_id) == Output(True, receipt)
    assert client.workflow("IngSignup", str, Receipt).attach(workflow_id) == receipt
    with pytest.raises(UnknownTarget):
        flow.output(unique("never-submitted"))


def test_awakeables_resolve_and_reject(client: SyncIngressClient) -> None:
    """The handler waiting on an awakeable gets the resolved value, or the rejection."""

    def awakeable_of(mailbox: str) -> str:
        return eventually(lambda: client.object(app.read).call(mailbox))

    mailbox = unique("yes")
    sent = client.service(app.wait_for_awakeable).send(mailbox)
    client.resolve_awakeable(awakeable_of(mailbox), "approved")
    assert client.attach(sent.invocation_id, str) == "approved"

    mailbox = unique("no")
    sent = client.service(app.wait_for_awakeable).send(mailbox)
    client.reject_awakeable(awakeable_of(mailbox), "not today")
    with pytest.raises(InvocationFailed) as caught:
        client.attach(sent.invocation_id)
    assert (caught.value.code, caught.value.message) == (500, "not today")


def test_cancel_through_the_admin_api(client: SyncIngressClient) -> None:
    """cancel ends a running invocation with 409 "cancelled"; a second cancel says False."""
    sent = client.service(app.slow).send(60_000)
    assert client.cancel(sent.invocation_id) is True
    with pytest.raises(InvocationFailed) as caught:
        client.attach(sent.invocation_id)
    assert (caught.value.code, caught.value.message) == (409, "cancelled")
    assert client.cancel(sent.invocation_id) is False


@pytest.mark.parametrize("sync", [False, True], ids=["async-client", "sync-client"])
def test_guard_fires_inside_a_handler_under_strict(
    client: SyncIngressClient, h: Harness, sync: bool
) -> None:
    """An ingress client used in a handler: PolicyViolation, a terminal 500 with the rule."""
    with pytest.raises(InvocationFailed) as caught:
        client.service(app.call_ingress).call(app.Misuse(ingress_url=h.ingress_url, sync=sync))
    assert caught.value.code == 500
    assert "[ingress.inside_handler]" in caught.value.message
    assert caught.value.metadata == {"rea.rule": "ingress.inside_handler"}
