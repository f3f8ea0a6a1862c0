"""Errors of the admin clients: what the server said, or that it could not be reached."""

from __future__ import annotations

from rea.errors import ReaError

__all__ = ["AdminError", "AdminUnavailable"]


class AdminError(ReaError):
    """The Restate admin API answered with an error (or with something that is not its API).

    Attributes:
        status: The HTTP status (404 unknown service or invocation, 409 wrong state for the
            operation, 400 / 422 a malformed request, 500 a failed discovery or query), or
            None when no answer came (`AdminUnavailable`).
        message: The server's own message (its JSON ``message``, or the plain-text body).
        code: Restate's error code when the server gives one (``META0003``), else None.
    """

    def __init__(self, status: int | None, message: str, *, code: str | None = None) -> None:
        self.status = status
        self.message = message
        self.code = code
        super().__init__(message)

    def __str__(self) -> str:
        code = f" {self.code}" if self.code else ""
        return f"[{self.status}{code}] {self.message}" if self.status else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class AdminUnavailable(AdminError):
    """The admin API could not be reached: connection refused, timeout, broken connection."""

    def __init__(self, message: str) -> None:
        super().__init__(None, message)
