"""Durable sagas: compensations registered before the action, run LIFO on terminal failure.

The compensation stack lives in memory and is rebuilt by replay: the handler runs again from
the top, `add` runs again, and the journal answers every run it already recorded. So a saga
journals exactly what the hand-written Restate pattern journals (one run per action, one run per
compensation) and writes no state of its own. Compensations that cannot succeed go to the dead
letters (`rea.SagaDeadLetters`), which outlive the saga.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import restate
from restate import TerminalError

from rea._idempotency import idempotency_key
from rea._invocation import checked, require_control_plane
from rea._policy import violation
from rea._run import RetryPolicy, run

__all__ = ["CompensationStrategy", "Saga"]

PayloadT = TypeVar("PayloadT")
ResultT = TypeVar("ResultT")

#: A compensation: ``fn(payload, idempotency_key)``, sync or async, idempotent.
Compensation = Callable[[Any, str], "Awaitable[None] | None"]


class CompensationStrategy(enum.Enum):
    """Which steps a failed saga compensates, and what happens when a compensation fails."""

    ALL = "all"
    """Every added step, the failing one included; stop at a compensation that keeps failing
    (it and the steps not yet compensated go to the dead letters, in order)."""
    COMPLETED = "completed"
    """Only steps whose action finished; stop like ALL."""
    BEST_EFFORT = "best_effort"
    """Every added step; a compensation that keeps failing is dead-lettered and the rest run."""
    UNTIL_SUCCESS = "until_success"
    """Every added step, each retried until it succeeds; nothing is ever dead-lettered."""


@dataclass
class _Step:
    name: str
    payload: Any
    completed: bool = False


@dataclass(eq=False)
class Saga(Generic[PayloadT]):
    """A saga in one handler: ``async with rea.Saga(ctx, "order") as saga: ...``.

    Args:
        ctx: The handler's context.
        name: The saga's name (part of every idempotency key and dead letter).
        strategy: Which steps to compensate; see `CompensationStrategy`.
        retry: Retry policy of each compensation (a durable run); default `RetryPolicy()`.
    """

    ctx: Any
    name: str
    strategy: CompensationStrategy = CompensationStrategy.ALL
    retry: RetryPolicy | None = None
    _compensations: dict[str, Compensation] = field(default_factory=dict, init=False)
    _steps: list[_Step] = field(default_factory=list, init=False)
    _compensated: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a saga needs a name")
        require_control_plane(f"rea.Saga({self.name!r})")

    # -- building the stack ------------------------------------------------------------------
    def register(self, step: str, compensation: Compensation) -> None:
        """Declare how to undo `step`: ``compensation(payload, idempotency_key)``."""
        if not callable(compensation):
            raise TypeError(f"the compensation of {step!r} must be callable")
        self._compensations[step] = compensation

    def add(self, step: str, payload: Any = None) -> None:
        """Push `step` (with the payload its compensation gets) BEFORE running its action.

        Adding first means a crash between the action and the bookkeeping can never leave an
        action without its compensation.
        """
        checked(self.ctx, f"Saga({self.name!r}).add({step!r})")
        if step not in self._compensations:
            violation(
                "saga.unregistered_step",
                f"saga {self.name!r} added step {step!r}, which has no registered compensation",
                fix=f"call saga.register({step!r}, compensation) before saga.add({step!r}, ...)",
            )
        self._steps.append(_Step(step, payload))

    def complete(self, step: str) -> None:
        """Mark the latest `step` as finished (`step()` does this itself); COMPLETED uses it."""
        for entry in reversed(self._steps):
            if entry.name == step:
                entry.completed = True
                return
        raise ValueError(f"saga {self.name!r} has no step {step!r} to complete")

    def key(self, step: str) -> str:
        """A deterministic idempotency key for `step`'s action in this invocation."""
        return idempotency_key(self.name, step, self.ctx.request().id)

    def compensation_key(self, step: str) -> str:
        """The idempotency key `step`'s compensation receives."""
        return idempotency_key(self.name, step, "compensate", self.ctx.request().id)

    async def step(
        self,
        step: str,
        action: Callable[..., Awaitable[ResultT]] | Callable[..., ResultT],
        /,
        *args: Any,
        compensation: Compensation | None = None,
        payload: Any = None,
        retry: RetryPolicy | None = None,
    ) -> ResultT:
        """Register (if given) and add `step`, then run ``action(*args)`` durably.

        Returns:
            The action's (journaled) result.
        """
        if compensation is not None:
            self.register(step, compensation)
        self.add(step, payload)
        result: ResultT = await run(
            self.ctx, step, cast(Callable[..., Any], action), *args, retry=retry
        )
        self.complete(step)
        return result

    # -- compensating ------------------------------------------------------------------------
    def _to_compensate(self) -> list[_Step]:
        steps = [s for s in self._steps if s.name in self._compensations]
        if self.strategy is CompensationStrategy.COMPLETED:
            steps = [s for s in steps if s.completed]
        return list(reversed(steps))

    def _policy(self) -> RetryPolicy:
        if self.strategy is CompensationStrategy.UNTIL_SUCCESS:
            base = self.retry or RetryPolicy()
            return RetryPolicy(
                max_attempts=None,
                initial_interval=base.initial_interval,
                factor=base.factor,
                max_interval=base.max_interval,
            )
        return self.retry or RetryPolicy()

    async def compensate(self, cause: TerminalError) -> None:
        """Run the compensations now (LIFO), whatever the error; at most once per saga."""
        if self._compensated:
            return
        self._compensated = True
        from rea._dead_letters import dead_letter

        pending = self._to_compensate()
        policy = self._policy()
        for index, entry in enumerate(pending):
            compensation = self._compensations[entry.name]
            key = self.compensation_key(entry.name)
            try:
                await run(
                    self.ctx,
                    f"compensate {entry.name}",
                    _as_action(compensation),
                    entry.payload,
                    key,
                    retry=policy,
                )
            except TerminalError as failure:
                dead_letter(
                    self.ctx,
                    self.name,
                    entry.name,
                    compensation,
                    entry.payload,
                    key,
                    failure,
                    cause,
                )
                if self.strategy is CompensationStrategy.BEST_EFFORT:
                    continue
                # Order matters: later compensations may rely on this one. Park the rest too.
                for rest in pending[index + 1 :]:
                    rest_key = self.compensation_key(rest.name)
                    dead_letter(
                        self.ctx,
                        self.name,
                        rest.name,
                        self._compensations[rest.name],
                        rest.payload,
                        rest_key,
                        None,
                        cause,
                    )
                return

    async def compensate_if_needed(self, exc: BaseException | None) -> None:
        """Compensate if `exc` is a terminal error (cancellation included); else do nothing.

        For code that cannot use ``async with``: call it in ``except BaseException`` and
        re-raise. Suspensions and other SDK control flow never trigger compensation.
        """
        if isinstance(exc, TerminalError) and not restate.is_internal_exception(exc):
            await self.compensate(exc)

    async def __aenter__(self) -> Saga[PayloadT]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Transient errors propagate untouched so that Restate retries the handler; the
        # original terminal error is re-raised after compensating, with its status code.
        await self.compensate_if_needed(exc)


def _as_action(compensation: Compensation) -> Callable[..., Any]:
    """The compensation as a run action returning None (its result is not kept)."""
    if inspect.iscoroutinefunction(compensation):

        async def run_async(payload: Any, key: str) -> None:
            await compensation(payload, key)

        return run_async

    def run_sync(payload: Any, key: str) -> None:
        result = compensation(payload, key)
        if inspect.isawaitable(result):
            raise TypeError("a sync compensation returned an awaitable: make it async def")

    return run_sync
