"""Errors raised by rea.

Every error rea raises on its own account derives from `ReaError`. Errors raised inside handlers
that must stop Restate from retrying are also `restate.TerminalError`s, each with a fixed status
code that reaches the caller as the HTTP status of the ingress response::

    ReaError
    ├── PolicyViolation           (TerminalError, 500) a guard fired under the STRICT policy
    ├── InvalidInput              (TerminalError, 400) handler input failed validation
    ├── OutputSerializationError  (TerminalError, 500) a handler's result cannot be serialized
    ├── ServerNotInstalledError   the restate-server binary cannot be found or installed
    ├── ServerStartError          a restate-server process did not become healthy
    ├── AppStartError             an app process did not serve or could not be loaded
    └── RegistrationError         the Restate admin API refused a deployment
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
    "ServerNotInstalledError",
    "ServerStartError",
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


class ServerNotInstalledError(ReaError):
    """The restate-server binary is missing and cannot be installed as asked."""


class ServerStartError(ReaError):
    """A restate-server process exited or did not become healthy in time."""


class AppStartError(ReaError):
    """An app could not be imported, is not an ASGI app, or did not start serving."""


class RegistrationError(ReaError):
    """The Restate admin API refused to register a deployment."""
