"""RetryPolicy maps onto RunOptions, and action result types are inferred from annotations."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import pytest

import rea
from rea._run import _UNKNOWN, _return_type


def test_retry_policy_maps_to_run_options() -> None:
    """Each RetryPolicy field lands in the matching RunOptions field."""
    policy = rea.RetryPolicy(
        max_attempts=4,
        initial_interval=timedelta(milliseconds=20),
        factor=3.0,
        max_interval=timedelta(seconds=2),
        max_duration=timedelta(minutes=1),
    )
    options = policy.run_options()
    assert options.max_attempts == 4
    assert options.initial_retry_interval == timedelta(milliseconds=20)
    assert options.retry_interval_factor == 3.0
    assert options.max_retry_interval == timedelta(seconds=2)
    assert options.max_duration == timedelta(minutes=1)


def test_default_retry_policy_is_bounded() -> None:
    """The default policy ends after 10 attempts, so no RetryableError can retry forever."""
    assert rea.RetryPolicy().max_attempts == 10
    assert rea.RetryPolicy().bounded
    assert not rea.RetryPolicy(max_attempts=None).bounded
    assert rea.RetryPolicy(max_attempts=None, max_duration=timedelta(seconds=5)).bounded


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"factor": 0.5},
        {"initial_interval": timedelta(0)},
        {"max_interval": timedelta(seconds=-1)},
    ],
)
def test_retry_policy_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    """Impossible settings fail when the policy is made, not at the first retry."""
    with pytest.raises(ValueError):
        rea.RetryPolicy(**kwargs)


def _sync() -> int:
    return 1


async def _async() -> list[str]:
    return []


class _Holder:
    def method(self, x: int) -> float:
        return float(x)


def test_return_types_come_from_annotations() -> None:
    """Sync, async, partial and bound-method actions report their declared result type."""
    assert _return_type(_sync) is int
    assert _return_type(_async) == list[str]
    assert _return_type(functools.partial(_Holder().method, 3)) is float
    assert _return_type(lambda: 1) is _UNKNOWN
    assert _return_type(print) is _UNKNOWN
