"""The errors of the ingress clients, and which of them each of Restate's error answers is.

The answers are read by `rea._http_errors`, the same reader as the admin client's; `ERRORS`
picks the class.
"""

from __future__ import annotations

from rea._http_errors import GATEWAY_STATUSES, ErrorKinds, Failure
from rea.errors import RestateError, RestateUnavailable

__all__ = [
    "ERRORS",
    "AlreadyInvoked",
    "BadRequest",
    "IngressError",
    "IngressRejected",
    "IngressUnavailable",
    "InvalidResponse",
    "InvocationFailed",
    "NotPublic",
    "UnknownTarget",
]

_ALREADY_INVOKED = "already invoked"
_NOT_PUBLIC = "not public"
_NOT_FOUND = "not found"


class IngressError(RestateError):
    """A request through an ingress client did not produce a result.

    Its attributes are those of every `rea.RestateError`: `status`, `code` (an int: the HTTP
    status for ingress errors, the handler's `TerminalError` status code for failed
    invocations), `restate_code`, `message`, `metadata`, `source`, `operation`,
    `invocation_id` and `stacktrace`.
    """

    default_source = "ingress"


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


class IngressUnavailable(IngressError, RestateUnavailable):
    """No answer from Restate: connection refused or reset, timeout, or a gateway error."""


class InvalidResponse(IngressError):
    """A success response whose body does not fit the declared output type."""


def _error_class(failure: Failure) -> type[IngressError]:
    if failure.unreachable:
        return IngressUnavailable
    if not failure.from_restate:
        return IngressRejected
    status, message, source = failure.status, failure.message, failure.source
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
    if status in GATEWAY_STATUSES:
        return IngressUnavailable
    return IngressRejected


#: The ingress clients' error classes, for `rea._http`.
ERRORS = ErrorKinds(classify=_error_class, unavailable=IngressUnavailable, invalid=InvalidResponse)
