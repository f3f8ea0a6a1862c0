"""Durable loops: bounded polling loops, and continue-as-new for handlers that run forever.

`loop` counts iterations in memory: the count is rebuilt by replay like any local variable, and
the loop journals nothing but its optional delays (durable sleeps, scaled like every rea timer).
Its bound turns a runaway loop into a terminal error instead of a journal that grows until the
invocation is too slow to replay.

A handler that must poll forever cannot keep one journal: every iteration adds entries, and
each replay reads them all. `continue_as_new` ends the generation instead: it sends the loop's
state to a fresh invocation of the same handler (a new, empty journal) and the current one
returns. Each generation's journal is as long as the first one's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, Final, Literal, cast

import restate

from rea import _sdk
from rea._idempotency import idempotency_key
from rea._invocation import base_method, checked, require_control_plane
from rea.errors import UsageTypeError, UsageValueError, _TerminalReaError
from rea.workflow._time import duration, scaled

__all__ = [
    "CHAIN_HEADER",
    "GENERATION_HEADER",
    "DurableLoop",
    "LoopLimitExceeded",
    "continue_as_new",
    "generation",
    "loop",
]

#: The header carrying a generation's number to the invocation `continue_as_new` starts.
GENERATION_HEADER: Final = "rea-generation"
#: The header carrying the id of the chain's first invocation (part of every idempotency key).
CHAIN_HEADER: Final = "rea-chain"

OnLimit = Literal["raise", "stop"]


class LoopLimitExceeded(_TerminalReaError):
    """A `rea.loop` was asked for more iterations than its ``max_iterations``.

    Status 508 (Loop Detected): the loop did not end within its bound, and retrying the
    invocation would run the same loop again, so it is terminal.

    Attributes:
        max_iterations: The bound.
    """

    status: ClassVar[int] = 508

    def __init__(self, max_iterations: int) -> None:
        self.max_iterations = max_iterations
        super().__init__(
            f"rea.loop(): more than max_iterations={max_iterations} iterations; end the loop "
            "earlier (break), raise the bound, or hand the state to a fresh invocation with "
            "rea.continue_as_new (rea.loop(..., on_limit='stop') then ends quietly)",
            metadata={"rea.max_iterations": str(max_iterations)},
        )


class DurableLoop:
    """The async iterator `loop` returns: iteration numbers 0, 1, ... up to the bound.

    Attributes:
        max_iterations: The bound.
        iterations: Iterations started so far.
    """

    __slots__ = ("_ctx", "_every", "_on_limit", "iterations", "max_iterations")

    def __init__(
        self,
        ctx: restate.Context,
        *,
        max_iterations: int,
        every: timedelta | None,
        on_limit: OnLimit,
    ) -> None:
        self._ctx = ctx
        self._every = every
        self._on_limit = on_limit
        self.max_iterations = max_iterations
        self.iterations = 0

    def __aiter__(self) -> DurableLoop:
        return self

    async def __anext__(self) -> int:
        if self.iterations >= self.max_iterations:
            if self._on_limit == "stop":
                raise StopAsyncIteration
            raise LoopLimitExceeded(self.max_iterations)
        if self.iterations > 0 and self._every is not None:
            checked(self._ctx, "rea.loop()")
            await base_method(self._ctx, "sleep")(scaled(self._every))
        iteration = self.iterations
        self.iterations += 1
        return iteration


def loop(
    ctx: restate.Context,
    *,
    max_iterations: int,
    every: timedelta | float | None = None,
    on_limit: OnLimit = "raise",
) -> DurableLoop:
    """A bounded durable loop: ``async for i in rea.loop(ctx, max_iterations=200): ...``.

    Yields 0, 1, ..., ``max_iterations - 1``; the body ends the loop with ``break`` (or
    ``return``). With `every`, a durable sleep separates iterations (none before the first).

    Args:
        ctx: The handler's context.
        max_iterations: The most iterations; at least 1.
        every: The pause between iterations: a timedelta, or seconds; None for none.
        on_limit: What asking for one more iteration than the bound does: ``"raise"``
            `LoopLimitExceeded` (status 508), or ``"stop"`` the loop quietly (its ``else:``
            clause runs: the place for `continue_as_new`).

    Returns:
        The loop, an async iterator of iteration numbers.

    Raises:
        UsageTypeError, UsageValueError: A bound below 1 or not an int, a bad `every` or
            `on_limit`.
        PolicyViolation: Used in a data-plane service, under STRICT.
    """
    operation = "rea.loop()"
    checked(ctx, operation)
    require_control_plane(operation)
    bound = max_iterations
    if isinstance(bound, bool) or not isinstance(bound, int):
        raise UsageTypeError(f"{operation}: max_iterations must be an int, not {bound!r}")
    if bound < 1:
        raise UsageValueError(f"{operation}: max_iterations must be at least 1, not {bound}")
    if on_limit not in ("raise", "stop"):
        raise UsageValueError(f"{operation}: on_limit must be 'raise' or 'stop', not {on_limit!r}")
    pause = None if every is None else duration(every, what=f"{operation}: every")
    return DurableLoop(ctx, max_iterations=max_iterations, every=pause, on_limit=on_limit)


def generation(ctx: restate.Context) -> int:
    """Which generation of a `continue_as_new` chain this invocation is: 0 for the first.

    Raises:
        UsageValueError: The generation header holds no number (it was not rea's).
    """
    raw = ctx.request().headers.get(GENERATION_HEADER)
    if raw is None:
        return 0
    try:
        number = int(raw)
    except ValueError:
        number = -1
    if number < 0:
        raise UsageValueError(f"the {GENERATION_HEADER} header holds {raw!r}, not a generation")
    return number


def _next_key(ctx: restate.Context, handler: _sdk.HandlerRef, key: str | None) -> str | None:
    current = cast(restate.ObjectContext, ctx).key()  # "" for a service
    target = f"{handler.service}/{handler.name}"
    if handler.service_kind == "service":
        if key is not None:
            raise UsageTypeError(f"rea.continue_as_new(): {target} is a service: it has no key")
        return None
    if handler.kind == "workflow":
        # A workflow id runs its run handler once: the next generation needs its own id.
        if not key or key == current:
            raise UsageValueError(
                f"rea.continue_as_new(): {target} runs once per workflow id, so the next "
                "generation needs a new one: key=f'{base}-{rea.generation(ctx) + 1}'"
            )
        return key
    if key is not None and not key:
        raise UsageValueError("rea.continue_as_new(): key must not be empty")
    return key or current


async def continue_as_new(
    ctx: restate.Context,
    state: Any = None,
    *,
    delay: timedelta | float = 0,
    key: str | None = None,
) -> str:
    """Hand `state` to a fresh invocation of the running handler; return its invocation id.

    Sends `state` as the input of the same handler (same object key, or `key`), `delay`
    later, with the next generation's number in the ``rea-generation`` header (read it with
    `generation`). The send's idempotency key is built from the chain (the first generation's
    invocation id) and the next generation's number: even if this generation ran twice (say,
    restarted by an operator), only one next generation starts. The caller then returns; its
    journal ends there, and the next generation starts with an empty one.

    Args:
        ctx: The handler's context.
        state: The next generation's input (what this handler takes; None for no input).
        delay: When the next generation starts: a timedelta, or seconds (scaled in tests).
        key: The next generation's object key (default: the same) or workflow id (required
            for a workflow's run handler, which runs once per id).

    Returns:
        The next generation's invocation id.

    Raises:
        UsageTypeError, UsageValueError: A key where none fits, or none where one is needed;
            a state for a handler without input; a bad delay.
        PolicyViolation: Used in a data-plane service, under STRICT.
    """
    operation = "rea.continue_as_new()"
    checked(ctx, operation)
    require_control_plane(operation)
    handler = _sdk.running_handler(ctx)
    if handler is None:
        raise UsageTypeError(f"{operation} needs the context of a running handler")
    pause = duration(delay, what=f"{operation}: delay")
    target_key = _next_key(ctx, handler, key)
    if handler.arity < 2 and state is not None:
        raise UsageTypeError(
            f"{operation}: {handler.service}/{handler.name} takes no input, so no state; keep "
            "it in the object's state, or give the handler an input"
        )
    request = ctx.request()
    chain = request.headers.get(CHAIN_HEADER) or request.id
    following = generation(ctx) + 1
    handle = _sdk.raw_call(
        ctx,
        handler.service,
        handler.name,
        state,
        handler.input_serde,
        handler.output_serde,
        key=target_key,
        delay=scaled(pause) if pause > timedelta(0) else None,
        send=True,
        idempotency_key=idempotency_key("rea.continue_as_new", chain, following),
        headers={GENERATION_HEADER: str(following), CHAIN_HEADER: chain},
    )
    invocation_id: str = await handle.invocation_id()
    return invocation_id
