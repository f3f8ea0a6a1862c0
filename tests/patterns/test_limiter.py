"""Unit tests of rea.patterns._limiter: settings, the bucket's refill and the queue's pump."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import restate

from rea.errors import UsageValueError
from rea.patterns import _limiter
from rea.patterns._limiter import (
    LIMITERS,
    LimiterStatus,
    RateLimiter,
    _clock,
    _pump,
    _refill,
    _Settings,
    _Waiter,
)


class _Ctx:
    """Just enough of an object context for `_pump`: what it resolves and when it ticks."""

    def __init__(self) -> None:
        self.resolved: list[str] = []

    def resolve_awakeable(self, name: str, value: Any) -> None:
        self.resolved.append(name)

    def key(self) -> str:
        return "res"


class _Tick:
    def __init__(self) -> None:
        self.delays: list[timedelta] = []

    def send(self, ctx: Any, key: str, settings: Any, *, delay: timedelta) -> None:
        self.delays.append(delay)


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> _Tick:
    """Ticks recorded instead of sent."""
    tick = _Tick()
    monkeypatch.setattr(_limiter, "_TICK", tick)
    return tick


def _queue(*permits: str) -> list[_Waiter]:
    return [_Waiter(permit=p, ticket=i + 1) for i, p in enumerate(permits)]


RATED = _Settings(rate=10, burst=2, max_in_flight=None, lease_ms=1000)
POOLED = _Settings(rate=None, burst=1, max_in_flight=2, lease_ms=1000)


def test_the_object_and_the_defaults() -> None:
    """The object is rea.RateLimiter; burst defaults to 1 and the lease to 5 minutes."""
    assert RateLimiter.object is LIMITERS
    assert isinstance(LIMITERS, restate.VirtualObject)
    assert LIMITERS.name == "rea.RateLimiter"
    limiter = RateLimiter(rate=2)
    assert (limiter.burst, limiter.max_in_flight, limiter.lease) == (1, None, timedelta(minutes=5))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"rate": 0},
        {"rate": 1, "burst": 0},
        {"max_in_flight": 0},
        {"max_in_flight": 1, "lease": timedelta(0)},
    ],
)
def test_bad_settings_are_usage_errors(kwargs: dict[str, Any]) -> None:
    """No limit at all, a rate or size that is not positive, or no lease is refused."""
    with pytest.raises(UsageValueError):
        RateLimiter(**kwargs)


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    """An unused bucket is full; it gains rate tokens per second and never exceeds burst."""
    assert _refill(LimiterStatus(), RATED, 0) == 2
    status = LimiterStatus(tokens=0.0, refilled_at_ms=1000)
    assert _refill(status, RATED, 1050) == pytest.approx(0.5)
    assert _refill(status, RATED, 9000) == 2


def test_a_full_bucket_grants_its_burst_then_ticks_for_the_next_token(ticks: _Tick) -> None:
    """Burst 2, three waiting: two granted in order, a tick 100 ms later for the third."""
    ctx = _Ctx()
    status = LimiterStatus(queue=_queue("a", "b", "c"))
    _pump(ctx, status, RATED, 5000)  # type: ignore[arg-type]
    assert ctx.resolved == ["a", "b"]
    assert [w.permit for w in status.queue] == ["c"]
    assert ticks.delays == [timedelta(milliseconds=101)]
    assert status.tick_at_ms == 5101
    _pump(ctx, status, RATED, 5050)  # type: ignore[arg-type]
    assert ticks.delays == [timedelta(milliseconds=101)]  # the pending tick is early enough


def test_a_direct_grant_resolves_no_awakeable(ticks: _Tick) -> None:
    """The caller granted by the reply to its own request is not also resolved."""
    ctx = _Ctx()
    status = LimiterStatus(queue=_queue("a"))
    _pump(ctx, status, RATED, 0, direct="a")  # type: ignore[arg-type]
    assert ctx.resolved == []
    assert status.queue == []
    assert ticks.delays == []


def test_a_full_pool_waits_for_the_first_lease_and_drops_expired_ones(ticks: _Tick) -> None:
    """Two held: the waiter ticks at the earliest lease end; once it passed, it is granted."""
    ctx = _Ctx()
    status = LimiterStatus(in_flight={"x": 3000, "y": 2000}, queue=_queue("a"))
    _pump(ctx, status, POOLED, 1000)  # type: ignore[arg-type]
    assert ctx.resolved == []
    assert ticks.delays == [timedelta(seconds=1)]
    _pump(ctx, status, POOLED, 2000)  # type: ignore[arg-type]
    assert ctx.resolved == ["a"]
    assert status.in_flight == {"x": 3000, "a": 3000}


def test_the_objects_clock_never_goes_back() -> None:
    """A request with an older time (or none, 0) is handled at the latest time seen."""
    status = LimiterStatus()
    assert _clock(status, 5000) == 5000
    assert _clock(status, 4000) == 5000
    assert _clock(status, 0) == 5000
    assert _clock(status, 6000) == 6000
