"""Unit tests of rea.patterns._breaker: settings, the default failure test, the refusal error."""

from __future__ import annotations

from datetime import timedelta

import pytest
import restate

from rea.errors import ReaError, UsageValueError
from rea.patterns import BreakerStatus, CircuitBreaker, CircuitOpen, server_errors
from rea.patterns._breaker import BREAKERS, _probe_due, _Settings


def test_defaults_and_the_object() -> None:
    """The defaults are 5 failures in 60 s, 30 s cool-down; the object is rea.CircuitBreaker."""
    breaker = CircuitBreaker()
    assert (breaker.threshold, breaker.window, breaker.cool_down) == (
        5,
        timedelta(seconds=60),
        timedelta(seconds=30),
    )
    assert breaker.retry.max_attempts == 3
    assert CircuitBreaker.object is BREAKERS
    assert isinstance(BREAKERS, restate.VirtualObject)
    assert BREAKERS.name == "rea.CircuitBreaker"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0},
        {"window": timedelta(0)},
        {"cool_down": timedelta(seconds=-1)},
        {"probe_timeout": timedelta(0)},
    ],
)
def test_bad_settings_are_usage_errors(kwargs: dict[str, object]) -> None:
    """A threshold below 1 or a duration that is not positive is refused at construction."""
    with pytest.raises(UsageValueError):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]


def test_settings_travel_in_milliseconds() -> None:
    """The settings sent to the object are whole milliseconds."""
    breaker = CircuitBreaker(threshold=2, window=timedelta(seconds=1.5))
    assert breaker._settings() == _Settings(
        threshold=2, window_ms=1500, cool_down_ms=30_000, probe_timeout_ms=60_000
    )


@pytest.mark.parametrize(
    ("status", "counted"), [(500, True), (503, True), (400, False), (404, False)]
)
def test_server_errors_count_and_client_errors_do_not(status: int, counted: bool) -> None:
    """The default failure test counts 5xx terminal errors only."""
    assert server_errors(restate.TerminalError("x", status_code=status)) is counted


def test_circuit_open_is_a_terminal_503() -> None:
    """The refusal is a terminal 503 and a rea error, naming the dependency and the wait."""
    error = CircuitOpen("payments", timedelta(milliseconds=1500))
    assert isinstance(error, restate.TerminalError)
    assert isinstance(error, ReaError)
    assert error.status_code == 503
    assert (error.name, error.retry_after) == ("payments", timedelta(milliseconds=1500))
    assert str(error) == "circuit breaker 'payments' is open: the call was refused; a probe in 1.5s"


def test_probe_due_counts_from_the_opening_and_from_the_probe() -> None:
    """Open: the cool-down runs from the opening; half-open: the timeout from the probe."""
    settings = _Settings(threshold=1, window_ms=1, cool_down_ms=1000, probe_timeout_ms=5000)
    opened = BreakerStatus(state="open", opened_at_ms=10_000)
    assert _probe_due(opened, settings, 10_400) == 600
    assert _probe_due(opened, settings, 11_000) == 0
    probing = BreakerStatus(state="half_open", probe_at_ms=20_000)
    assert _probe_due(probing, settings, 21_000) == 4000
    assert _probe_due(probing, settings, 30_000) == 0
