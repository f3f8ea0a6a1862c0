"""Restate's error answers, read once for the ingress and the admin API.

Restate answers a failed request with a JSON object: the ingress with ``{"code", "message",
"metadata"?, "stacktrace"?, "source"}`` (the HTTP status equal to the code), the admin API with
``{"message", "restate_code"}``. Anything else (a proxy's HTML page, an empty body) is kept as
text. `read_failure` reads any of them into a `Failure`; which `rea.RestateError` subclass it
becomes is the client's choice, given as `ErrorKinds`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from rea.errors import RestateError

__all__ = ["GATEWAY_STATUSES", "ErrorKinds", "Failure", "read_failure"]

#: Statuses a proxy or load balancer in front of Restate answers when Restate is not reachable.
GATEWAY_STATUSES = frozenset({502, 503, 504})
_MAX_TEXT = 500  # of a non-JSON body quoted in a message (an HTML error page, say)


@dataclass(frozen=True, slots=True)
class Failure:
    """An error answer of Restate (or of something in front of it), read.

    Attributes:
        status: The HTTP status.
        message: Restate's message, or the body's text (its reason phrase when empty).
        code: Restate's numeric code (a handler's `TerminalError` status), else the status.
        restate_code: The admin API's ``restate_code`` (``"META0003"``), if any.
        metadata: The `TerminalError` metadata, if any.
        source: Who answered, as the body or the ``x-restate-error-source`` header says;
            None when neither says.
        invocation_id: The ``x-restate-id`` header, if any.
        stacktrace: The handler's stack trace, if Restate sent one.
        from_restate: Whether the body was Restate's JSON error object.
    """

    status: int
    message: str
    code: int
    restate_code: str | None
    metadata: dict[str, str]
    source: str | None
    invocation_id: str | None
    stacktrace: str | None
    from_restate: bool

    @property
    def unreachable(self) -> bool:
        """A gateway's 502/503/504 without Restate's body: Restate itself was not reached."""
        return not self.from_restate and self.status in GATEWAY_STATUSES

    def details(self) -> dict[str, Any]:
        """Keyword arguments for a `RestateError` (all but the message and operation)."""
        return {
            "status": self.status,
            "code": self.code,
            "restate_code": self.restate_code,
            "metadata": self.metadata,
            "source": self.source,
            "invocation_id": self.invocation_id,
            "stacktrace": self.stacktrace,
        }


def _error_object(response: httpx.Response) -> dict[str, Any] | None:
    """The JSON error object of `response`, or None when it has none."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("message"), str) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def read_failure(response: httpx.Response) -> Failure:
    """What a failed response (its body read) says, whichever API or proxy sent it."""
    status = response.status_code
    body = _error_object(response)
    invocation_id = response.headers.get("x-restate-id")
    if body is None:
        message = response.text.strip()[:_MAX_TEXT] or response.reason_phrase or "no body"
        return Failure(status, message, status, None, {}, None, invocation_id, None, False)
    code = body.get("code")
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    # The admin API names no source; its restate_code key (null or not) tells its bodies apart.
    source = _text(body.get("source")) or response.headers.get("x-restate-error-source")
    return Failure(
        status=status,
        message=body["message"],
        code=code if isinstance(code, int) and not isinstance(code, bool) else status,
        restate_code=_text(body.get("restate_code")),
        metadata={str(k): str(v) for k, v in metadata.items()}
        if isinstance(metadata, dict)
        else {},
        source=source or ("admin" if "restate_code" in body else None),
        invocation_id=invocation_id,
        stacktrace=_text(body.get("stacktrace")),
        from_restate=True,
    )


@dataclass(frozen=True, slots=True)
class ErrorKinds:
    """The `RestateError` subclasses one client raises.

    Attributes:
        classify: The class for an error answer.
        unavailable: The class for no answer (a `RestateUnavailable`).
        invalid: The class for a success answer that is not what the API promises.
    """

    classify: Callable[[Failure], type[RestateError]]
    unavailable: type[RestateError]
    invalid: type[RestateError]

    def from_response(self, response: httpx.Response, operation: str) -> RestateError:
        """The error for the failed `response` of `operation` (returned, not raised)."""
        failure = read_failure(response)
        return self.classify(failure)(failure.message, operation=operation, **failure.details())

    def unreadable(self, response: httpx.Response, operation: str, detail: str) -> RestateError:
        """The error for a success answer that cannot be read (`detail` says why)."""
        return self.invalid(
            detail,
            status=response.status_code,
            source="client",
            operation=operation,
            invocation_id=response.headers.get("x-restate-id"),
        )
