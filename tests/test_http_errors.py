"""One reader of Restate's error answers (`rea._http_errors`) and the shared error classes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import rea
from rea._http_errors import ErrorKinds, read_failure
from rea.admin import AdminError, AdminUnavailable
from rea.errors import ReaError, RestateError, RestateUnavailable
from rea.ingress import IngressError, IngressUnavailable


def answer(status: int, body: Any = None, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers)


def test_an_ingress_error_body() -> None:
    """``{"code", "message", "metadata", "stacktrace", "source"}`` with the invocation id."""
    body = {
        "code": 422,
        "message": "order r1 refused",
        "metadata": {"reason": "limit", "n": 2},
        "stacktrace": "Traceback ...",
        "source": "invocation",
    }
    failure = read_failure(answer(422, body, **{"x-restate-id": "inv_1"}))
    assert (failure.status, failure.code, failure.message) == (422, 422, "order r1 refused")
    assert failure.metadata == {"reason": "limit", "n": "2"}
    assert (failure.source, failure.invocation_id) == ("invocation", "inv_1")
    assert failure.stacktrace == "Traceback ..."
    assert (failure.restate_code, failure.from_restate, failure.unreachable) == (None, True, False)


def test_an_admin_error_body() -> None:
    """``{"message", "restate_code"}``: the code is the status, the source is the admin API."""
    body = {"message": "[META0003] error when calling 'http://app/'", "restate_code": "META0003"}
    failure = read_failure(answer(500, body))
    assert (failure.status, failure.code, failure.restate_code) == (500, 500, "META0003")
    assert (failure.source, failure.metadata, failure.stacktrace) == ("admin", {}, None)
    assert read_failure(answer(404, {"message": "gone", "restate_code": None})).source == "admin"


def test_the_source_header_when_the_body_names_none() -> None:
    failure = read_failure(
        answer(422, {"message": "no"}, **{"x-restate-error-source": "invocation"})
    )
    assert failure.source == "invocation"
    assert read_failure(answer(400, {"message": "bad"})).source is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Internal Server Error</html>", "<html>Internal Server Error</html>"),
        (b"", "Unauthorized"),
        (b'["not", "an", "error", "object"]', '["not", "an", "error", "object"]'),
        (b'{"code": 500}', '{"code": 500}'),
        (b"x" * 600, "x" * 500),
    ],
)
def test_anything_else_is_text(body: bytes, message: str) -> None:
    failure = read_failure(answer(401 if not body else 500, body))
    assert failure.message == message
    assert (failure.code, failure.source, failure.from_restate) == (failure.status, None, False)


def test_odd_fields_are_ignored_not_trusted() -> None:
    body = {"code": True, "message": "m", "metadata": ["x"], "stacktrace": 3, "restate_code": 7}
    failure = read_failure(answer(409, body))
    assert (failure.code, failure.metadata, failure.stacktrace) == (409, {}, None)
    assert failure.restate_code is None


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateways_page_means_restate_was_not_reached(status: int) -> None:
    assert read_failure(answer(status, b"no healthy upstream")).unreachable
    assert not read_failure(answer(status, {"code": status, "message": "m"})).unreachable
    assert not read_failure(answer(500, b"oops")).unreachable


def test_error_kinds_build_the_clients_classes() -> None:
    kinds = ErrorKinds(
        classify=lambda f: IngressUnavailable if f.unreachable else IngressError,
        unavailable=IngressUnavailable,
        invalid=IngressError,
    )
    error = kinds.from_response(answer(404, {"code": 404, "message": "nope"}), "call to S/h")
    assert type(error) is IngressError
    assert (error.operation, error.source) == ("call to S/h", "ingress")
    assert str(error) == "call to S/h failed: [404] nope"
    bad = kinds.unreadable(answer(200, b"<html>"), "call to S/h", "unexpected answer")
    assert (bad.status, bad.source, bad.message) == (200, "client", "unexpected answer")


def test_one_base_for_unreachable_and_one_for_every_restate_error() -> None:
    """``except rea.RestateUnavailable`` catches both clients' "no answer"."""
    assert rea.RestateError is RestateError
    assert rea.RestateUnavailable is RestateUnavailable
    for unavailable, family in ((IngressUnavailable, IngressError), (AdminUnavailable, AdminError)):
        assert issubclass(unavailable, RestateUnavailable)
        assert issubclass(unavailable, family)
        assert issubclass(family, RestateError)
        assert issubclass(family, ReaError)
    assert not issubclass(AdminError, RestateUnavailable)


def test_the_attributes_are_the_same_everywhere() -> None:
    """code is an int (the status unless Restate says otherwise), restate_code a str."""
    admin = AdminError("discovery failed", status=500, restate_code="META0003", operation="x")
    assert (admin.code, admin.restate_code, admin.source) == (500, "META0003", "admin")
    assert str(admin) == "x failed: [500 META0003] discovery failed"
    ingress = IngressError("refused", status=422, code=418, metadata={"k": "v"})
    assert (ingress.code, ingress.restate_code, ingress.source) == (418, None, "ingress")
    assert ingress.metadata == {"k": "v"}
    assert str(ingress) == "[418] refused"
    gone = AdminUnavailable("cannot reach it", source="transport")
    assert (gone.status, gone.code, str(gone)) == (None, None, "cannot reach it")
    assert repr(gone) == "AdminUnavailable(status=None, message='cannot reach it')"
