"""Errors raised by rea.

Every error rea raises on its own account derives from `ReaError`. Errors raised inside handlers
that must stop Restate from retrying are also `restate.TerminalError`s, each with a fixed status
code that reaches the caller as the HTTP status of the ingress response::

    ReaError
    ├── PolicyViolation           (TerminalError, 500) a guard fired under the STRICT policy
    ├── InvalidInput              (TerminalError, 400) handler input failed validation
    ├── OutputSerializationError  (TerminalError, 500) a handler's result cannot be serialized
    ├── UsageError                (TerminalError, 500) rea's API used wrongly; the message names
    │   │                         the fix (a retry would make the same call again)
    │   ├── UsageTypeError        also a TypeError (wrong argument types, a missing key)
    │   └── UsageValueError       also a ValueError (an empty name, a bad limit)
    ├── LoopLimitExceeded         (TerminalError, 508) a `rea.loop` went past max_iterations
    ├── ServerNotInstalledError   the restate-server binary cannot be found or installed
    ├── ServerStartError          a restate-server process did not become healthy
    ├── AppStartError             an app process did not serve or could not be loaded
    ├── RegistrationError         the Restate admin API refused a deployment
    ├── SdkIncompatible           the installed restate-sdk lacks something rea relies on
    └── RestateError              a request to the Restate server gave no result
        ├── RestateUnavailable    no answer: connection refused or reset, timeout, 502/503/504
        ├── IngressError          from `rea.IngressClient` (tree in `rea.ingress`)
        │   └── IngressUnavailable    also a RestateUnavailable
        └── AdminError            from `rea.AdminClient`
            └── AdminUnavailable      also a RestateUnavailable

Every `RestateError` carries the same attributes, whichever API it came from: `status` (the
HTTP status, None without an answer), `code` (an int: Restate's code, the status by default),
`restate_code` (Restate's own error code such as ``"META0003"``, when it sends one),
`message`, `metadata`, `source`, `operation`, `invocation_id` and `stacktrace`. So
``except rea.RestateUnavailable`` catches "Restate is unreachable" from both clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from restate import TerminalError

__all__ = [
    "AppStartError",
    "InvalidInput",
    "OutputSerializationError",
    "PolicyViolation",
    "ReaError",
    "RegistrationError",
    "RestateError",
    "RestateUnavailable",
    "SdkIncompatible",
    "ServerNotInstalledError",
    "ServerStartError",
    "UsageError",
    "UsageTypeError",
    "UsageValueError",
]


class ReaError(Exception):
    """Root of every error raised by rea itself."""


class _TerminalReaError(ReaError, TerminalError):
    """A rea error that ends the invocation: Restate does not retry it."""

    status: ClassVar[int] = 500

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        TerminalError.__init__(
            self, message, status_code=self.status, metadata=dict(metadata) if metadata else None
        )

    def __str__(self) -> str:
        return self.message


class PolicyViolation(_TerminalReaError):
    """A guard fired while the policy is STRICT; the message names the rule and the fix.

    Status 500: the handler's code is at fault, not the caller.
    """

    status = 500

    def __init__(self, rule: str, message: str, *, fix: str) -> None:
        self.rule = rule
        self.fix = fix
        super().__init__(f"[{rule}] {message}. Fix: {fix}", metadata={"rea.rule": rule})


class InvalidInput(_TerminalReaError):
    """Handler input failed validation; the message names each offending field.

    Status 400: the caller sent bad input, and retrying it cannot help.
    """

    status = 400

    def __init__(self, message: str, *, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        self.errors = [dict(e) for e in errors]
        super().__init__(message)


class OutputSerializationError(_TerminalReaError):
    """A handler returned a value that does not fit its declared output type.

    Status 500: retrying would produce the same value again.
    """

    status = 500


class UsageError(_TerminalReaError):
    """rea's API was used wrongly; the message says how to call it instead.

    Terminal (status 500): inside a handler a retry would make the same wrong call again, so
    Restate must not retry it. Outside handlers it is a plain exception.
    """

    status = 500


class UsageTypeError(UsageError, TypeError):
    """A `UsageError` that is also a `TypeError`: an argument of the wrong type or count."""


class UsageValueError(UsageError, ValueError):
    """A `UsageError` that is also a `ValueError`: an argument with a value rea cannot use."""


class ServerNotInstalledError(ReaError):
    """The restate-server binary is missing and cannot be installed as asked."""


class ServerStartError(ReaError):
    """A restate-server process exited or did not become healthy in time."""


class AppStartError(ReaError):
    """An app could not be imported, is not an ASGI app, or did not start serving."""


class RegistrationError(ReaError):
    """The Restate admin API refused to register a deployment."""


class RestateError(ReaError):
    """A request to the Restate server (ingress or admin API) did not produce a result.

    Attributes:
        message: Restate's error message (or the response text when it was not Restate's JSON).
        status: The HTTP status of the response; None when no response arrived.
        code: Restate's error code as an int: the handler's `TerminalError` status for a failed
            invocation, else the HTTP status; None when no response arrived.
        restate_code: Restate's own error code (``"META0003"``) when the server sends one.
        metadata: The `TerminalError` metadata the handler attached, if any.
        source: ``"invocation"`` (the handler failed), ``"ingress"`` (the ingress refused the
            request), ``"admin"`` (the admin API refused it), ``"transport"`` (no response) or
            ``"client"`` (an answer rea cannot read).
        operation: What was attempted, e.g. ``"call to Orders/create"``.
        invocation_id: The invocation the response names (``x-restate-id``), if any.
        stacktrace: The handler's stack trace when Restate reports one.
    """

    #: The `source` of an error whose response names none: the API the client talks to.
    default_source: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        restate_code: str | None = None,
        metadata: Mapping[str, str] | None = None,
        source: str | None = None,
        operation: str = "",
        invocation_id: str | None = None,
        stacktrace: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code if code is not None else status
        self.restate_code = restate_code
        self.metadata: dict[str, str] = dict(metadata or {})
        self.source = source or self.default_source
        self.operation = operation
        self.invocation_id = invocation_id
        self.stacktrace = stacktrace
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.operation} failed: " if self.operation else ""
        codes = " ".join(str(c) for c in (self.code, self.restate_code) if c is not None)
        return f"{where}[{codes}] {self.message}" if codes else f"{where}{self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class RestateUnavailable(RestateError):
    """No answer from Restate: connection refused or reset, timeout, or a gateway error.

    The ingress and admin clients raise their own subclasses (`IngressUnavailable`,
    `AdminUnavailable`); catch this one to handle both alike.
    """


class SdkIncompatible(ReaError):
    """The installed restate-sdk lacks an attribute, method or signature that rea relies on.

    Raised when `rea.app` is built (or when rea is imported, for a missing SDK module); the
    message names the installed SDK version and the missing piece. See docs/sdk.md.
    """
