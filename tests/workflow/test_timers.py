"""`sleep_until`, `race` and `PromiseRacer` without a server: arguments, outcomes, scaling."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from restate import TerminalError

import rea
from rea.errors import UsageTypeError, UsageValueError
from rea.workflow import PromiseRacer, RaceResult, RaceWinner, _time, race, sleep_until
from tests.workflow.fakes import FakeContext, data_plane, fake_wait


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch) -> FakeContext:
    fake_wait(monkeypatch)
    return FakeContext()


@pytest.fixture
def half_time() -> Iterator[None]:
    release = _time.override_time_scale(0.5)
    yield
    release()


# -- sleep_until ---------------------------------------------------------------------------------
async def test_a_naive_datetime_is_a_usage_type_error_naming_the_fix() -> None:
    """Naive datetimes depend on the machine's timezone: refused before anything is journaled."""
    with pytest.raises(UsageTypeError, match=r"naive datetime.*tzinfo=datetime\.UTC"):
        await sleep_until(object(), datetime(2030, 1, 1))  # type: ignore[arg-type]


@pytest.mark.parametrize("when", ["2030-01-01T00:00:00Z", 1893456000.0, None])
async def test_sleep_until_needs_a_datetime(when: Any) -> None:
    """Strings and timestamps are no datetimes."""
    with pytest.raises(UsageTypeError, match="must be a datetime with a timezone"):
        await sleep_until(object(), when)  # type: ignore[arg-type]


async def test_a_naive_datetime_is_terminal() -> None:
    """The error is a TerminalError: Restate does not retry the same mistake."""
    with pytest.raises(TerminalError):
        await sleep_until(object(), datetime(2030, 1, 1))  # type: ignore[arg-type]


# -- RaceResult and RaceWinner -------------------------------------------------------------------
def test_a_race_result_holds_a_value_or_a_timeout() -> None:
    """unwrap gives the value, or raises a 408 TerminalError after a timeout."""
    assert RaceResult(value=3).unwrap() == 3
    assert RaceResult(value=None).unwrap() is None
    with pytest.raises(TerminalError) as raised:
        RaceResult[int](timed_out=True).unwrap()
    assert raised.value.status_code == 408
    with pytest.raises(UsageValueError):
        RaceResult(value=1, timed_out=True)


def test_a_race_winner_names_the_contestant() -> None:
    """A RaceWinner is a RaceResult with the winner's name."""
    winner = RaceWinner(name="approved", value=True)
    assert isinstance(winner, RaceResult)
    assert (winner.name, winner.unwrap(), winner.timed_out) == ("approved", True, False)
    with pytest.raises(AttributeError):
        winner.name = "other"  # type: ignore[misc]


# -- race ----------------------------------------------------------------------------------------
async def test_race_returns_the_value_when_the_future_wins(ctx: FakeContext) -> None:
    """The future completes first: its value."""
    future = ctx.future(42, done=True)
    result = await race(ctx, future, timeout=timedelta(seconds=5))  # type: ignore[arg-type]
    assert result == RaceResult(value=42)
    assert ctx.sleeps == [timedelta(seconds=5)]


async def test_race_times_out_when_the_timer_wins(ctx: FakeContext, monkeypatch: Any) -> None:
    """Only the timer completes: timed out, the future is left alone."""
    future = ctx.future(42)
    ctx.done.add(future.handle + 1)  # the timer is the next future made
    result = await race(ctx, future, timeout=2.5)  # type: ignore[arg-type]
    assert result == RaceResult(timed_out=True)
    assert ctx.sleeps == [timedelta(seconds=2.5)]


async def test_on_a_tie_the_future_wins(ctx: FakeContext) -> None:
    """Both complete together: the value, not the timeout."""
    future = ctx.future("value", done=True)
    ctx.done.add(future.handle + 1)
    assert (await race(ctx, future, timeout=0)).value == "value"  # type: ignore[arg-type]


async def test_a_failed_winner_raises_its_error(ctx: FakeContext) -> None:
    """A rejected awakeable (say) wins with its TerminalError: raised as is."""
    future = ctx.future(error=TerminalError("rejected", 403), done=True)
    with pytest.raises(TerminalError, match="rejected") as raised:
        await race(ctx, future, timeout=1)  # type: ignore[arg-type]
    assert raised.value.status_code == 403


async def test_race_takes_a_durable_promise_itself(ctx: FakeContext) -> None:
    """A DurablePromise races through its value future."""
    promise = ctx.promise("approved")
    ctx.complete(promise.future)
    assert (await race(ctx, promise, timeout=1)).value == "promise approved"  # type: ignore[arg-type]


async def test_race_timeouts_are_scaled(ctx: FakeContext, half_time: None) -> None:
    """Under a time scale the journaled timer is shortened."""
    future = ctx.future(1, done=True)
    await race(ctx, future, timeout=timedelta(hours=48))  # type: ignore[arg-type]
    assert ctx.sleeps == [timedelta(hours=24)]


@pytest.mark.parametrize(
    ("timeout", "error", "match"),
    [
        (-1, UsageValueError, "must not be negative"),
        (timedelta(seconds=-1), UsageValueError, "must not be negative"),
        ("10s", UsageTypeError, "timedelta or a number of seconds"),
        (True, UsageTypeError, "timedelta or a number of seconds"),
        (float("inf"), UsageValueError, "finite"),
        (1e300, UsageValueError, "too large"),
    ],
)
async def test_race_checks_its_timeout(
    ctx: FakeContext, timeout: Any, error: type[Exception], match: str
) -> None:
    """Bad timeouts are usage errors, raised before any timer is journaled."""
    with pytest.raises(error, match=match):
        await race(ctx, ctx.future(1), timeout=timeout)  # type: ignore[arg-type]
    assert ctx.sleeps == []


async def test_race_needs_a_durable_future_of_its_context(ctx: FakeContext) -> None:
    """Plain awaitables and futures of another context are refused before the timer."""
    with pytest.raises(UsageTypeError, match="not a durable future"):
        await race(ctx, asyncio.sleep(0), timeout=1)  # type: ignore[arg-type]
    with pytest.raises(UsageTypeError, match="another handler's context"):
        await race(ctx, FakeContext().future(1), timeout=1)  # type: ignore[arg-type]
    assert ctx.sleeps == []


# -- PromiseRacer --------------------------------------------------------------------------------
async def test_the_racer_names_the_winner_then_races_the_rest(ctx: FakeContext) -> None:
    """Winners leave the race; the next wait is against the same deadline."""
    racer = PromiseRacer(ctx, timeout=timedelta(minutes=10))  # type: ignore[arg-type]
    racer.promise("cancel")
    awakeable_id = racer.awakeable("approve")
    call = ctx.future("called")
    racer.add("call", call)
    assert awakeable_id.startswith("sign_")
    ctx.complete(call)
    assert await racer.wait() == RaceWinner(name="call", value="called")
    ctx.done.update(range(1, 10))  # everything else, the timer included
    assert await racer.wait() == RaceWinner(name="cancel", value="promise cancel")
    assert await racer.wait() == RaceWinner(name="approve", value="awakened")
    with pytest.raises(UsageValueError, match="no contestant left"):
        await racer.wait()
    assert ctx.sleeps == [timedelta(minutes=10)]


async def test_the_racer_times_out(ctx: FakeContext) -> None:
    """Only the deadline passed: timed out, without a name."""
    racer = PromiseRacer(ctx, timeout=1)  # type: ignore[arg-type]
    ctx.done.add(1)  # the timer, made first
    racer.promise("cancel")
    assert await racer.wait() == RaceWinner(timed_out=True)


async def test_a_failed_winner_leaves_the_race(ctx: FakeContext) -> None:
    """The winner's error is raised, and the next wait races the others."""
    racer = PromiseRacer(ctx, timeout=1)  # type: ignore[arg-type]
    racer.add("bad", ctx.future(error=TerminalError("boom"), done=True))
    racer.add("good", ctx.future("ok", done=True))
    with pytest.raises(TerminalError, match="boom"):
        await racer.wait()
    assert (await racer.wait()).name == "good"


def test_the_racer_checks_names_and_futures(ctx: FakeContext, half_time: None) -> None:
    """Empty and repeated names, rea's reserved promises and non-futures are refused."""
    racer = PromiseRacer(ctx, timeout=timedelta(hours=2))  # type: ignore[arg-type]
    assert ctx.sleeps == [timedelta(hours=1)]  # scaled
    racer.promise("a")
    with pytest.raises(UsageValueError, match="already"):
        racer.awakeable("a")
    with pytest.raises(UsageValueError, match="non-empty name"):
        racer.promise("")
    with pytest.raises(TerminalError, match="reserved by rea") as reserved:
        racer.promise("_rea.output")
    assert reserved.value.status_code == 400
    with pytest.raises(UsageTypeError, match="not a durable future"):
        racer.add("b", "not a future")  # type: ignore[arg-type]


# -- the data-plane guard ------------------------------------------------------------------------
async def test_timers_are_orchestration_refused_in_the_data_plane(ctx: FakeContext) -> None:
    """sleep_until, race and PromiseRacer report plane.orchestration_in_data_plane first."""
    when = datetime.now(UTC) + timedelta(hours=1)
    with data_plane():
        with pytest.raises(rea.PolicyViolation, match=r"rea\.sleep_until\(\)") as raised:
            await sleep_until(ctx, when)  # type: ignore[arg-type]
        assert raised.value.rule == "plane.orchestration_in_data_plane"
        with pytest.raises(rea.PolicyViolation, match=r"rea\.race\(\)"):
            await race(ctx, ctx.future(1), timeout=1)  # type: ignore[arg-type]
        with pytest.raises(rea.PolicyViolation, match=r"rea\.PromiseRacer\(\)"):
            PromiseRacer(ctx, timeout=1)  # type: ignore[arg-type]
    assert ctx.sleeps == []
