"""The errors of the ingress clients, and how Restate's error responses map onto them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from rea.errors import ReaError

__all__ = [
    "AlreadyInvoked",
    "BadRequest",
    "IngressError",
    "IngressRejected",
    "IngressUnavailable",
    "InvalidResponse",
    "InvocationFailed",
    "NotPublic",
    "UnknownTarget",
    "error_from_response",
]

#: Statuses a proxy or load balancer in front of Restate answers when Restate is not reachable.
_GATEWAY_STATUSES = frozenset({502, 503, 504})
_ALREADY_INVOKED = "already invoked"
_NOT_PUBLIC = "not public"
_NOT_FOUND = "not found"
_MAX_TEXT = 500  # of a non-JSON body quoted in a message (an HTML error page, say)


class IngressError(ReaError):
    """A request to the Restate ingress (or admin API) did not produce a result.

    Attributes:
        status: The HTTP status of the response; None when no response arrived.
        code: Restate's error code (the HTTP status for ingress errors; the handler's
            `TerminalError` status code for failed invocations); None without a response.
        message: Restate's error message (or the response text when it was not JSON).
        metadata: The `TerminalError` metadata the handler attached, if any.
        source: ``"invocation"`` (the handler failed), ``"ingress"`` (Restate refused the
            request), ``"admin"`` (the admin API refused it) or ``"transport"`` (no response).
        operation: What was attempted, e.g. ``"call to Orders/create"``.
        invocation_id: The invocation the response names (``x-restate-id``), if any.
        stacktrace: The handler's stack trace when Restate reports one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        metadata: Mapping[str, str] | None = None,
        source: str = "ingress",
        operation: str = "",
        invocation_id: str | None = None,
        stacktrace: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code if code is not None else status
        self.metadata: dict[str, str] = dict(metadata or {})
        self.source = source
        self.operation = operation
        self.invocation_id = invocation_id
        self.stacktrace = stacktrace
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.operation} failed: " if self.operation else ""
        code = f"[{self.code}] " if self.code is not None else ""
        return f"{where}{code}{self.message}"


class InvocationFailed(IngressError):
    """The invocation ran and ended with a terminal error (`code` is its status code)."""


class IngressRejected(IngressError):
    """Restate refused the request without running anything (source ingress or admin)."""


class UnknownTarget(IngressRejected):
    """404: no such service or handler, or no invocation with that id or idempotency key."""


class BadRequest(IngressRejected):
    """400: the request is malformed (input without content type, bad id, bad delay...)."""


class NotPublic(BadRequest):
    """The handler is private to the ingress (``ingress_private=True``): call it from handlers."""


class AlreadyInvoked(IngressRejected):
    """409: the workflow's run handler was already invoked for this workflow id."""


class IngressUnavailable(IngressError):
    """No answer from Restate: connection refused or reset, timeout, or a gateway error."""


class InvalidResponse(IngressError):
    """A success response whose body does not fit the declared output type."""


def _body(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON error object of `response`, or None when it has none."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("message"), str) else None


def _metadata(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def error_from_response(response: httpx.Response, operation: str) -> IngressError:
    """The typed error for a failed (status >= 400) response of `operation`.

    Restate answers ``{"code", "message", "metadata"?, "stacktrace"?, "source"}`` with the HTTP
    status equal to the code; the admin API ``{"message", "restate_code"}``. Anything else
    (a proxy's HTML page, an empty body) is reported with its text.

    Args:
        response: The response, with its body read.
        operation: What was attempted, for the message.

    Returns:
        The error to raise (it is not raised here).
    """
    status = response.status_code
    body = _body(response)
    invocation_id = response.headers.get("x-restate-id")
    if body is None:
        text = response.text.strip()[:_MAX_TEXT] or response.reason_phrase or "no body"
        kind: type[IngressError] = (
            IngressUnavailable if status in _GATEWAY_STATUSES else IngressRejected
        )
        return kind(text, status=status, operation=operation, invocation_id=invocation_id)
    message: str = body["message"]
    source = str(body.get("source") or response.headers.get("x-restate-error-source") or "")
    if not source:
        source = "admin" if "restate_code" in body else "ingress"
    code = body.get("code")
    details: dict[str, Any] = {
        "status": status,
        "code": code if isinstance(code, int) else status,
        "metadata": _metadata(body.get("metadata")),
        "source": source,
        "operation": operation,
        "invocation_id": invocation_id,
        "stacktrace": body.get("stacktrace") if isinstance(body.get("stacktrace"), str) else None,
    }
    return _error_class(status, message, source)(message, **details)


def _error_class(status: int, message: str, source: str) -> type[IngressError]:
    # The 409 for a second run of a workflow comes with source "invocation", yet nothing ran:
    # the message is the only thing that tells it from a handler that failed with 409.
    if status == 409 and _ALREADY_INVOKED in message:
        return AlreadyInvoked
    # Attaching to a missing invocation answers 404 "not found" with source "invocation" too;
    # a handler's own 404 says what was not found.
    if status == 404 and message == _NOT_FOUND:
        return UnknownTarget
    if source == "invocation":
        return InvocationFailed
    if status == 404:
        return UnknownTarget
    if status == 400:
        return NotPublic if _NOT_PUBLIC in message else BadRequest
    if status in _GATEWAY_STATUSES:
        return IngressUnavailable
    return IngressRejected
