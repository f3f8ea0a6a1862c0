"""`rea.CircuitBreaker`: a durable circuit breaker, one virtual object per dependency name.

The breaker's state lives in the virtual object ``rea.CircuitBreaker`` (key: the dependency's
name), so every invocation of every deployment sees the same breaker, and a crash loses
nothing. A caller asks for permission with one awaited call, then reports an outcome with one
one-way send only when it can change the state (a counted failure, or a probe's result): a
successful call through a closed breaker costs the caller one journal entry pair, no more.

States: ``closed`` (calls go through; `threshold` counted failures within `window` open it),
``open`` (calls are refused with a terminal 503 until `cool_down` has passed, on journaled
time), ``half_open`` (exactly one probe goes through; its success closes the breaker, its
failure opens it again; a probe that never reports is replaced after `probe_timeout`).

Every state change bumps a generation number that permits carry; an outcome reported under an
older generation (a call let through before the breaker opened, finishing late) changes
nothing, so a storm of late failures cannot reopen a breaker a probe has just closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar, Literal, TypeVar, overload

import restate
from pydantic import BaseModel
from restate import RestateLoggingFilter, TerminalError

from rea import _observe, _sdk
from rea._clients import ObjectClient, ServiceClient
from rea._invocation import checked
from rea._observe import BreakerChanged
from rea._run import RetryPolicy, now, run
from rea._state import StateKey
from rea.errors import ReaError, UsageTypeError, UsageValueError

__all__ = ["BreakerStatus", "CircuitBreaker", "CircuitOpen", "server_errors"]

ResultT = TypeVar("ResultT")

Phase = Literal["closed", "open", "half_open"]

#: State changes, logged once (never on replay: Restate's filter drops replayed records).
logger = logging.getLogger("rea.breaker")
logger.addFilter(RestateLoggingFilter())


class CircuitOpen(ReaError, TerminalError):
    """The breaker refused the call (terminal, 503): the dependency was not touched.

    Attributes:
        name: The dependency's name.
        retry_after: How long until the breaker lets a probe through (None: a probe is out).
    """

    def __init__(self, name: str, retry_after: timedelta | None) -> None:
        wait = "" if retry_after is None else f"; a probe in {retry_after.total_seconds():.3g}s"
        TerminalError.__init__(
            self, f"circuit breaker {name!r} is open: the call was refused{wait}", status_code=503
        )
        self.name = name
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


def server_errors(error: TerminalError) -> bool:
    """The default failure test: 5xx terminal errors count, 4xx do not.

    A run whose action kept raising transient errors ends, once its attempts run out, as a
    terminal 500, so transient failures count too.

    Args:
        error: The terminal error the protected call ended with.

    Returns:
        Whether the breaker counts it as a failure of the dependency.
    """
    return error.status_code >= 500


class _Settings(BaseModel):
    """The caller's configuration, sent along (the object keeps no configuration of its own)."""

    threshold: int
    window_ms: int
    cool_down_ms: int
    probe_timeout_ms: int


class _Permit(BaseModel):
    allowed: bool
    generation: int
    probe: bool = False
    retry_after_ms: int | None = None


class _Report(BaseModel):
    settings: _Settings
    generation: int
    failed: bool


class BreakerStatus(BaseModel):
    """A breaker's state, as the object keeps it and its ``state`` handler returns it."""

    state: Phase = "closed"
    generation: int = 0
    failures: list[int] = []
    """Epoch milliseconds of the counted failures within the window (at most `threshold`)."""
    opened_at_ms: int | None = None
    probe_at_ms: int | None = None
    """When the current probe was let through (half-open only)."""


STATUS = StateKey("status", BreakerStatus, default=BreakerStatus())

BREAKERS = restate.VirtualObject(
    "rea.CircuitBreaker",
    description="rea: circuit breakers (key: the dependency's name)",
)


async def _now_ms(ctx: restate.Context) -> int:
    return int((await now(ctx)).timestamp() * 1000)


def _changed(name: str, old: BreakerStatus, new: BreakerStatus, why: str) -> BreakerStatus:
    level = logging.WARNING if new.state == "open" else logging.INFO
    logger.log(level, "circuit breaker %r: %s -> %s (%s)", name, old.state, new.state, why)
    # Before the state write this announces: the replay flag says whether it is journaled.
    if not _sdk.is_replaying():
        _observe.emit_current("breaker_changed", BreakerChanged(name, old.state, new.state))
    return new


# Private to the ingress like `record` and `_probe`: an outside caller could otherwise take the
# half-open probe (and never report), or pass its own settings.
@BREAKERS.handler(kind="shared", ingress_private=True)
async def acquire(ctx: restate.ObjectSharedContext, settings: _Settings) -> _Permit:
    """Permission for one call: granted while closed, else refused or handed to `_probe`."""
    status = await STATUS.bind(ctx).get()
    if status.state == "closed":
        # The common case reads the state and nothing else: no clock, no lock.
        return _Permit(allowed=True, generation=status.generation)
    at = await _now_ms(ctx)
    due = _probe_due(status, settings, at)
    if due > 0:
        return _Permit(allowed=False, generation=status.generation, retry_after_ms=due)
    # Only the exclusive handler may grant the probe: it decides once, in order.
    return await _PROBE.call(ctx, ctx.key(), settings)


def _probe_due(status: BreakerStatus, settings: _Settings, at: int) -> int:
    """Milliseconds until a probe may go (0: now); in half-open, until the probe times out."""
    if status.state == "open":
        return max(0, (status.opened_at_ms or 0) + settings.cool_down_ms - at)
    return max(0, (status.probe_at_ms or 0) + settings.probe_timeout_ms - at)


@BREAKERS.handler(name="_probe", ingress_private=True)
async def probe(ctx: restate.ObjectContext, settings: _Settings) -> _Permit:
    """Let exactly one probe through once the cool-down (or the last probe's time) is over."""
    status_state = STATUS.bind(ctx)
    status = await status_state.get()
    if status.state == "closed":
        return _Permit(allowed=True, generation=status.generation)
    at = await _now_ms(ctx)
    due = _probe_due(status, settings, at)
    if due > 0:
        return _Permit(allowed=False, generation=status.generation, retry_after_ms=due)
    why = "cool-down over" if status.state == "open" else "the last probe never reported"
    new = BreakerStatus(
        state="half_open",
        generation=status.generation + 1,
        opened_at_ms=status.opened_at_ms,
        probe_at_ms=at,
    )
    status_state.set(_changed(ctx.key(), status, new, f"{why}, one probe let through"))
    return _Permit(allowed=True, generation=new.generation, probe=True)


@BREAKERS.handler(ingress_private=True)
async def record(ctx: restate.ObjectContext, report: _Report) -> None:
    """Apply an outcome (sent one-way by callers); outcomes of an older generation are dropped."""
    status_state = STATUS.bind(ctx)
    status = await status_state.get()
    if report.generation != status.generation or status.state == "open":
        return
    name = ctx.key()
    if status.state == "half_open":
        if report.failed:
            at = await _now_ms(ctx)
            new = BreakerStatus(state="open", generation=status.generation + 1, opened_at_ms=at)
            status_state.set(_changed(name, status, new, "the probe failed"))
        else:
            new = BreakerStatus(state="closed", generation=status.generation + 1)
            status_state.set(_changed(name, status, new, "the probe succeeded"))
        return
    if not report.failed:
        return
    at = await _now_ms(ctx)
    since = at - report.settings.window_ms
    failures = [*(t for t in status.failures if t > since), at][-report.settings.threshold :]
    if len(failures) >= report.settings.threshold:
        new = BreakerStatus(
            state="open", generation=status.generation + 1, failures=failures, opened_at_ms=at
        )
        why = f"{len(failures)} failures within {report.settings.window_ms / 1000:g}s"
        status_state.set(_changed(name, status, new, why))
    else:
        status_state.set(status.model_copy(update={"failures": failures}))


@BREAKERS.handler(kind="shared")
async def state(ctx: restate.ObjectSharedContext) -> BreakerStatus:
    """The breaker's current state (``rea invoke rea.CircuitBreaker/NAME/state``)."""
    return await STATUS.bind(ctx).get()


# Closing a breaker forces calls onto a dependency that may be down: an operator's act, not an
# ingress caller's. Call it from a handler of yours (or make it public with the admin API).
@BREAKERS.handler(ingress_private=True)
async def reset(ctx: restate.ObjectContext) -> BreakerStatus:
    """Close the breaker by hand (an operator's override); returns the new state."""
    status_state = STATUS.bind(ctx)
    status = await status_state.get()
    new = BreakerStatus(state="closed", generation=status.generation + 1)
    if status.state != "closed":
        _changed(ctx.key(), status, new, "reset by hand")
    status_state.set(new)
    return new


_ACQUIRE = ObjectClient(acquire)
_PROBE = ObjectClient(probe)
_RECORD = ObjectClient(record)

_DEFAULT_RETRY = RetryPolicy(max_attempts=3)


def _ms(value: timedelta) -> int:
    return int(value.total_seconds() * 1000)


@dataclass(frozen=True, kw_only=True)
class CircuitBreaker:
    """A circuit breaker's settings; `call` runs a protected call through it.

    The breakers' state lives in the virtual object `CircuitBreaker.object`: add it to the
    app's services (``rea.app([..., rea.CircuitBreaker.object])``). One object key per
    dependency name; every caller of a name must use the same settings.

    Attributes:
        threshold: Counted failures within `window` that open the breaker.
        window: How far back failures are counted.
        cool_down: How long the breaker stays open before it lets one probe through.
        probe_timeout: How long a probe may take to report before another is let through
            (a probe whose invocation never reports must not hold the breaker half-open).
        failure: Which terminal errors count as failures (default `server_errors`: 5xx).
        retry: The retry policy of a protected run action (default 3 attempts: a breaker is
            there to stop hammering a sick dependency, not to retry it ten times per call).
    """

    object: ClassVar[restate.VirtualObject] = BREAKERS

    threshold: int = 5
    window: timedelta = timedelta(seconds=60)
    cool_down: timedelta = timedelta(seconds=30)
    probe_timeout: timedelta = timedelta(seconds=60)
    failure: Callable[[TerminalError], bool] = server_errors
    retry: RetryPolicy = field(default=_DEFAULT_RETRY)

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise UsageValueError(f"threshold must be at least 1, not {self.threshold}")
        for name in ("window", "cool_down", "probe_timeout"):
            if getattr(self, name) <= timedelta(0):
                raise UsageValueError(f"{name} must be positive, not {getattr(self, name)}")

    def _settings(self) -> _Settings:
        return _Settings(
            threshold=self.threshold,
            window_ms=_ms(self.window),
            cool_down_ms=_ms(self.cool_down),
            probe_timeout_ms=_ms(self.probe_timeout),
        )

    @overload
    async def call(
        self,
        ctx: restate.Context,
        name: str,
        fn: ServiceClient[Any, ResultT],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> ResultT: ...
    @overload
    async def call(
        self,
        ctx: restate.Context,
        name: str,
        fn: ObjectClient[Any, ResultT],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> ResultT: ...
    @overload
    async def call(
        self,
        ctx: restate.Context,
        name: str,
        fn: Callable[..., Coroutine[Any, Any, ResultT]],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> ResultT: ...
    @overload
    async def call(
        self,
        ctx: restate.Context,
        name: str,
        fn: Callable[..., ResultT],
        /,
        *args: Any,
        **kwargs: Any,
    ) -> ResultT: ...
    async def call(
        self, ctx: restate.Context, name: str, fn: Any, /, *args: Any, **kwargs: Any
    ) -> Any:
        """Call the dependency `name` through its breaker, or refuse while the breaker is open.

        Args:
            ctx: The handler's context.
            name: The dependency's name (the breaker object's key).
            fn: A run action (run with `rea.run` under `retry`, the run named `name`), or a
                `rea.ServiceClient` / `rea.ObjectClient` (``fn.call(ctx, *args, **kwargs)``).
            args: Positional arguments for `fn` (for an `ObjectClient`: the key, then input).
            kwargs: Keyword arguments for `fn`.

        Returns:
            What `fn` returned.

        Raises:
            CircuitOpen: The breaker is open (terminal, 503); `fn` was not called.
            TerminalError: `fn` failed; the breaker counted it if `failure` says so.
            UsageValueError: `name` is empty.
        """
        checked(ctx, f"CircuitBreaker.call({name!r})")
        if not isinstance(name, str) or not name:
            raise UsageValueError(f"a breaker needs a non-empty dependency name, not {name!r}")
        if isinstance(fn, ServiceClient | ObjectClient):
            action = None
        elif callable(fn):
            action = fn
        else:
            raise UsageTypeError(
                f"CircuitBreaker.call({name!r}): fn must be a run action or a rea.ServiceClient "
                f"/ rea.ObjectClient, not {type(fn).__name__}"
            )
        settings = self._settings()
        permit = await _ACQUIRE.call(ctx, name, settings)
        if not permit.allowed:
            after = permit.retry_after_ms
            raise CircuitOpen(name, None if after is None else timedelta(milliseconds=after))
        try:
            if action is None:
                result = await fn.call(ctx, *args, **kwargs)
            else:
                result = await run(ctx, name, action, *args, retry=self.retry, **kwargs)
        except TerminalError as error:
            failed = self.failure(error)
            if failed or permit.probe:
                report = _Report(settings=settings, generation=permit.generation, failed=failed)
                _RECORD.send(ctx, name, report)
            raise
        if permit.probe:
            _RECORD.send(
                ctx, name, _Report(settings=settings, generation=permit.generation, failed=False)
            )
        return result
