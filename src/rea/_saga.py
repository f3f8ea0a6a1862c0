"""Durable sagas: compensations registered before the action, run LIFO on terminal failure.

The compensation stack lives in memory and is rebuilt by replay: the handler runs again from
the top, `add` runs again, and the journal answers every run it already recorded. So a saga
journals exactly what the hand-written Restate pattern journals (one run per action; one run per
plain compensation, or the calls a context compensation makes) and writes no state of its own.
Each added step is one *occurrence* (the n-th add of that step name in this saga), with its own
idempotency keys and dead-letter id, the same on every replay. Compensations that cannot
succeed go to the dead letters (`rea.SagaDeadLetters`), which outlive the saga.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar, cast

import restate
from restate import TerminalError

from rea import _observe, _sdk
from rea._compensations import declared_for_step, form_of
from rea._idempotency import idempotency_key
from rea._invocation import (
    InvocationState,
    checked,
    current_state,
    guard_action,
    require_control_plane,
)
from rea._observe import SagaEvent
from rea._policy import violation
from rea._run import RetryPolicy, run
from rea.errors import UsageTypeError, UsageValueError

__all__ = ["CompensationStrategy", "Saga"]

PayloadT = TypeVar("PayloadT")
ResultT = TypeVar("ResultT")

#: A compensation: ``fn(payload, idempotency_key)``, sync or async, run as a durable run; or
#: ``async fn(ctx, payload, idempotency_key)``, run inline with the saga's context.
Compensation = (
    Callable[[Any, str], "Awaitable[None] | None"]
    | Callable[[restate.Context, Any, str], Awaitable[None]]
)

#: The fix named when a plain compensation (a run's action) uses the context.
_CONTEXT_FORM_FIX = (
    "a compensation that calls handlers (or uses the context at all) takes the context as its "
    "first parameter, `async def undo(ctx, payload, key)`, and rea runs it inline instead of "
    "in a durable run"
)


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
    """Every added step, each retried until it succeeds (one that raises `TerminalError`
    itself cannot succeed: it is dead-lettered, and the older steps are parked as under ALL)."""


@dataclass
class _Step:
    name: str
    payload: Any
    occurrence: int
    """1 for the first add of this step name in the saga, 2 for the second..."""
    compensation: Compensation | None
    """Bound when the step is added: a later register() of the same name does not change it."""
    completed: bool = False


@dataclass(eq=False)
class Saga(Generic[PayloadT]):
    """A saga in one handler: ``async with rea.Saga(ctx, "order") as saga: ...``.

    Args:
        ctx: The handler's context.
        name: The saga's name (part of every idempotency key and dead letter).
        strategy: Which steps to compensate; see `CompensationStrategy`.
        retry: Retry policy of each plain compensation (a durable run); default
            `RetryPolicy()`. Context compensations make calls, which Restate retries itself.
    """

    ctx: restate.Context
    name: str
    strategy: CompensationStrategy = CompensationStrategy.ALL
    retry: RetryPolicy | None = None
    _compensations: dict[str, Compensation] = field(default_factory=dict, init=False)
    _steps: list[_Step] = field(default_factory=list, init=False)
    _added: dict[str, int] = field(default_factory=dict, init=False)
    _compensated: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise UsageValueError("a saga needs a name")
        require_control_plane(f"rea.Saga({self.name!r})")

    # -- building the stack ------------------------------------------------------------------
    def register(self, step: str, compensation: Compensation) -> None:
        """Declare how to undo `step`: ``undo(payload, key)`` or ``async undo(ctx, payload, key)``.

        Raises:
            TypeError: `compensation` has neither form.
        """
        form_of(compensation)  # a wrong signature fails here, not when compensating
        self._compensations[step] = compensation

    def add(self, step: str, payload: Any = None) -> None:
        """Push `step` (with the payload its compensation gets) BEFORE running its action.

        Adding first means a crash between the action and the bookkeeping can never leave an
        action without its compensation. The compensation is the one registered for `step`
        (or declared with ``@rea.compensation(saga, step)``) when it is added.
        """
        checked(self.ctx, f"Saga({self.name!r}).add({step!r})")
        compensation = self._compensations.get(step)
        if compensation is None:
            declared = declared_for_step(self.name, step)
            compensation = declared.fn if declared is not None else None
        if compensation is None:
            violation(
                "saga.unregistered_step",
                f"saga {self.name!r} added step {step!r}, which has no registered compensation",
                fix=f"call saga.register({step!r}, compensation) before saga.add({step!r}, ...), "
                f"or declare it with @rea.compensation({self.name!r}, {step!r})",
            )
        occurrence = self._added.get(step, 0) + 1
        self._added[step] = occurrence
        self._steps.append(_Step(step, payload, occurrence, compensation))
        self._report(step, "step")

    def complete(self, step: str) -> None:
        """Mark the latest `step` as finished (`step()` does this itself); COMPLETED uses it."""
        for entry in reversed(self._steps):
            if entry.name == step:
                entry.completed = True
                return
        raise UsageValueError(f"saga {self.name!r} has no step {step!r} to complete")

    def _current(self, step: str) -> int:
        """The occurrence of `step` in progress: added and not completed, else the next one."""
        for entry in reversed(self._steps):
            if entry.name == step:
                return entry.occurrence if not entry.completed else entry.occurrence + 1
        return 1

    def _key(self, step: str, occurrence: int | None, *role: str) -> str:
        n = self._current(step) if occurrence is None else occurrence
        if n < 1:
            raise UsageValueError(f"occurrences count from 1, not {n}")
        # The first occurrence keeps the key of sagas without occurrences: an upgrade in the
        # middle of a saga hands its compensation the key its action was given.
        numbered = (str(n),) if n > 1 else ()
        return idempotency_key(self.name, step, *numbered, *role, self.ctx.request().id)

    def key(self, step: str, occurrence: int | None = None) -> str:
        """A deterministic idempotency key for one occurrence of `step`'s action.

        Args:
            step: The step's name.
            occurrence: Which add of `step` (1 for the first); default: the one in progress
                (added and not completed yet), or else the next one. So
                ``saga.step("charge", charge, saga.key("charge"), ...)`` in a loop gives each
                charge its own key, and so does ``saga.add(...)`` then ``saga.key(...)``.
        """
        return self._key(step, occurrence)

    def compensation_key(self, step: str, occurrence: int | None = None) -> str:
        """The idempotency key one occurrence of `step`'s compensation receives (as `key`)."""
        return self._key(step, occurrence, "compensate")

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
        steps = [s for s in self._steps if s.compensation is not None]
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

    async def _undo(self, entry: _Step, policy: RetryPolicy) -> None:
        compensation = cast(Callable[..., Any], entry.compensation)
        key = self.compensation_key(entry.name, entry.occurrence)
        await run_compensation(
            self.ctx,
            f"compensate {entry.name}",
            compensation,
            entry.payload,
            key,
            policy,
            saga=(self.name, entry.name),
        )

    async def compensate(self, cause: TerminalError) -> None:
        """Run the compensations now (LIFO), whatever the error; at most once per saga."""
        if self._compensated:
            return
        self._compensated = True
        from rea._dead_letters import dead_letter

        pending = self._to_compensate()
        policy = self._policy()
        for index, entry in enumerate(pending):
            # Before the compensation: whether its journal entries are replayed.
            try:
                await self._undo(entry, policy)
            except TerminalError as failure:
                self._dead_letter(dead_letter, entry, failure, cause)
                if self.strategy is CompensationStrategy.BEST_EFFORT:
                    continue
                # Order matters: later compensations may rely on this one. Park the rest too.
                for rest in pending[index + 1 :]:
                    self._dead_letter(dead_letter, rest, None, cause)
                return

    def _report(self, step: str, kind: Literal["step", "dead_letter"]) -> None:
        state = current_state()
        if _observe.wanted(state) and not _sdk.is_replaying():
            _observe.emit(state, "saga_event", SagaEvent(self.name, step, kind))

    def _dead_letter(
        self,
        send: Callable[..., None],
        entry: _Step,
        failure: TerminalError | None,
        cause: TerminalError,
    ) -> None:
        self._report(entry.name, "dead_letter")
        send(
            self.ctx,
            saga=self.name,
            step=entry.name,
            occurrence=entry.occurrence,
            compensation=entry.compensation,
            payload=entry.payload,
            key=self.compensation_key(entry.name, entry.occurrence),
            failure=failure,
            cause=cause,
        )

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


async def run_compensation(
    ctx: restate.Context,
    name: str,
    compensation: Callable[..., Any],
    payload: Any,
    key: str,
    policy: RetryPolicy,
    *,
    saga: tuple[str, str] | None = None,
) -> None:
    """Run one compensation in its form: a durable run, or inline with the context.

    Args:
        saga: The saga and step it undoes, for observability.

    Raises:
        TerminalError: it failed for good (its retries ran out, or it raised one).
    """
    state = current_state()
    observed = saga if saga is not None and _observe.wanted(state) else None
    trace = state.trace if saga is not None and state is not None else None
    if form_of(compensation).takes_context:
        # Handler-level code: its calls are journaled as the hand-written pattern's are, and
        # Restate retries them (and this handler) itself, so no run and no retry policy here.
        if saga is not None and not _sdk.is_replaying():
            # Its outcome is not known in an attempt that suspends inside it: counted (and
            # traced) once, when it begins for the first time.
            if observed is not None:
                _report_compensation(state, observed, "inline")
            if trace is not None:
                _end_compensation_span(trace.start_compensation(*saga), "inline", None)
        await compensation(ctx, payload, key)
        return
    undo = _as_action(compensation)
    if saga is not None and (observed is not None or trace is not None):
        undo = _observed_compensation(undo, state, saga, emits=observed is not None, trace=trace)
    # bounded=True: rea.run's own guard judges the policy; this one only names the fix.
    action = guard_action(name, undo, bounded=True, fix=_CONTEXT_FORM_FIX)
    await run(ctx, name, action, payload, key, retry=policy)


_Outcome = Literal["success", "terminal", "retryable", "inline"]


def _report_compensation(
    state: InvocationState | None, saga: tuple[str, str], outcome: _Outcome
) -> None:
    event = SagaEvent(saga[0], saga[1], "compensation", outcome)
    _observe.emit(state, "saga_event", event)


def _end_compensation_span(span: Any, outcome: _Outcome, exc: BaseException | None) -> None:
    from rea.observability._tracing import end_span

    try:
        end_span(span, None, outcome, exc)
    except Exception:  # tracing must never fail the compensation it traces
        _observe.logger.exception("rea could not end a compensation span")


def _observed_compensation(
    undo: Callable[..., Any],
    state: InvocationState | None,
    saga: tuple[str, str],
    *,
    emits: bool,
    trace: Any,
) -> Callable[..., Any]:
    """`undo`, reported and traced at each execution (a run action never executes on replay)."""

    def outcome(exc: BaseException | None) -> _Outcome:
        if exc is None:
            return "success"
        return "terminal" if isinstance(exc, TerminalError) else "retryable"

    def begin() -> Any:
        # Inside the run action: the run's span is current, and is this span's parent.
        return None if trace is None else trace.start_compensation(*saga)

    def end(span: Any, exc: BaseException | None) -> None:
        if span is not None:
            _end_compensation_span(span, outcome(exc), exc)
        if emits:
            _report_compensation(state, saga, outcome(exc))

    if inspect.iscoroutinefunction(undo):

        async def observed_async(payload: Any, key: str) -> None:
            span = begin()
            try:
                await undo(payload, key)
            except Exception as exc:
                end(span, exc)
                raise
            end(span, None)

        return observed_async

    def observed_sync(payload: Any, key: str) -> None:
        span = begin()
        try:
            undo(payload, key)
        except Exception as exc:
            end(span, exc)
            raise
        end(span, None)

    return observed_sync


def _as_action(compensation: Callable[..., Any]) -> Callable[..., Any]:
    """The compensation as a run action returning None (its result is not kept)."""
    if inspect.iscoroutinefunction(compensation):

        async def run_async(payload: Any, key: str) -> None:
            await compensation(payload, key)

        return run_async

    def run_sync(payload: Any, key: str) -> None:
        result = compensation(payload, key)
        if inspect.isawaitable(result):
            raise UsageTypeError("a sync compensation returned an awaitable: make it async def")

    return run_sync
