"""rea's usage errors stop Restate's retries and still read as the built-in errors they were."""

from __future__ import annotations

import pytest
import restate

import rea
from rea.errors import UsageTypeError, UsageValueError


@pytest.mark.parametrize(
    ("cls", "builtin"), [(UsageTypeError, TypeError), (UsageValueError, ValueError)]
)
def test_usage_errors_are_terminal_and_builtin(cls: type[rea.UsageError], builtin: type) -> None:
    """A usage error is a TerminalError (500, not retried) and its built-in kind."""
    error = cls("call it like this")
    assert isinstance(error, restate.TerminalError)
    assert isinstance(error, builtin)
    assert isinstance(error, rea.ReaError)
    assert error.status_code == 500
    assert str(error) == "call it like this"


def test_rea_apis_raise_usage_errors() -> None:
    """Misuse of rea's API raises UsageError (so a handler's retry cannot loop on it)."""
    with pytest.raises(rea.UsageError, match="max_attempts"):
        rea.RetryPolicy(max_attempts=0)
    with pytest.raises(rea.UsageError, match="must not be None"):
        rea.idempotency_key("order", None)
