"""Unit tests of rea.patterns._aggregate: the policies' checks and the result types."""

from __future__ import annotations

import pytest
import restate

from rea.errors import ReaError, UsageValueError
from rea.patterns import Aggregated, AggregateFailed, Quorum
from rea.patterns._aggregate import _policy_of


@pytest.mark.parametrize("n", [0, -1, True, 1.5])
def test_a_quorum_needs_a_positive_int(n: object) -> None:
    """Quorum(n) refuses anything but an int of at least 1."""
    with pytest.raises(UsageValueError):
        Quorum(n)  # type: ignore[arg-type]


def test_policies_are_checked_against_the_futures() -> None:
    """A quorum above the number of futures, or an unknown policy, is a usage error."""
    assert _policy_of("all", 3) == "all"
    assert _policy_of(Quorum(3), 3) == Quorum(3)
    with pytest.raises(UsageValueError, match="can never be met"):
        _policy_of(Quorum(4), 3)
    with pytest.raises(UsageValueError, match="policy must be"):
        _policy_of("most", 3)
    with pytest.raises(UsageValueError, match="policy must be"):
        _policy_of(2, 3)


def test_aggregated_is_a_mapping_of_the_values() -> None:
    """The result maps names to values in order; errors and pending are beside them."""
    error = restate.TerminalError("no", status_code=502)
    result = Aggregated({"a": 1, "c": 3}, {"b": error}, ("d",))
    assert dict(result) == {"a": 1, "c": 3}
    assert list(result) == ["a", "c"]
    assert result["c"] == 3
    assert len(result) == 2
    assert result.errors == {"b": error}
    assert result.pending == ("d",)
    assert not result.ok
    assert Aggregated({"a": 1}, {}).ok
    assert "errors={'b': 'no'}" in repr(result)


def test_aggregate_failed_keeps_the_first_status_and_every_error() -> None:
    """The failure is terminal, a rea error, with the first failure's status and all names."""
    errors = {
        "b": restate.TerminalError("b down", status_code=502),
        "c": restate.TerminalError("c gone", status_code=404),
    }
    failed = AggregateFailed("a future failed", errors, {"a": 1})
    assert isinstance(failed, restate.TerminalError)
    assert isinstance(failed, ReaError)
    assert failed.status_code == 502
    assert failed.succeeded == {"a": 1}
    assert str(failed) == ("rea.aggregate(): a future failed: 'b': [502] b down; 'c': [404] c gone")
