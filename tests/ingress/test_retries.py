"""Requests that got no answer are repeated when nothing reached Restate, or when that is safe;
the in-handler guard."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

import rea.ingress._core as core
from rea import Policy, PolicyViolation, policy_override
from rea._invocation import InvocationState
from rea.ingress import IngressUnavailable, Output
from tests.ingress.conftest import DriverFactory, reply
from tests.integration.apps.ingress_app import Order, Receipt, charge, ping, run

RECEIPT = {"order_id": "o", "charged": 1.0}
RECEIPT_MODEL = Receipt(order_id="o", charged=1.0)


def failing(
    times: int, then: httpx.Response | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """A responder that fails to connect `times` times, then answers `then`."""
    left = [times]

    def respond(request: httpx.Request) -> httpx.Response:
        if left[0] > 0:
            left[0] -= 1
            raise httpx.ConnectError("connection refused", request=request)
        assert then is not None
        return then

    return respond


def broken(error: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    """A responder failing every request with `error` (raised after the request went out)."""

    def respond(request: httpx.Request) -> httpx.Response:
        raise error("connection reset by peer", request=request)

    return respond


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout])
def test_call_without_key_is_retried_when_nothing_reached_restate(
    make: DriverFactory, error: type[httpx.TransportError]
) -> None:
    """No connection could be made: repeating the call cannot run the handler twice."""
    answers = iter([error, error])

    def respond(request: httpx.Request) -> httpx.Response:
        failure = next(answers, None)
        if failure is not None:
            raise failure("connection refused", request=request)
        return reply(200, RECEIPT)

    d = make(respond)
    assert d.run(d.client.service(charge).call(Order(id="o", amount=1))) == RECEIPT_MODEL
    assert len(d.requests) == 3
    assert "idempotency-key" not in d.last.headers
    d.responder = failing(1, reply(202, {"invocationId": "inv_1", "status": "Accepted"}))
    assert d.run(d.client.service(ping).send()).invocation_id == "inv_1"
    assert len(d.requests) == 5


def test_connect_errors_without_key_are_retried_only_retries_times(make: DriverFactory) -> None:
    """The same bound as for safe requests: retries=2 means three attempts."""
    d = make(failing(5))
    with pytest.raises(IngressUnavailable, match=r"\(after 3 attempts\)") as caught:
        d.run(d.client.service(charge).call(Order(id="o", amount=1)))
    assert len(d.requests) == 3
    assert caught.value.source == "transport"
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert "cannot reach the Restate ingress at http://ingress.test:8080" in str(caught.value)


@pytest.mark.parametrize(
    "error", [httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadTimeout]
)
def test_call_without_key_is_not_retried_once_it_may_have_reached_restate(
    make: DriverFactory, error: type[httpx.TransportError]
) -> None:
    """Sent, then the connection broke or timed out: a repeat could run the handler twice."""
    d = make(broken(error))
    with pytest.raises(IngressUnavailable, match="not retried") as caught:
        d.run(d.client.service(charge).call(Order(id="o", amount=1)))
    assert len(d.requests) == 1
    assert caught.value.source == "transport"
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, error)
    assert "an idempotency key makes it safe" in str(caught.value)
    with pytest.raises(IngressUnavailable):
        d.run(d.client.service(ping).send())
    assert len(d.requests) == 2


def test_keyed_call_is_retried_until_it_succeeds(make: DriverFactory) -> None:
    """With an idempotency key a repeat finds the same invocation: safe."""
    d = make(failing(2, reply(200, "pong")))
    assert d.run(d.client.service(ping).call(idempotency_key="k")) == "pong"
    assert len(d.requests) == 3
    assert {r.headers["idempotency-key"] for r in d.requests} == {"k"}


def test_retries_are_bounded(make: DriverFactory) -> None:
    """retries=2 means three attempts, then IngressUnavailable."""
    d = make(failing(10))
    with pytest.raises(IngressUnavailable, match="after 3 attempts"):
        d.run(d.client.service(ping).send(idempotency_key="k"))
    assert len(d.requests) == 3
    d = make(failing(10), retries=0)
    with pytest.raises(IngressUnavailable, match="after 1 attempts"):
        d.run(d.client.service(ping).call(idempotency_key="k"))
    assert len(d.requests) == 1


@pytest.mark.parametrize(
    "operation",
    [
        lambda c: c.attach("inv_1"),
        lambda c: c.service("S", "h").output(idempotency_key="k"),
        lambda c: c.workflow("W").attach("w1"),
        lambda c: c.workflow(run).submit("w1", "a@b.c"),
        lambda c: c.resolve_awakeable("sign_1", 1),
        lambda c: c.reject_awakeable("sign_1", "no"),
        lambda c: c.cancel("inv_1"),
    ],
    ids=["attach", "output", "workflow-attach", "submit", "resolve", "reject", "cancel"],
)
def test_safe_operations_are_retried(make: DriverFactory, operation: Callable[..., object]) -> None:
    """Reads, awakeable completions, cancels and workflow submits are safe to repeat, even
    after a failure that came once the request was sent."""
    ok = reply(202, {"invocationId": "inv_1", "status": "Accepted"})
    answers = iter([httpx.ReadError, httpx.RemoteProtocolError])

    def respond(request: httpx.Request) -> httpx.Response:
        failure = next(answers, None)
        if failure is not None:
            raise failure("connection reset by peer", request=request)
        return ok

    d = make(respond)
    d.run(operation(d.client))
    assert len(d.requests) == 3


def test_gateway_errors_are_retried_when_safe(make: DriverFactory) -> None:
    """A 503 without a Restate body means Restate was not reached: like no answer."""
    answers = iter([reply(503, b"no healthy upstream"), reply(200, "pong")])
    d = make(lambda r: next(answers))
    assert d.run(d.client.workflow("W").output("w1")) == Output(True, "pong")
    assert len(d.requests) == 2
    d.responder = lambda r: reply(503, b"no healthy upstream")
    with pytest.raises(IngressUnavailable, match="no healthy upstream"):
        d.run(d.client.service(ping).call())
    assert len(d.requests) == 3


def test_timeouts_count_as_no_answer(make: DriverFactory) -> None:
    """A read timeout on a keyed call is retried; on an unkeyed one it is not."""

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    d = make(slow)
    with pytest.raises(IngressUnavailable, match="ReadTimeout"):
        d.run(d.client.service(ping).call())
    assert len(d.requests) == 1
    with pytest.raises(IngressUnavailable):
        d.run(d.client.service(ping).call(idempotency_key="k"))
    assert len(d.requests) == 4


@pytest.fixture
def inside_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend a rea-managed handler is running in this context."""
    state = InvocationState("Shop", "service", "checkout", None, None)
    monkeypatch.setattr(core, "current_state", lambda: state)


@pytest.mark.usefixtures("inside_handler")
def test_guard_fires_inside_a_handler_under_strict(make: DriverFactory) -> None:
    """Rule ingress.inside_handler, raised before anything is sent."""
    d = make(lambda r: reply(200, "pong"))
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation) as caught:
        d.run(d.client.service(ping).call())
    assert caught.value.rule == "ingress.inside_handler"
    assert "rea.ServiceClient" in caught.value.fix
    assert d.requests == []


@pytest.mark.usefixtures("inside_handler")
def test_guard_warns_and_proceeds_under_warn(
    make: DriverFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Under WARN the request goes out and the violation is logged."""
    d = make(lambda r: reply(200, "pong"))
    with policy_override(Policy.WARN), caplog.at_level(logging.WARNING, "rea.policy"):
        assert d.run(d.client.service(ping).call()) == "pong"
    assert "ingress.inside_handler" in caplog.text


def test_guard_sees_bare_sdk_handlers(make: DriverFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's own context variable counts too (handlers not served by rea.app)."""
    monkeypatch.setattr(core, "in_handler", lambda: True)
    d = make(lambda r: reply(200, "pong"))
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation):
        d.run(d.client.service(ping).call())


def test_malformed_idempotency_keys_go_through_the_policy(make: DriverFactory) -> None:
    """The same key checks as in handlers: a control character is a violation."""
    d = make(lambda r: reply(200, "pong"))
    with policy_override(Policy.STRICT), pytest.raises(PolicyViolation, match="malformed"):
        d.run(d.client.service(ping).call(idempotency_key="bad\nkey"))
    assert d.requests == []


def test_workflow_call_is_retried_only_when_nothing_reached_restate(make: DriverFactory) -> None:
    """A workflow call takes no key: a repeat after sending would find the run started; the
    message points at the safe pair instead."""
    d = make(failing(1, reply(200, RECEIPT)))
    assert d.run(d.client.workflow(run).call("w1", "a@b.c")) == RECEIPT_MODEL
    assert len(d.requests) == 2
    d.responder = broken(httpx.ReadError)
    with pytest.raises(IngressUnavailable) as caught:
        d.run(d.client.workflow(run).call("w1", "a@b.c"))
    assert len(d.requests) == 3
    assert str(caught.value).endswith(
        "(not retried: it may have reached Restate; submit() then attach() are safe to repeat)"
    )
