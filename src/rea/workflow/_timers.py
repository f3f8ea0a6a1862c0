"""Durable timers: sleep until a time, race a future against a timeout, race named promises.

Everything here waits through durable timers (``ctx.sleep``) and the SDK's combinator
``restate.wait_completed``, never through asyncio: the core takes completions from the journal
in journal order, so which contestant won is the same on every replay. Time comes from the
journal too (`rea.now`), never from the wall clock, so a replay computes the same durations.

All durations pass through the process's time scale (`rea.workflow._time`) before they reach
the journal: 1 in production, below 1 under `rea.testing.Harness(time_scale=...)`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

import restate
from restate import DurablePromise, RestateDurableFuture, TerminalError

from rea import _sdk
from rea._concurrency import _durable
from rea._invocation import RESERVED_PROMISE_PREFIX, base_method, checked, require_control_plane
from rea._run import now
from rea._serde import serde_for
from rea.errors import UsageTypeError, UsageValueError
from rea.workflow._time import duration, scaled

__all__ = ["PromiseRacer", "RaceResult", "RaceWinner", "race", "sleep_until"]

ValueT = TypeVar("ValueT")

#: The status of the `TerminalError` that `RaceResult.unwrap` raises after a timeout.
TIMED_OUT_STATUS = 408


# Not slotted: ``RaceResult[int](...)`` sets ``__orig_class__``, which a frozen slotted
# dataclass refuses with a TypeError (a plain frozen one with an AttributeError typing ignores).
@dataclass(frozen=True, kw_only=True)
class RaceResult(Generic[ValueT]):
    """How `race` ended: the future's value, or timed out.

    Attributes:
        value: The future's value (None when the race timed out).
        timed_out: Whether the timeout came first.
    """

    value: ValueT | None = None
    timed_out: bool = False

    def __post_init__(self) -> None:
        if self.timed_out and self.value is not None:
            raise UsageValueError("a race result that timed out has no value")

    def unwrap(self) -> ValueT:
        """The value.

        Raises:
            TerminalError: Status 408, when the race timed out.
        """
        if self.timed_out:
            raise TerminalError("timed out before the awaited result came", TIMED_OUT_STATUS)
        return cast(ValueT, self.value)


@dataclass(frozen=True, kw_only=True)
class RaceWinner(RaceResult[ValueT]):
    """How `PromiseRacer.wait` ended: which contestant won and its value, or timed out.

    Attributes:
        name: The winner's name (None when the race timed out).
    """

    name: str | None = None


def _aware(when: object, operation: str) -> datetime:
    if not isinstance(when, datetime):
        raise UsageTypeError(
            f"{operation}: when must be a datetime with a timezone, not {type(when).__name__}"
        )
    if when.tzinfo is None or when.utcoffset() is None:
        raise UsageTypeError(
            f"{operation}: {when.isoformat()} is a naive datetime, whose meaning depends on the "
            "machine's timezone; give it one: when.replace(tzinfo=datetime.UTC), or build it "
            "from rea.now(ctx) (UTC)"
        )
    return when


async def sleep_until(ctx: restate.Context, when: datetime) -> None:
    """Sleep durably until `when`; a time already past returns at once.

    The remaining time is `when` minus the journaled current time (`rea.now`), so a replay
    computes the same duration and waits for the same timer. It is rounded up to a whole
    millisecond, so the handler never resumes before `when`. Under a time scale ``s`` (tests)
    the wait is ``(when - rea.now(ctx)) * s``: the time left is measured in real journaled
    time, then shortened; `rea.now` itself is not scaled.

    Args:
        ctx: The handler's context.
        when: The time to wake up at, with a timezone.

    Raises:
        UsageTypeError: `when` is not a datetime, or is naive (no timezone).
        PolicyViolation: Used in a data-plane service, under STRICT
            (``plane.orchestration_in_data_plane``).
    """
    operation = "rea.sleep_until()"
    _aware(when, operation)
    checked(ctx, operation)
    require_control_plane(operation)
    remaining = when - await now(ctx)
    if remaining <= timedelta(0):
        return  # decided on journaled time: a replay decides the same
    await base_method(ctx, "sleep")(scaled(remaining, round_up=True))


def _contestant(ctx: object, future: object, operation: str) -> RestateDurableFuture[Any]:
    """`future` as an SDK durable future of `ctx` (a promise becomes its value future)."""
    if isinstance(future, DurablePromise):
        future = future.value()
    (checked_future,) = _durable([future], operation)
    if _sdk.future_context(checked_future) is not ctx:
        raise UsageTypeError(f"{operation}: the future belongs to another handler's context")
    return checked_future


async def race(
    ctx: restate.Context, future: Awaitable[ValueT], *, timeout: timedelta | float
) -> RaceResult[ValueT]:
    """Wait for `future`, at most `timeout`; whichever completes first decides.

    Equivalent to the hand-written ``restate.select(done=future, timeout=ctx.sleep(timeout))``
    and journals the same entries. After a timeout the future is left as it is: a call goes on
    running (cancel it with ``await future.cancel_invocation()`` if it should not), and a
    promise or awakeable completed later is simply never read.

    Args:
        ctx: The handler's context.
        future: Any durable future of this context: a promise (or its ``value()``), an
            awakeable's future, a call, a `rea.run_async` run, a sleep.
        timeout: A timedelta, or seconds.

    Returns:
        A `RaceResult` with the future's value, or ``timed_out=True``. When both are complete
        at the same time, the future wins.

    Raises:
        TerminalError: The future won with a failure (its own error, e.g. a rejected
            awakeable).
        UsageTypeError: `future` is not a durable future of `ctx`, or `timeout` is no duration.
        UsageValueError: `timeout` is negative.
        PolicyViolation: Used in a data-plane service, under STRICT.
    """
    operation = "rea.race()"
    checked(ctx, operation)
    require_control_plane(operation)
    delta = duration(timeout, what=f"{operation}: timeout")
    contestant = _contestant(ctx, future, operation)
    timer = base_method(ctx, "sleep")(scaled(delta))
    completed, _ = await restate.wait_completed(contestant, timer)
    if any(done is contestant for done in completed):
        return RaceResult(value=await contestant)
    return RaceResult(timed_out=True)


class PromiseRacer:
    """Race named promises, awakeables and other durable futures against one deadline.

    The deadline's timer is journaled when the racer is created; add the contestants, then
    `wait`::

        racer = rea.PromiseRacer(ctx, timeout=timedelta(hours=48))
        racer.promise("approved")                  # a workflow promise, by name
        manager = racer.awakeable("manager")       # an awakeable: hand its id to someone
        winner = await racer.wait()                # RaceWinner: name and value, or timed_out

    A winner leaves the race, so calling `wait` again waits for the next one against the same
    deadline. Contestants that complete together win in the order they were added.

    Args:
        ctx: The handler's context.
        timeout: How long from now the race may last: a timedelta, or seconds.

    Raises:
        UsageTypeError, UsageValueError: `timeout` is no duration, or negative.
        PolicyViolation: Used in a data-plane service, under STRICT.
    """

    __slots__ = ("_contestants", "_ctx", "_timer")

    def __init__(self, ctx: restate.Context, *, timeout: timedelta | float) -> None:
        operation = "rea.PromiseRacer()"
        checked(ctx, operation)
        require_control_plane(operation)
        delta = duration(timeout, what=f"{operation}: timeout")
        self._ctx = ctx
        self._contestants: dict[str, RestateDurableFuture[Any]] = {}
        self._timer: RestateDurableFuture[None] = base_method(ctx, "sleep")(scaled(delta))

    def _new_name(self, name: object, operation: str) -> str:
        checked(self._ctx, operation)
        if not isinstance(name, str) or not name:
            raise UsageValueError(f"{operation}: a contestant needs a non-empty name")
        if name in self._contestants:
            raise UsageValueError(f"{operation}: {name!r} is in the race already")
        return name

    def promise(self, name: str, *, type_hint: type[Any] | None = None) -> None:
        """Add the workflow's durable promise `name` (its contestant name is the same).

        Args:
            name: The promise's name.
            type_hint: The value's type (a model, a dataclass...), to get it back typed.
        """
        operation = f"rea.PromiseRacer.promise({name!r})"
        self._new_name(name, operation)
        if name.startswith(RESERVED_PROMISE_PREFIX):
            # As rea's guarded ctx.promise says: rea keeps workflow results in these.
            raise TerminalError(
                f"the promise name {name!r} is reserved by rea (names starting with "
                f"{RESERVED_PROMISE_PREFIX!r})",
                status_code=400,
            )
        promise = base_method(self._ctx, "promise")(name, **_serde(type_hint))
        self._contestants[name] = promise.value()

    def awakeable(self, name: str, *, type_hint: type[Any] | None = None) -> str:
        """Add a new awakeable under `name`; return its id, for whoever completes it.

        Args:
            name: The contestant's name.
            type_hint: The value's type, to get it back typed.

        Returns:
            The awakeable's id (``sign_...``).
        """
        self._new_name(name, f"rea.PromiseRacer.awakeable({name!r})")
        awakeable_id, future = base_method(self._ctx, "awakeable")(**_serde(type_hint))
        self._contestants[name] = future
        return cast(str, awakeable_id)

    def add(self, name: str, future: Awaitable[Any]) -> None:
        """Add any durable future of the handler's context (a call, a run...) under `name`.

        Raises:
            UsageTypeError: `future` is not a durable future of the context.
        """
        operation = f"rea.PromiseRacer.add({name!r})"
        self._new_name(name, operation)
        self._contestants[name] = _contestant(self._ctx, future, operation)

    async def wait(self) -> RaceWinner[Any]:
        """Wait until a contestant completes or the deadline passes.

        Returns:
            The winner's name and value (it leaves the race), or ``timed_out=True``.

        Raises:
            TerminalError: The winner failed (its own error); it leaves the race too.
            UsageValueError: No contestant is left.
        """
        checked(self._ctx, "rea.PromiseRacer.wait()")
        if not self._contestants:
            raise UsageValueError(
                "rea.PromiseRacer.wait(): no contestant left; add some with promise(), "
                "awakeable() or add()"
            )
        contestants = list(self._contestants.items())
        completed, _ = await restate.wait_completed(*(f for _, f in contestants), self._timer)
        done = {id(future) for future in completed}
        for name, future in contestants:
            if id(future) in done:
                del self._contestants[name]
                return RaceWinner(name=name, value=await future)
        return RaceWinner(timed_out=True)


def _serde(type_hint: type[Any] | None) -> dict[str, Any]:
    """The SDK keyword for values of `type_hint`: rea's pydantic serde, or the SDK's default."""
    return {} if type_hint is None else {"serde": serde_for(type_hint)}
