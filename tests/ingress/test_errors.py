"""Restate's error responses become typed errors, on both clients."""

from __future__ import annotations

import pytest

from rea import ingress as ri
from rea.errors import ReaError
from tests.ingress.conftest import DriverFactory, reply, restate_error
from tests.integration.apps.ingress_app import Order, charge, ping, run


def test_unknown_service_is_unknown_target(make: DriverFactory) -> None:
    """404 from the ingress: ri.UnknownTarget with Restate's code, message and source."""
    message = "service 'Nope' not found, make sure to register the service before calling it."
    d = make(restate_error(404, message))
    with pytest.raises(ri.UnknownTarget) as caught:
        d.run(d.client.service("Nope", "x").call(1))
    error = caught.value
    assert isinstance(error, ri.IngressRejected)
    assert isinstance(error, ReaError)
    assert (error.status, error.code, error.message, error.source) == (404, 404, message, "ingress")
    assert str(error) == f"call to Nope/x failed: [404] {message}"


def test_bad_request_and_not_public(make: DriverFactory) -> None:
    """400s are ri.BadRequest; the "not public" one is the ri.NotPublic subclass."""
    d = make(restate_error(400, "bad delay query parameter, must be a ISO8601 duration"))
    with pytest.raises(ri.BadRequest) as caught:
        d.run(d.client.service(ping).call())
    assert not isinstance(caught.value, ri.NotPublic)
    d.responder = restate_error(400, "the invoked service is not public")
    with pytest.raises(ri.NotPublic):
        d.run(d.client.service(ping).call())


def test_second_workflow_run_is_already_invoked(make: DriverFactory) -> None:
    """409 "the workflow method was already invoked" (source invocation): ri.AlreadyInvoked."""
    d = make(restate_error(409, "the workflow method was already invoked", "invocation"))
    with pytest.raises(ri.AlreadyInvoked) as caught:
        d.run(d.client.workflow(run).call("w1", "a@b.c"))
    assert caught.value.status == 409


def test_terminal_errors_are_invocation_failed_with_metadata(make: DriverFactory) -> None:
    """A handler's TerminalError: ri.InvocationFailed with its code, metadata and invocation id."""

    def failed(request: object) -> object:
        body = {
            "code": 503,
            "message": "payment provider down",
            "metadata": {"retry": "later"},
            "stacktrace": "Traceback ...",
            "source": "invocation",
        }
        return reply(
            503, body, **{"x-restate-id": "inv_1f", "x-restate-error-source": "invocation"}
        )

    d = make(failed)
    with pytest.raises(ri.InvocationFailed) as caught:
        d.run(d.client.service(charge).call(Order(id="o", amount=1)))
    error = caught.value
    assert (error.status, error.code, error.source) == (503, 503, "invocation")
    assert error.metadata == {"retry": "later"}
    assert error.invocation_id == "inv_1f"
    assert error.stacktrace == "Traceback ..."
    assert error.operation == "call to IngShop/charge"
    assert len(d.requests) == 1  # an answer, however bad, is never retried


def test_invalid_input_reported_by_the_handler_is_invocation_failed(make: DriverFactory) -> None:
    """A 400 with source "invocation" (rea's InvalidInput) is the handler's, not ri.BadRequest."""
    d = make(restate_error(400, "invalid input: id: Field required", "invocation"))
    with pytest.raises(ri.InvocationFailed) as caught:
        d.run(d.client.service(charge).call(Order(id="o", amount=1)))
    assert not isinstance(caught.value, ri.BadRequest)


def test_source_falls_back_to_the_header(make: DriverFactory) -> None:
    """Without "source" in the body, the x-restate-error-source header decides."""
    d = make(
        lambda r: reply(
            422, {"code": 422, "message": "no"}, **{"x-restate-error-source": "invocation"}
        )
    )
    with pytest.raises(ri.InvocationFailed):
        d.run(d.client.service(ping).call())


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [
        (500, b"<html>Internal Server Error</html>", ri.IngressRejected),
        (401, b"", ri.IngressRejected),
        (502, b"Bad Gateway", ri.IngressUnavailable),
        (503, b"upstream connect error", ri.IngressUnavailable),
        (500, b'["not", "an", "error", "object"]', ri.IngressRejected),
    ],
)
def test_non_json_bodies_are_tolerated(
    make: DriverFactory, status: int, body: bytes, error_type: type[ri.IngressError]
) -> None:
    """A proxy's page or an empty body: its text (or reason) is the message."""
    d = make(lambda r: reply(status, body))
    with pytest.raises(error_type) as caught:
        d.run(d.client.service(ping).call())
    error = caught.value
    assert type(error) is error_type
    assert (error.status, error.code) == (status, status)
    assert error.message == (body.decode() or "Unauthorized")


def test_admin_error_bodies(make: DriverFactory) -> None:
    """The admin API's {"message", "restate_code"} is read too (source "admin")."""
    body = {"message": "The requested invocation 'inv_1x' does not exist", "restate_code": None}
    d = make(lambda r: reply(404, body))
    with pytest.raises(ri.UnknownTarget) as caught:
        d.run(d.client.cancel("inv_1x"))
    assert (caught.value.source, caught.value.message) == ("admin", body["message"])


def test_a_result_that_does_not_fit_the_output_type(make: DriverFactory) -> None:
    """A 200 whose body does not validate: ri.InvalidResponse (not the server's fault)."""
    d = make(lambda r: reply(200, {"order_id": 1}, **{"x-restate-id": "inv_1"}))
    with pytest.raises(ri.InvalidResponse, match="does not fit the output type") as caught:
        d.run(d.client.service(charge).call(Order(id="o", amount=1)))
    assert caught.value.invocation_id == "inv_1"
    d.responder = lambda r: reply(202, {"unexpected": True})
    with pytest.raises(ri.InvalidResponse, match="unexpected answer to POST /IngShop/ping/send"):
        d.run(d.client.service(ping).send())


def test_attaching_to_a_missing_invocation_is_unknown_target(make: DriverFactory) -> None:
    """Restate answers attach to a missing invocation with 404 "not found" from "invocation"."""
    d = make(restate_error(404, "not found", "invocation"))
    with pytest.raises(ri.UnknownTarget):
        d.run(d.client.service(ping).attach(idempotency_key="gone"))
    d.responder = restate_error(404, "order 42 not found", "invocation")
    with pytest.raises(ri.InvocationFailed):
        d.run(d.client.service(ping).call())
