"""What each operation sends and how its success response is read, on both clients."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from rea.ingress import Output, SendResult
from tests.ingress.conftest import ADMIN, INGRESS, DriverFactory, reply
from tests.integration.apps.clients_app import confirm as elsewhere
from tests.integration.apps.ingress_app import (
    Order,
    Receipt,
    add,
    charge,
    confirm,
    ping,
    receipts,
    run,
    status,
)
from tests.integration.apps.ingress_app import total as size

RECEIPT = {"order_id": "o1", "charged": 9.5}
RECEIPT_MODEL = Receipt(order_id="o1", charged=9.5)
ACCEPTED = {"invocationId": "inv_1abc", "status": "Accepted"}


def test_call_posts_json_and_returns_the_typed_result(make: DriverFactory) -> None:
    """A typed call sends the model as JSON and validates the answer into the output type."""
    d = make(lambda r: reply(200, RECEIPT))
    result = d.run(d.client.service(charge).call(Order(id="o1", amount=9.5)))
    assert result == Receipt(order_id="o1", charged=9.5)
    assert d.last.method == "POST"
    assert str(d.last.url) == f"{INGRESS}/IngShop/charge"
    assert d.last.headers["content-type"] == "application/json"
    assert json.loads(d.last.content) == {"id": "o1", "amount": 9.5}
    assert "idempotency-key" not in d.last.headers


def test_lists_of_models_round_trip(make: DriverFactory) -> None:
    """list[Model] in and out goes through the pydantic serdes."""
    d = make(lambda r: reply(200, [RECEIPT]))
    assert d.run(d.client.service(receipts).call([Order(id="o1", amount=9.5)])) == [RECEIPT_MODEL]
    assert json.loads(d.last.content) == [{"id": "o1", "amount": 9.5}]


def test_handlers_without_input_get_no_body_and_no_content_type(make: DriverFactory) -> None:
    """Restate answers 400 to a content type for a handler that takes no input."""
    d = make(lambda r: reply(200, "pong"))
    assert d.run(d.client.service(ping).call()) == "pong"
    assert "content-type" not in d.last.headers
    assert d.last.content == b""


def test_untyped_by_name_sends_input_only_when_given(make: DriverFactory) -> None:
    """By name without types: no input means no body; an input is JSON (None is null)."""
    d = make(lambda r: reply(200, {"any": "thing"}))
    facade = d.client.service("Remote", "op")
    assert d.run(facade.call()) == {"any": "thing"}
    assert "content-type" not in d.last.headers
    d.run(facade.call({"x": 1}))
    assert (d.last.headers["content-type"], d.last.content) == ("application/json", b'{"x": 1}')
    d.run(facade.call(None))
    assert d.last.content == b"null"


def test_by_name_with_types_validates_the_result(make: DriverFactory) -> None:
    """Explicit types by name behave as a handler reference; None means no input."""
    d = make(lambda r: reply(200, RECEIPT))
    assert (
        d.run(d.client.service("IngShop", "charge", Order, Receipt).call(Order(id="o1", amount=1)))
        == RECEIPT_MODEL
    )
    d.responder = lambda r: reply(200, "pong")
    assert d.run(d.client.service("IngShop", "ping", None, str).call()) == "pong"
    assert "content-type" not in d.last.headers


def test_input_mistakes_fail_before_sending(make: DriverFactory) -> None:
    """A missing input, an input where none is taken, or one of the wrong shape: TypeError."""
    d = make()
    with pytest.raises(TypeError, match="takes an input"):
        d.run(d.client.service(charge).call())
    with pytest.raises(TypeError, match="takes no input"):
        d.run(d.client.service(ping).call("x"))
    with pytest.raises(TypeError, match="does not fit its type"):
        d.run(d.client.service(charge).call({"id": 1}))
    assert d.requests == []


def test_send_returns_the_send_result(make: DriverFactory) -> None:
    """send posts to .../send and reads invocationId, status and executionTime."""
    body = {
        **ACCEPTED,
        "status": "PreviouslyAccepted",
        "executionTime": "2026-11-24T20:06:03.401000000Z",
    }
    d = make(lambda r: reply(202, body))
    result = d.run(d.client.service(charge).send(Order(id="o", amount=1), delay="10s"))
    assert result == SendResult(
        invocation_id="inv_1abc",
        status="PreviouslyAccepted",
        execution_time=datetime(2026, 11, 24, 20, 6, 3, 401000, tzinfo=UTC),
    )
    assert result.previously_accepted
    assert d.last.url.path == "/IngShop/charge/send"
    assert d.last.url.params["delay"] == "10000ms"
    accepted = SendResult("inv_1", "Accepted")
    assert not accepted.previously_accepted
    assert accepted.execution_time is None


@pytest.mark.parametrize(
    ("delay", "sent"),
    [
        (timedelta(seconds=1.5), "1500ms"),
        (timedelta(0), "0ms"),
        ("500ms", "500ms"),
        ("10s", "10000ms"),
        ("1h 30m", "5400000ms"),
        ("2 days", "172800000ms"),
        ("PT1S", "1000ms"),
        ("P1DT2H", "93600000ms"),
        ("pt0.25s", "250ms"),
    ],
)
def test_delays_are_sent_as_milliseconds_with_a_unit(
    make: DriverFactory, delay: timedelta | str, sent: str
) -> None:
    """Every delay reaches Restate as ``<n>ms``: the SDK's bare number is a 400 there."""
    d = make(lambda r: reply(202, ACCEPTED))
    d.run(d.client.service(ping).send(delay=delay))
    assert d.last.url.params["delay"] == sent


@pytest.mark.parametrize("delay", ["1000", " 5 ", "10x", "P1M", "PT", "soon", timedelta(-1)])
def test_bad_delays_are_rejected_before_sending(make: DriverFactory, delay: object) -> None:
    """A bare number (no unit), months, unknown units, negative delays: ValueError."""
    d = make()
    with pytest.raises(ValueError, match="delay"):
        d.run(d.client.service(ping).send(delay=delay))
    assert d.requests == []


def test_idempotency_key_and_per_request_headers(make: DriverFactory) -> None:
    """The key travels in the idempotency-key header, extra headers beside it."""
    d = make(lambda r: reply(200, RECEIPT))
    d.run(
        d.client.service(charge).call(
            Order(id="o", amount=1), idempotency_key="order-1:charge", headers={"x-trace": "t1"}
        )
    )
    assert d.last.headers["idempotency-key"] == "order-1:charge"
    assert d.last.headers["x-trace"] == "t1"


def test_client_headers_bearer_token_and_user_agent(make: DriverFactory) -> None:
    """auth_token becomes a bearer Authorization header; client headers go everywhere."""
    d = make(lambda r: reply(200, "pong"), auth_token="s3cret", headers={"x-team": "blue"})
    d.run(d.client.service(ping).call())
    assert d.last.headers["authorization"] == "Bearer s3cret"
    assert d.last.headers["x-team"] == "blue"
    assert d.last.headers["user-agent"].startswith("rea/")
    d.run(d.client.cancel("inv_1"))
    assert d.last.headers["authorization"] == "Bearer s3cret"


def test_object_paths_carry_the_escaped_key(make: DriverFactory) -> None:
    """Object calls address /{object}/{key}/{handler}; the key is percent-encoded."""
    d = make(lambda r: reply(200, 3))
    assert d.run(d.client.object(add).call("cart/7 a", 2)) == 3
    assert d.last.url.raw_path == b"/IngCounter/cart%2F7%20a/add"
    d.run(d.client.object(size).call("c1"))
    assert "content-type" not in d.last.headers
    d.responder = lambda r: reply(202, ACCEPTED)
    d.run(d.client.object(add).send("c1", 2, idempotency_key="k"))
    assert d.last.url.path == "/IngCounter/c1/add/send"
    with pytest.raises(ValueError, match="key"):
        d.run(d.client.object(add).call("", 2))


def test_attach_and_output_by_idempotency_key(make: DriverFactory) -> None:
    """GET /restate/invocation/{service}/[{key}/]{handler}/{idempotency key}/attach|output."""
    d = make(lambda r: reply(200, RECEIPT))
    assert d.run(d.client.service(charge).attach(idempotency_key="k 1")) == RECEIPT_MODEL
    assert (d.last.method, d.last.url.raw_path) == (
        "GET",
        b"/restate/invocation/IngShop/charge/k%201/attach",
    )
    assert d.run(d.client.service(charge).output(idempotency_key="k")) == Output(
        ready=True, value=RECEIPT_MODEL
    )
    d.responder = lambda r: reply(200, 4)
    assert d.run(d.client.object(add).attach("c1", idempotency_key="k")) == 4
    assert d.last.url.path == "/restate/invocation/IngCounter/c1/add/k/attach"
    assert d.run(d.client.object(add).output("c1", idempotency_key="k")) == Output(True, 4)
    assert d.last.url.path == "/restate/invocation/IngCounter/c1/add/k/output"


def test_output_not_ready_is_a_value_not_an_error(make: DriverFactory) -> None:
    """HTTP 470 ("has not completed yet") is Output(ready=False)."""
    body = {"code": 470, "message": "the invocation exists but has not completed yet"}
    d = make(lambda r: reply(470, body))
    assert d.run(d.client.service(charge).output(idempotency_key="k")) == Output(ready=False)
    assert d.run(d.client.workflow(run).output("w1")) == Output(ready=False)
    assert d.run(d.client.output("inv_1")) == Output(ready=False, value=None)


def test_workflow_submit_call_attach_output(make: DriverFactory) -> None:
    """Workflows: submit sends to run, attach/output read /restate/workflow/{name}/{id}."""
    d = make(lambda r: reply(202, ACCEPTED))
    flow = d.client.workflow(run)
    assert (
        d.run(flow.submit("w/1", "a@b.c", delay=timedelta(seconds=2))).invocation_id == "inv_1abc"
    )
    assert d.last.url.raw_path == b"/IngSignup/w%2F1/run/send?delay=2000ms"
    assert d.last.url.params["delay"] == "2000ms"
    assert json.loads(d.last.content) == "a@b.c"
    d.responder = lambda r: reply(200, RECEIPT)
    assert d.run(flow.call("w1", "a@b.c")) == RECEIPT_MODEL
    assert d.last.url.path == "/IngSignup/w1/run"
    assert d.run(flow.attach("w1")) == RECEIPT_MODEL
    assert (d.last.method, d.last.url.path) == ("GET", "/restate/workflow/IngSignup/w1/attach")
    assert d.run(flow.output("w1")) == Output(True, RECEIPT_MODEL)
    assert d.last.url.path == "/restate/workflow/IngSignup/w1/output"


def test_workflows_by_name_default_to_the_run_handler(make: DriverFactory) -> None:
    """client.workflow("Name", In, Out) targets "run" unless run= names another handler."""
    d = make(lambda r: reply(202, ACCEPTED))
    d.run(d.client.workflow("IngSignup", str, Receipt).submit("w1", "x"))
    assert d.last.url.path == "/IngSignup/w1/run/send"
    d.run(d.client.workflow("Legacy", run="main").submit("w1"))
    assert d.last.url.path == "/Legacy/w1/main/send"
    assert "content-type" not in d.last.headers


def test_signal_calls_a_shared_handler(make: DriverFactory) -> None:
    """signal by reference (typed) or by name; a handler of another workflow is refused."""
    d = make(lambda r: reply(200, "confirmed 7"))
    flow = d.client.workflow(run)
    assert d.run(flow.signal("w1", confirm, 7, idempotency_key="c7")) == "confirmed 7"
    assert (d.last.url.path, d.last.content) == ("/IngSignup/w1/confirm", b"7")
    assert d.last.headers["idempotency-key"] == "c7"
    d.run(flow.signal("w1", status))
    assert (d.last.url.path, d.last.content) == ("/IngSignup/w1/status", b"")
    d.run(flow.signal("w1", "confirm", 8))
    assert (d.last.url.path, d.last.content) == ("/IngSignup/w1/confirm", b"8")
    with pytest.raises(TypeError, match="not a handler of the workflow IngSignup"):
        flow.signal("w1", elsewhere, 1)


def test_client_attach_and_output_by_invocation_id(make: DriverFactory) -> None:
    """attach/output by id convert to output_type, or give plain JSON without one."""
    d = make(lambda r: reply(200, RECEIPT))
    assert d.run(d.client.attach("inv_1", Receipt)) == RECEIPT_MODEL
    assert d.last.url.path == "/restate/invocation/inv_1/attach"
    assert d.run(d.client.attach("inv_1")) == RECEIPT
    assert d.run(d.client.output("inv_1", Receipt)) == Output(True, RECEIPT_MODEL)
    assert d.last.url.path == "/restate/invocation/inv_1/output"


def test_awakeables(make: DriverFactory) -> None:
    """resolve sends the value as JSON; reject sends the message as text."""
    d = make(lambda r: reply(202, b""))
    assert d.run(d.client.resolve_awakeable("sign_1x", RECEIPT_MODEL)) is None
    assert d.last.url.path == "/restate/awakeables/sign_1x/resolve"
    assert d.last.headers["content-type"] == "application/json"
    assert json.loads(d.last.content) == RECEIPT
    d.run(d.client.reject_awakeable("sign_1x", "no stock"))
    assert d.last.url.path == "/restate/awakeables/sign_1x/reject"
    assert d.last.headers["content-type"].startswith("text/plain")
    assert d.last.content == b"no stock"


def test_cancel_uses_the_admin_api(make: DriverFactory) -> None:
    """PATCH {admin}/invocations/{id}/cancel: True if accepted, False if already completed."""
    d = make(lambda r: reply(202, b""))
    assert d.run(d.client.cancel("inv_1")) is True
    assert (d.last.method, str(d.last.url)) == ("PATCH", f"{ADMIN}/invocations/inv_1/cancel")
    done = {"message": "The invocation 'inv_1' was already completed.", "restate_code": None}
    d.responder = lambda r: reply(409, done)
    assert d.run(d.client.cancel("inv_1")) is False


def test_cancel_without_admin_url_says_how_to_fix_it(make: DriverFactory) -> None:
    """No admin_url: a ValueError naming the option, before any request."""
    d = make(admin_url=None)
    with pytest.raises(ValueError, match="admin_url="):
        d.run(d.client.cancel("inv_1"))
    assert d.requests == []


def test_facade_kind_mismatches_are_type_errors(make: DriverFactory) -> None:
    """A handler of another kind, mixed reference and names, half the types: TypeError."""
    d = make()
    with pytest.raises(TypeError, match=r"object handler: use client.object\(\)"):
        d.client.service(add)
    with pytest.raises(TypeError, match="workflow handler"):
        d.client.object(run)
    with pytest.raises(TypeError, match="not a Restate handler"):
        d.client.service(len)
    with pytest.raises(TypeError, match="both types or neither"):
        d.client.service("S", "h", int)
    with pytest.raises(TypeError, match="handler name"):
        d.client.service("S")
    assert repr(d.client.service(charge)) == "<IngressService IngShop/charge>"
    assert d.client.workflow(run).target == "IngSignup/run"


def test_context_managers_close_the_connections() -> None:
    """with / async with close the underlying httpx client."""
    import asyncio

    from rea.ingress import IngressClient, SyncIngressClient

    with SyncIngressClient(INGRESS) as sync_client:
        assert not sync_client._http.is_closed
    assert sync_client._http.is_closed

    async def use() -> IngressClient:
        async with IngressClient(INGRESS) as client:
            assert not client._http.is_closed
        return client

    assert asyncio.run(use())._http.is_closed
    assert repr(sync_client) == f"SyncIngressClient('{INGRESS}')"


def test_mock_transport_of_the_wrong_kind_is_refused() -> None:
    """A sync-only transport cannot serve the async client (and the reverse)."""
    from rea.ingress import IngressClient, SyncIngressClient

    with pytest.raises(TypeError, match="AsyncBaseTransport"):
        IngressClient(INGRESS, transport=httpx.HTTPTransport())
    with pytest.raises(TypeError, match="BaseTransport"):
        SyncIngressClient(INGRESS, transport=httpx.AsyncHTTPTransport())
