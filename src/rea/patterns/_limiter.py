"""`rea.RateLimiter`: a durable rate and concurrency limiter, one virtual object per resource.

The limiter's state lives in the virtual object ``rea.RateLimiter`` (key: the resource's name):
a token bucket (`rate` permits per second, up to `burst` at once), a maximum of permits held at
once (`max_in_flight`), or both, and one FIFO queue of waiting callers.

A caller creates an awakeable and asks the object for a permit with one awaited call; the
object grants it at once, or queues the awakeable's id and resolves it when the permit is
available: on a `release`, or on a ``_tick`` the object sends itself (a delayed one-way send)
for the next token or the next lease to expire. Nobody polls. Tokens are refilled on journaled
time the requests bring (the callers' `rea.now`; see `_clock`), so replays see the same bucket.

A permit of `max_in_flight` is held until `release` (``async with limiter.hold(...)`` does it
on any exit, failure and cancellation included) or until its `lease` runs out: a holder that
never releases (its invocation was killed) gives its permit back after the lease. A caller
cancelled or failing while it waits in the queue leaves it (the same `release`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import restate
from pydantic import BaseModel
from restate import TerminalError

from rea._clients import ObjectClient
from rea._invocation import checked
from rea._run import now
from rea._state import StateKey
from rea.errors import UsageValueError

__all__ = ["LimiterStatus", "Permit", "RateLimiter"]


class _Settings(BaseModel):
    """The caller's configuration, sent along (the object keeps no configuration of its own)."""

    rate: float | None
    burst: int
    max_in_flight: int | None
    lease_ms: int


class _Request(BaseModel):
    settings: _Settings
    permit: str
    """The caller's awakeable id: the permit's identity, resolved when it is granted."""
    at_ms: int
    """The caller's journaled time (the object's clock: see `_clock`)."""


class _Grant(BaseModel):
    granted: bool
    ticket: int
    """The caller's place in line: tickets are handed out in arrival order, from 1."""


class _Release(BaseModel):
    settings: _Settings
    permit: str
    at_ms: int = 0
    """0: no time of its own (a release is handled on the object's clock)."""


class _Tick(BaseModel):
    settings: _Settings
    at_ms: int
    """When the tick was due: it runs then or later."""


class _Waiter(BaseModel):
    permit: str
    ticket: int


class LimiterStatus(BaseModel):
    """A limiter's state, as the object keeps it and its ``state`` handler returns it."""

    tokens: float | None = None
    """Tokens in the bucket at `refilled_at_ms` (None: full, or no rate)."""
    refilled_at_ms: int = 0
    in_flight: dict[str, int] = {}
    """Held permits (of `max_in_flight`): permit id -> when its lease ends (epoch ms)."""
    queue: list[_Waiter] = []
    issued: int = 0
    """Tickets handed out so far."""
    tick_at_ms: int | None = None
    """When the pending ``_tick`` is due (None: none pending)."""
    clock_ms: int = 0
    """The latest time a request brought (epoch ms): the object's clock."""


STATUS = StateKey("status", LimiterStatus, default=LimiterStatus())

LIMITERS = restate.VirtualObject(
    "rea.RateLimiter",
    description="rea: rate and concurrency limiters (key: the resource's name)",
)


async def _now_ms(ctx: restate.Context) -> int:
    return int((await now(ctx)).timestamp() * 1000)


def _clock(status: LimiterStatus, at_ms: int) -> int:
    """The object's now: the latest of the times its requests brought, never going back.

    The callers read the clock (journaled, in parallel), not the object: a clock read in the
    exclusive handler is a journaled run, a round trip to the server for every permit of the
    one hot key. A request's time is a little old when it is handled, so the bucket refills a
    little late and leases end a little late: the error is on the safe side.
    """
    status.clock_ms = max(at_ms, status.clock_ms)
    return status.clock_ms


def _refill(status: LimiterStatus, settings: _Settings, at: int) -> float:
    """Tokens in the bucket at `at` (rate only)."""
    assert settings.rate is not None
    if status.tokens is None:
        return float(settings.burst)
    elapsed = max(0, at - status.refilled_at_ms) / 1000
    return min(float(settings.burst), status.tokens + elapsed * settings.rate)


def _pump(
    ctx: restate.ObjectContext,
    status: LimiterStatus,
    settings: _Settings,
    at: int,
    *,
    direct: str | None = None,
) -> None:
    """Grant queued permits while the limits allow, then make sure a tick wakes the rest.

    Args:
        ctx: The object's context.
        status: The state, changed in place.
        settings: The caller's settings.
        at: Now (journaled), epoch milliseconds.
        direct: A permit granted by the reply to its own request, not by its awakeable.
    """
    status.in_flight = {p: end for p, end in status.in_flight.items() if end > at}
    tokens = _refill(status, settings, at) if settings.rate is not None else None
    while status.queue:
        if tokens is not None and tokens < 1:
            break
        if settings.max_in_flight is not None and len(status.in_flight) >= settings.max_in_flight:
            break
        waiter = status.queue.pop(0)
        if tokens is not None:
            tokens -= 1
        if settings.max_in_flight is not None:
            status.in_flight[waiter.permit] = at + settings.lease_ms
        if waiter.permit != direct:
            ctx.resolve_awakeable(waiter.permit, _Grant(granted=True, ticket=waiter.ticket))
    if tokens is not None:
        status.tokens, status.refilled_at_ms = tokens, at
    if not status.queue:
        return
    # Blocked: wake up when the next token comes, or when the first lease ends.
    wake = []
    if tokens is not None and tokens < 1:
        assert settings.rate is not None
        wake.append(at + int((1 - tokens) * 1000 / settings.rate) + 1)
    if settings.max_in_flight is not None and len(status.in_flight) >= settings.max_in_flight:
        wake.append(min(status.in_flight.values()))
    due = max(wake)
    # A pending tick at or before `due` will pump again; a due one may already have run.
    if status.tick_at_ms is None or status.tick_at_ms <= at or due < status.tick_at_ms:
        tick = _Tick(settings=settings, at_ms=due)
        _TICK.send(ctx, ctx.key(), tick, delay=timedelta(milliseconds=max(0, due - at)))
        status.tick_at_ms = due


# Private to the ingress, like `release` and `_tick`: an outside caller could otherwise take
# permits (and never release them) or pass its own settings.
@LIMITERS.handler(ingress_private=True)
async def acquire(ctx: restate.ObjectContext, request: _Request) -> _Grant:
    """Queue a permit, then grant what the limits allow; granted=False: wait for the awakeable."""
    state = STATUS.bind(ctx)
    status = (await state.get()).model_copy(deep=True)
    at = _clock(status, request.at_ms)
    status.issued += 1
    ticket = status.issued
    status.queue.append(_Waiter(permit=request.permit, ticket=ticket))
    _pump(ctx, status, request.settings, at, direct=request.permit)
    granted = all(w.permit != request.permit for w in status.queue)
    state.set(status)
    return _Grant(granted=granted, ticket=ticket)


@LIMITERS.handler(ingress_private=True)
async def release(ctx: restate.ObjectContext, request: _Release) -> None:
    """Give a permit back (or leave the queue); unknown permits are ignored."""
    state = STATUS.bind(ctx)
    status = (await state.get()).model_copy(deep=True)
    status.in_flight.pop(request.permit, None)
    status.queue = [w for w in status.queue if w.permit != request.permit]
    _pump(ctx, status, request.settings, _clock(status, request.at_ms))
    state.set(status)


@LIMITERS.handler(name="_tick", ingress_private=True)
async def tick(ctx: restate.ObjectContext, request: _Tick) -> None:
    """A token came or a lease ended: grant what can be granted now."""
    state = STATUS.bind(ctx)
    status = (await state.get()).model_copy(deep=True)
    at = _clock(status, request.at_ms)
    if status.tick_at_ms is not None and status.tick_at_ms <= at:
        status.tick_at_ms = None
    _pump(ctx, status, request.settings, at)
    state.set(status)


@LIMITERS.handler(kind="shared")
async def state(ctx: restate.ObjectSharedContext) -> LimiterStatus:
    """The limiter's current state (``rea invoke rea.RateLimiter/NAME/state``)."""
    return await STATUS.bind(ctx).get()


_ACQUIRE = ObjectClient(acquire)
_RELEASE = ObjectClient(release)
_TICK = ObjectClient(tick)


@dataclass(frozen=True)
class Permit:
    """A granted permit.

    Attributes:
        name: The resource's name.
        id: The permit's identity (the awakeable that granted it).
        ticket: The caller's place in line (arrival order at the limiter, from 1).
        waited: Whether the caller was queued.
    """

    name: str
    id: str
    ticket: int
    waited: bool


def _ms(value: timedelta) -> int:
    return int(value.total_seconds() * 1000)


@dataclass(frozen=True, kw_only=True)
class RateLimiter:
    """A limiter's settings; `acquire` / `hold` wait for a permit of a resource.

    The state lives in the virtual object `RateLimiter.object`: add it to the app's services
    (``rea.app([..., rea.RateLimiter.object])``). One object key per resource name; every
    caller of a name must use the same settings.

    Attributes:
        rate: Permits per second (a token bucket), or None for no rate limit.
        burst: The bucket's size: permits that may go at once after a quiet spell.
        max_in_flight: Permits held at once (released by `release` or `hold`), or None.
        lease: How long a held permit lasts without a release (a holder whose invocation was
            killed gives it back then); longer than the longest protected section.
    """

    object: ClassVar[restate.VirtualObject] = LIMITERS

    rate: float | None = None
    burst: int = 1
    max_in_flight: int | None = None
    lease: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.rate is None and self.max_in_flight is None:
            raise UsageValueError("a RateLimiter needs a rate, a max_in_flight, or both")
        if self.rate is not None and not self.rate > 0:
            raise UsageValueError(f"rate must be positive, not {self.rate}")
        if self.burst < 1:
            raise UsageValueError(f"burst must be at least 1, not {self.burst}")
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise UsageValueError(f"max_in_flight must be at least 1, not {self.max_in_flight}")
        if self.lease <= timedelta(0):
            raise UsageValueError(f"lease must be positive, not {self.lease}")

    def _settings(self) -> _Settings:
        return _Settings(
            rate=self.rate,
            burst=self.burst,
            max_in_flight=self.max_in_flight,
            lease_ms=_ms(self.lease),
        )

    async def acquire(self, ctx: restate.Context, name: str) -> Permit:
        """Wait (durably, in FIFO order) for a permit of the resource `name`.

        Args:
            ctx: The handler's context.
            name: The resource's name (the limiter object's key).

        Returns:
            The permit; with `max_in_flight`, give it back with `release` (or use `hold`).

        Raises:
            TerminalError: The invocation was cancelled while waiting (it left the queue).
            UsageValueError: `name` is empty.
        """
        checked(ctx, f"RateLimiter.acquire({name!r})")
        if not isinstance(name, str) or not name:
            raise UsageValueError(f"a limiter needs a non-empty resource name, not {name!r}")
        settings = self._settings()
        at = await _now_ms(ctx)
        permit, granted = ctx.awakeable(type_hint=_Grant)
        try:
            request = _Request(settings=settings, permit=permit, at_ms=at)
            grant = await _ACQUIRE.call(ctx, name, request)
            if not grant.granted:
                await granted
        except TerminalError as error:
            # Cancelled or failed while queued (or just granted): leave the queue, free it. An
            # attempt that suspends here is no exit: its replay waits on.
            if not restate.is_internal_exception(error):
                _RELEASE.send(ctx, name, _Release(settings=settings, permit=permit))
            raise
        return Permit(name=name, id=permit, ticket=grant.ticket, waited=not grant.granted)

    def release(self, ctx: restate.Context, permit: Permit) -> None:
        """Give a permit back (a one-way send); for a rate-only limiter it does nothing.

        Args:
            ctx: The handler's context.
            permit: What `acquire` returned.
        """
        checked(ctx, f"RateLimiter.release({permit.name!r})")
        if self.max_in_flight is not None:
            _RELEASE.send(ctx, permit.name, _Release(settings=self._settings(), permit=permit.id))

    @contextlib.asynccontextmanager
    async def hold(self, ctx: restate.Context, name: str) -> AsyncIterator[Permit]:
        """Hold a permit of `name` for the ``async with`` block; released on any exit.

        Args:
            ctx: The handler's context.
            name: The resource's name.

        Yields:
            The permit.
        """
        permit = await self.acquire(ctx, name)
        try:
            yield permit
        except BaseException as error:
            # Only the invocation's own exits release: a failure or a cancellation (terminal
            # errors). An attempt that suspends or dies is replayed and still holds the permit.
            if isinstance(error, TerminalError) and not restate.is_internal_exception(error):
                self.release(ctx, permit)
            raise
        self.release(ctx, permit)
