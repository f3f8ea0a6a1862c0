"""Errors of the admin clients: what the server said, or that it could not be reached."""

from __future__ import annotations

from rea._http_errors import ErrorKinds, Failure
from rea.errors import RestateError, RestateUnavailable

__all__ = ["ERRORS", "AdminError", "AdminUnavailable"]


class AdminError(RestateError):
    """The Restate admin API answered with an error (or with something that is not its API).

    Its attributes are those of every `rea.RestateError`, notably:

    Attributes:
        status: The HTTP status (404 unknown service or invocation, 409 wrong state for the
            operation, 400 / 422 a malformed request, 500 a failed discovery or query), or
            None when no answer came (`AdminUnavailable`).
        code: The same number as `status` (the admin API has no other numeric code).
        restate_code: Restate's error code when the server gives one (``"META0003"``).
        message: The server's own message (its JSON ``message``, or the plain-text body).
        operation: What was attempted, e.g. ``"registration of http://app:9080"``.
    """

    default_source = "admin"


class AdminUnavailable(AdminError, RestateUnavailable):
    """The admin API could not be reached: connection refused, timeout, broken connection."""


def _error_class(failure: Failure) -> type[AdminError]:
    return AdminUnavailable if failure.unreachable else AdminError


#: The admin clients' error classes, for `rea._http`.
ERRORS = ErrorKinds(classify=_error_class, unavailable=AdminUnavailable, invalid=AdminError)
