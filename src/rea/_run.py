"""Side effects as durable runs, and deterministic time, uuids and randomness.

`rea.run` is `ctx.run_typed` with three additions: a retry policy that is always bounded (so a
`RetryableError` cannot retry forever), the result's type taken from the action's return
annotation (so models and dataclasses come back as themselves on replay, too), and the
``ctx.inside_run`` guard around the action. It journals exactly what `ctx.run_typed` journals.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
import uuid as uuid_module
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from types import CodeType
from typing import Any, TypeVar, overload

import restate
from pydantic import BaseModel
from restate import RestateDurableFuture, RunOptions

from rea._invocation import base_method, checked, code_site, current_state, guard_action
from rea._policy import violation
from rea._serde import serde_for
from rea.errors import UsageValueError

__all__ = ["RetryPolicy", "now", "random", "run", "run_async", "run_void", "uuid"]

ResultT = TypeVar("ResultT")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How a run action is retried; mapped onto the SDK's `RunOptions`.

    Attributes:
        max_attempts: Attempts in all, the first included; then the run fails with a
            `TerminalError` that the handler can catch. None means no limit.
        initial_interval: Delay before the first retry.
        factor: Each delay is the previous one times this.
        max_interval: Upper bound of a single delay.
        max_duration: Give up after this long in all, whatever the attempts.
    """

    max_attempts: int | None = 10
    initial_interval: timedelta = timedelta(milliseconds=100)
    factor: float = 2.0
    max_interval: timedelta = timedelta(seconds=10)
    max_duration: timedelta | None = None

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise UsageValueError(f"max_attempts must be >= 1 or None, not {self.max_attempts}")
        if self.factor < 1:
            raise UsageValueError(f"factor must be >= 1, not {self.factor}")
        if self.initial_interval <= timedelta(0) or self.max_interval <= timedelta(0):
            raise UsageValueError("initial_interval and max_interval must be positive")

    @property
    def bounded(self) -> bool:
        """Whether retries end at some point (by attempts or by duration)."""
        return self.max_attempts is not None or self.max_duration is not None

    def run_options(self, serde: Any = None) -> RunOptions[Any]:
        """The SDK's `RunOptions` for this policy."""
        options: RunOptions[Any] = RunOptions(
            max_attempts=self.max_attempts,
            max_duration=self.max_duration,
            initial_retry_interval=self.initial_interval,
            max_retry_interval=self.max_interval,
            retry_interval_factor=self.factor,
        )
        if serde is not None:
            options.serde = serde
        return options


DEFAULT_RETRY = RetryPolicy()

_return_types: dict[CodeType, Any] = {}
_UNKNOWN = object()


def _return_type(fn: Callable[..., Any]) -> Any:
    """The declared return type of `fn` (awaited type for coroutines), or `_UNKNOWN`."""
    target: Any = fn
    while isinstance(target, functools.partial):
        target = target.func
    target = getattr(target, "__func__", target)
    code = getattr(target, "__code__", None)
    if code is not None and code in _return_types:
        return _return_types[code]
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # unresolvable annotations: fall back to untyped JSON
        hints = {}
    result = hints.get("return", _UNKNOWN)
    if result is type(None):
        result = None
    if code is not None:
        _return_types[code] = result
    return result


def _check_untyped(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report results that JSON would turn into dicts on replay (no annotation to rebuild them)."""

    def inspect_result(value: Any) -> Any:
        if isinstance(value, BaseModel) or (
            dataclasses.is_dataclass(value) and not isinstance(value, type)
        ):
            violation(
                "run.untyped_result",
                f"run {name!r} returned a {type(value).__name__} but its action has no return "
                "annotation, so a replay would return a dict instead",
                fix=f"annotate the action's return type (-> {type(value).__name__})",
                site=code_site(fn),
            )
        return value

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def checked_async(*args: Any, **kwargs: Any) -> Any:
            return inspect_result(await fn(*args, **kwargs))

        return checked_async

    @functools.wraps(fn)
    def checked_sync(*args: Any, **kwargs: Any) -> Any:
        return inspect_result(fn(*args, **kwargs))

    return checked_sync


def _schedule(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    retry: RetryPolicy | None,
) -> RestateDurableFuture[Any]:
    checked(ctx, f"rea.run({name!r})")
    policy = retry or DEFAULT_RETRY
    declared = _return_type(fn)
    action = fn
    if declared is _UNKNOWN:
        declared = Any
        action = _check_untyped(name, fn)
    options = policy.run_options(serde_for(declared))
    # keep_signature=False: the serde is in the options, the SDK does not read annotations.
    action = guard_action(name, action, bounded=policy.bounded, keep_signature=False)
    future: RestateDurableFuture[Any] = base_method(ctx, "run_typed")(
        name, action, options, *args, **kwargs
    )
    return future


@overload
async def run(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., Coroutine[Any, Any, ResultT]],
    /,
    *args: Any,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> ResultT: ...
@overload
async def run(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., ResultT],
    /,
    *args: Any,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> ResultT: ...
async def run(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., Any],
    /,
    *args: Any,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> Any:
    """Run `fn(*args, **kwargs)` once, durably, and return its journaled result.

    Sync functions run in a worker thread, off the event loop. On replay the action is not run
    again: its recorded result (or terminal error) is returned.

    Args:
        ctx: The handler's context.
        name: The run's name in the journal (keep it stable across deployments).
        fn: The action; it must not use `ctx`.
        retry: The retry policy; default `RetryPolicy()` (10 attempts, from 100 ms).

    Raises:
        TerminalError: `fn` raised one, or the retries ran out.
    """
    return await _schedule(ctx, name, fn, args, kwargs, retry)


async def run_void(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., Awaitable[None] | None],
    /,
    *args: Any,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> None:
    """`rea.run` for actions whose result does not matter (nothing is kept but completion)."""

    def discard(value: Any) -> None:
        return None

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def action(*a: Any, **kw: Any) -> None:
            await fn(*a, **kw)

    else:

        @functools.wraps(fn)
        def action(*a: Any, **kw: Any) -> None:
            fn(*a, **kw)

    action.__annotations__ = {**getattr(fn, "__annotations__", {}), "return": None}
    await _schedule(ctx, name, action, args, kwargs, retry)


@overload
def run_async(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., Coroutine[Any, Any, ResultT]],
    /,
    *args: Any,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> RestateDurableFuture[ResultT]: ...
@overload
def run_async(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., ResultT],
    /,
    *args: Any,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> RestateDurableFuture[ResultT]: ...
def run_async(
    ctx: restate.Context,
    name: str,
    fn: Callable[..., Any],
    /,
    *args: Any,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> RestateDurableFuture[Any]:
    """`rea.run` without awaiting: the durable future, for `rea.gather` and friends.

    The run is journaled when this is called, not when the future is awaited.
    """
    return _schedule(ctx, name, fn, args, kwargs, retry)


async def now(ctx: restate.Context) -> datetime:
    """The current time as an aware UTC datetime, journaled: a replay gets the same value."""
    checked(ctx, "rea.now()")
    timestamp: float = await base_method(ctx, "time")()
    return datetime.fromtimestamp(timestamp, tz=UTC)


def uuid(ctx: restate.Context) -> uuid_module.UUID:
    """A random UUID (version 4) that is the same on every replay of this invocation."""
    checked(ctx, "rea.uuid()")
    value: uuid_module.UUID = base_method(ctx, "uuid")()
    state = current_state()
    if state is not None:
        # Keys built from it are invocation-derived: the idempotency check reads this set.
        state.drawn_uuids.add(str(value))
    return value


def random(ctx: restate.Context) -> float:
    """A float in [0, 1) from the invocation's seeded generator: the same on every replay."""
    checked(ctx, "rea.random()")
    generator = base_method(ctx, "random")()
    value: float = generator.random()
    return value
