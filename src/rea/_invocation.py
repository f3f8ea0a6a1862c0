"""Per-invocation machinery that `rea.app` installs: invocation state and the guarded context.

For every attempt of every handler, `invocation_scope` (one of the SDK's
`invocation_context_managers`) records what is running and turns that attempt's context object
into a `GuardedContext`: the same object, of a subclass whose methods check the runtime guards
before doing what the SDK does. User handlers do not change, and `isinstance` still holds.
Every guarded method is listed in `rea._sdk.CONTEXT_METHODS`, which `rea.app` verifies against
the installed SDK: a renamed SDK method fails the app's construction, it never loses its guard.

Guards (rule names):
- ``ctx.inside_run``: the context (or a rea in-handler API) used inside a run action. The SDK
  journals nothing sensible for that: it deadlocks, fails with a journal mismatch on replay, or
  silently shifts the random sequence.
- ``ctx.after_return``: the context used after its handler returned (say from a leaked task).
- ``state.write_in_shared``: state written from a shared or a stateless handler; the server
  would fail the invocation. Under WARN the write is skipped so the invocation can go on.
- ``plane.orchestration_in_data_plane``: promises, awakeables or rea's sagas used by a
  service tagged `rea.data_plane`.
- ``run.unbounded_retryable``: a run with no attempt limit raised `RetryableError`, whose
  `retry_after` makes the SDK retry it forever. Under WARN it is retried as a plain error (the
  invocation's retry policy bounds it).

Timers: ``ctx.sleep`` durations are multiplied by the process's time scale before the SDK
journals them (1 in production; below 1 under `rea.testing.Harness(time_scale=...)`; see
`rea.workflow._time`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import restate
from restate import TerminalError

from rea import _observe, _sdk
from rea._observe import AttemptFinished, Hooks
from rea._policy import Policy, violation
from rea._sdk import InvocationContext, RetryableError
from rea.errors import InvalidInput, PolicyViolation

PLANE_METADATA_KEY = "rea.plane"

#: Workflow promises whose names start with this are rea's own (see `_workflow_output`).
RESERVED_PROMISE_PREFIX = "_rea."

Plane = Literal["control", "data"]


@dataclass(eq=False)
class InvocationState:
    """What rea knows about the attempt that is running."""

    service_name: str
    service_kind: str
    handler_name: str
    handler_kind: str | None
    plane: Plane | None
    finished: bool = False
    drawn_uuids: set[str] = field(default_factory=set)
    #: The hooks of the app serving this invocation (`rea.Observability(hooks=...)`).
    hooks: tuple[Hooks, ...] = ()
    #: The attempt's context (log records read the invocation id and key from it).
    ctx: Any = None
    #: The attempt's spans (`rea.observability._tracing.AttemptTrace`), if the app traces.
    trace: Any = None

    @property
    def can_write_state(self) -> bool:
        """Only exclusive object handlers and workflow run handlers may write state."""
        return self.handler_kind in ("exclusive", "workflow")

    @property
    def target(self) -> str:
        return f"{self.service_name}/{self.handler_name}"


#: Failed attempts and failed invocations, with their ids (`rea dev` shows them live).
logger = logging.getLogger("rea.invocation")

_current: ContextVar[InvocationState | None] = ContextVar("rea_invocation", default=None)
#: The run action executing here: its name, and the fix text for ``ctx.inside_run`` (None:
#: the default one). One variable, so marking an action costs a single set and reset.
_in_run: ContextVar[tuple[str, str | None] | None] = ContextVar("rea_in_run", default=None)

_INSIDE_RUN_FIX = (
    "do the context call before or after the run, and pass values to the action as arguments"
)


def current_state() -> InvocationState | None:
    """The state of the rea-managed invocation running in this context, if any."""
    return _current.get()


def in_run() -> str | None:
    """The name of the run action executing in this context, if any."""
    mark = _in_run.get()
    return None if mark is None else mark[0]


def check_usable(operation: str, state: InvocationState | None = None) -> None:
    """The guards every use of the context goes through: not inside a run, not after return."""
    mark = _in_run.get()
    if mark is not None:
        run_name, fix = mark
        violation(
            "ctx.inside_run",
            f"{operation} used inside the run action {run_name!r}; actions are skipped on "
            "replay, so whatever they do with the context is not replayed",
            fix=fix or _INSIDE_RUN_FIX,
        )
    state = state or _current.get()
    if state is not None and state.finished:
        violation(
            "ctx.after_return",
            f"{operation} used after the handler {state.target} returned",
            fix="await every task that uses the context before the handler returns",
        )


def _clear(state: InvocationState) -> bool:
    """Whether the common guards have nothing to say (not in a run, handler not returned)."""
    return _in_run.get() is None and not state.finished


def require_control_plane(what: str) -> None:
    """The guard for orchestration helpers: not in a service tagged data plane."""
    state = _current.get()
    if state is not None and state.plane == "data":
        violation(
            "plane.orchestration_in_data_plane",
            f"{what} used in {state.target}, a data-plane service",
            fix="move the orchestration to a control-plane service (rea.control_plane) that "
            "calls this one",
        )


def _state_of(ctx: object) -> InvocationState | None:
    state: InvocationState | None = getattr(ctx, "_rea_state", None)
    return state


def _handler_kinds(ctx: object) -> tuple[str, str | None, str]:
    # Works on any SDK context, guarded or not: the SDK knows which handler is running.
    state = _state_of(ctx)
    if state is not None:
        return state.target, state.handler_kind, state.service_kind
    handler = _sdk.running_handler(ctx)
    if handler is None:
        return "<unknown>", "exclusive", "object"
    return f"{handler.service}/{handler.name}", handler.kind, handler.service_kind


def may_write_state(ctx: object, operation: str) -> bool:
    """Run the state-write guards for `ctx`; whether the write should go ahead."""
    check_usable(operation, _state_of(ctx))
    target, kind, _service_kind = _handler_kinds(ctx)
    if kind in ("exclusive", "workflow"):
        return True
    applied = violation(
        "state.write_in_shared",
        f"{operation} in {target}, a {kind or 'stateless service'} handler; only exclusive and "
        "workflow run handlers can write state, and the server fails the invocation otherwise",
        fix="write state from an exclusive handler (or the workflow's run handler), or call "
        "one from here",
    )
    # Under WARN the write is skipped: it cannot succeed, and the invocation should go on.
    return applied is Policy.DISABLED


def base_method(ctx: object, name: str) -> Any:
    """`ctx.name` without rea's guard in front (for rea APIs that ran the guards already)."""
    if isinstance(ctx, GuardedContext):
        return getattr(super(GuardedContext, ctx), name)
    return getattr(ctx, name)


def checked(ctx: object, operation: str) -> None:
    """Run the common guards for a rea API about to use `ctx` without its guarded methods."""
    check_usable(operation, _state_of(ctx))


def code_site(fn: Callable[..., Any]) -> tuple[str, int] | None:
    """Where `fn` is defined, for violations found after it returned (or on another thread)."""
    target: Any = fn
    while isinstance(target, functools.partial):
        target = target.func
    code = getattr(getattr(target, "__func__", target), "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code is not None else None


def guard_action(
    name: str,
    action: Callable[..., Any],
    *,
    bounded: bool,
    fix: str | None = None,
    keep_signature: bool = True,
) -> Callable[..., Any]:
    """`action` marked as running inside run `name`, keeping its sync or async nature.

    Args:
        name: The run's name, for messages.
        action: The run's action.
        bounded: Whether the run's retries end (else ``RetryableError`` is a violation).
        fix: The fix text of a ``ctx.inside_run`` violation while `action` runs; default: do
            the context call before or after the run.
        keep_signature: Copy `action`'s name, annotations and signature onto the wrapper (the
            SDK reads the return annotation when the run's serde is its default one); rea.run,
            which passes its own serde, skips the copy (it is most of this function's cost).

    Returns:
        The marked action.
    """
    mark = (name, fix)

    def _retryable(exc: RetryableError) -> BaseException:
        applied = violation(
            "run.unbounded_retryable",
            f"run {name!r} raised RetryableError(retry_after=...) without an attempt limit; "
            "the SDK then retries it forever",
            fix="give the run a limit: rea.run(..., retry=rea.RetryPolicy(max_attempts=N)) "
            "or RunOptions(max_attempts=N)",
            site=code_site(action),
        )
        if applied is Policy.WARN:
            return RuntimeError(f"{exc.message} (RetryableError without a limit)")
        return exc

    state = _current.get()
    # An action guarded twice (a saga's compensation, then rea.run) is observed once.
    if (_observe.wanted(state) or (state is not None and state.trace is not None)) and not (
        getattr(action, "_rea_observed", False)
    ):
        action = _observed_action(name, action, state)

    if inspect.iscoroutinefunction(action):

        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            token = _in_run.set(mark)
            try:
                return await action(*args, **kwargs)
            except RetryableError as exc:
                replacement = exc if bounded else _retryable(exc)
                if replacement is exc:
                    raise
                raise replacement from exc
            finally:
                _in_run.reset(token)

        return functools.update_wrapper(guarded_async, action) if keep_signature else guarded_async

    def guarded_sync(*args: Any, **kwargs: Any) -> Any:
        token = _in_run.set(mark)
        try:
            return action(*args, **kwargs)
        except RetryableError as exc:
            replacement = exc if bounded else _retryable(exc)
            if replacement is exc:
                raise
            raise replacement from exc
        finally:
            _in_run.reset(token)

    return functools.update_wrapper(guarded_sync, action) if keep_signature else guarded_sync


def _observed_action(
    name: str, action: Callable[..., Any], state: InvocationState | None
) -> Callable[..., Any]:
    """`action`, reported and traced each time it really runs (a replay does not run it)."""
    service, handler = ("?", "?") if state is None else (state.service_name, state.handler_name)
    emits = _observe.wanted(state)
    trace = None if state is None else state.trace

    def started() -> tuple[float, Any, Any]:
        if trace is None:
            return time.perf_counter(), None, None
        try:
            span, token = trace.start_run(name)
        except Exception:  # tracing must never fail the run it traces
            _observe.logger.exception("rea could not start a run span")
            span, token = None, None
        return time.perf_counter(), span, token

    def finished(begun: tuple[float, Any, Any], exc: BaseException | None) -> None:
        outcome: _observe.RunOutcome = (
            "success"
            if exc is None
            else "terminal"
            if isinstance(exc, TerminalError)
            else "retryable"
        )
        seconds = time.perf_counter() - begun[0]
        if begun[1] is not None:
            from rea.observability._tracing import end_span

            end_span(begun[1], begun[2], outcome, exc)
        if emits:
            event = _observe.RunFinished(service, handler, name, outcome, seconds, exc)
            _observe.emit(state, "run_finished", event)

    if inspect.iscoroutinefunction(action):

        async def observed_async(*args: Any, **kwargs: Any) -> Any:
            begun = started()
            try:
                result = await action(*args, **kwargs)
            except Exception as exc:
                finished(begun, exc)
                raise
            finished(begun, None)
            return result

        observed_async._rea_observed = True  # type: ignore[attr-defined]
        return functools.update_wrapper(observed_async, action)

    def observed_sync(*args: Any, **kwargs: Any) -> Any:
        begun = started()
        try:
            result = action(*args, **kwargs)
        except Exception as exc:
            finished(begun, exc)
            raise
        finished(begun, None)
        return result

    observed_sync._rea_observed = True  # type: ignore[attr-defined]
    return functools.update_wrapper(observed_sync, action)


class GuardedContext(InvocationContext):
    """The SDK's context with rea's guards in front of every operation."""

    _rea_state: InvocationState

    # -- state writes ------------------------------------------------------------------------
    def _writes_freely(self) -> bool:
        # The common case, checked without building messages nobody will read.
        return _clear(self._rea_state) and self._rea_state.can_write_state

    def set(self, name: str, value: Any, *args: Any, **kwargs: Any) -> None:
        if self._writes_freely() or may_write_state(self, f"ctx.set({name!r})"):
            super().set(name, value, *args, **kwargs)

    def clear(self, name: str, *args: Any, **kwargs: Any) -> None:
        if self._writes_freely() or may_write_state(self, f"ctx.clear({name!r})"):
            super().clear(name, *args, **kwargs)

    def clear_all(self, *args: Any, **kwargs: Any) -> None:
        if may_write_state(self, "ctx.clear_all()"):
            super().clear_all(*args, **kwargs)

    # -- runs --------------------------------------------------------------------------------
    def run_typed(
        self, name: str, action: Any, options: Any = None, /, *args: Any, **kwargs: Any
    ) -> Any:
        if not _clear(self._rea_state):
            check_usable(f"ctx.run_typed({name!r})", self._rea_state)
        if options is None:
            return super().run_typed(
                name, guard_action(name, action, bounded=False), *args, **kwargs
            )
        bounded = options.max_attempts is not None or options.max_duration is not None
        guarded = guard_action(name, action, bounded=bounded)
        return super().run_typed(name, guarded, options, *args, **kwargs)

    def run(self, name: str, action: Any, *args: Any, **kwargs: Any) -> Any:
        check_usable(f"ctx.run({name!r})", self._rea_state)
        max_attempts = kwargs.get("max_attempts", args[1] if len(args) > 1 else None)
        guarded = guard_action(name, action, bounded=max_attempts is not None)
        return super().run(name, guarded, *args, **kwargs)

    # -- timers ------------------------------------------------------------------------------
    def sleep(self, delta: Any, *args: Any, **kwargs: Any) -> Any:
        if not _clear(self._rea_state):
            check_usable("ctx.sleep()", self._rea_state)
        # Scaled before the SDK journals it, so a replay waits for the very same timer (tests
        # run with a time scale below 1; in production the scale is 1 and delta is unchanged).
        return super().sleep(_scaled(delta), *args, **kwargs)

    def uuid(self) -> Any:
        check_usable("ctx.uuid()", self._rea_state)
        value = super().uuid()
        # Keys built from it are invocation-derived: the idempotency check reads this set.
        self._rea_state.drawn_uuids.add(str(value))
        return value

    # -- orchestration -----------------------------------------------------------------------
    def promise(self, name: str, *args: Any, **kwargs: Any) -> Any:
        check_usable(f"ctx.promise({name!r})", self._rea_state)
        require_control_plane(f"ctx.promise({name!r})")
        if isinstance(name, str) and name.startswith(RESERVED_PROMISE_PREFIX):
            # rea keeps a workflow's result in such a promise; a handler that resolves promises
            # by a name its caller sends would otherwise let any caller fail the run (409
            # "promise was already completed" when rea resolves it) or fake its result.
            raise TerminalError(
                f"the promise name {name!r} is reserved by rea (names starting with "
                f"{RESERVED_PROMISE_PREFIX!r})",
                status_code=400,
            )
        return super().promise(name, *args, **kwargs)

    def awakeable(self, *args: Any, **kwargs: Any) -> Any:
        check_usable("ctx.awakeable()", self._rea_state)
        require_control_plane("ctx.awakeable()")
        return super().awakeable(*args, **kwargs)


_scaler: Callable[[timedelta], timedelta] | None = None


def _scaled(delta: Any) -> Any:
    """`delta` under the process's time scale (see rea.workflow._time); anything else as is."""
    global _scaler
    if _scaler is None:
        # Imported on first use: rea.workflow's modules import this one.
        from rea.workflow._time import scaled

        _scaler = scaled
    return _scaler(delta) if isinstance(delta, timedelta) else delta


def _plain_guard(method_name: str) -> Callable[..., Any]:
    original = _sdk.context_method(method_name)

    operation = f"ctx.{method_name}()"

    @functools.wraps(original)
    def guarded(self: GuardedContext, *args: Any, **kwargs: Any) -> Any:
        if not _clear(self._rea_state):
            check_usable(operation, self._rea_state)
        return original(self, *args, **kwargs)

    return guarded


#: The context methods with rea's own override above.
OVERRIDDEN_METHODS = (
    "set", "clear", "clear_all", "run_typed", "run", "sleep", "uuid", "promise", "awakeable",
)  # fmt: skip

#: Everything else that reaches the journal (or the seeded random generator) gets the common
#: checks; pure reads such as request() and key() need none. Every name is one of
#: `_sdk.CONTEXT_METHODS`, which `rea.app` verifies: a guard never goes missing silently.
PLAIN_GUARDED_METHODS = (
    "get", "state_keys", "time", "random",
    "service_call", "service_send", "object_call", "object_send", "workflow_call",
    "workflow_send", "generic_call", "generic_send", "resolve_awakeable", "reject_awakeable",
    "cancel_invocation", "attach_invocation", "signal", "resolve_signal", "reject_signal",
)  # fmt: skip

for _name in PLAIN_GUARDED_METHODS:
    setattr(GuardedContext, _name, _plain_guard(_name))
for _name in OVERRIDDEN_METHODS:
    _sdk.context_method(_name)  # a ValueError here: list it in _sdk.CONTEXT_METHODS first


def _plane_of(metadata: Mapping[str, str]) -> Plane | None:
    value = metadata.get(PLANE_METADATA_KEY)
    return value if value in ("control", "data") else None  # type: ignore[return-value]


class _InvocationScope:
    """Wraps one attempt of a handler: records its state and guards its context.

    A plain class rather than a generator-based context manager: it runs on every attempt of
    every handler, so it should cost as little as possible.
    """

    __slots__ = ("_ctx", "_hooks", "_started", "_state", "_token", "_tracing")

    def __init__(self, hooks: tuple[Hooks, ...] = (), tracing: Any = None) -> None:
        self._hooks = hooks
        self._tracing = tracing

    async def __aenter__(self) -> None:
        ctx = _sdk.current_context()
        handler = _sdk.running_handler(ctx)
        if handler is None or not isinstance(ctx, InvocationContext):  # pragma: no cover
            self._token = None
            return
        self._ctx = ctx
        state = InvocationState(
            service_name=handler.service,
            service_kind=handler.service_kind,
            handler_name=handler.name,
            handler_kind=handler.kind,
            plane=_plane_of(handler.service_metadata),
            hooks=self._hooks,
            ctx=ctx,
        )
        if type(ctx) is InvocationContext:
            # Same object, guarded methods: the handler and the SDK keep the ctx they know.
            ctx.__class__ = GuardedContext
        ctx._rea_state = state  # type: ignore[attr-defined]
        self._state = state
        self._token = _current.set(state)
        if self._tracing is not None:
            state.trace = _start_trace(self._tracing, ctx, state)
        self._started = time.perf_counter()

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if self._token is not None:
            state = self._state
            state.finished = True
            _current.reset(self._token)
            if exc is not None:
                _report(self._ctx, state, exc)
            if state.trace is not None:
                try:
                    state.trace.end(_outcome(exc), exc)
                except Exception:  # observing must never fail the attempt it observes
                    _observe.logger.exception("rea could not end an attempt span")
            if _observe.wanted(state):
                try:
                    _attempt_finished(self._ctx, state, exc, time.perf_counter() - self._started)
                except Exception:  # observing must never fail the attempt it observes
                    _observe.logger.exception("rea could not report an attempt")


def _start_trace(tracing: Any, ctx: InvocationContext, state: InvocationState) -> Any:
    """The attempt's span, made current; None if tracing failed (it never fails the attempt)."""
    try:
        request = ctx.request()
        return tracing.start_attempt(
            target=state.target,
            invocation_id=request.id,
            headers=request.headers,
            attempt_headers=request.attempt_headers,
        )
    except Exception:
        _observe.logger.exception("rea could not start an attempt span")
        return None


def _outcome(exc: BaseException | None) -> _observe.AttemptOutcome:
    if exc is None:
        return "success"
    if isinstance(exc, TerminalError):
        return "terminal"
    if restate.is_internal_exception(exc) or isinstance(exc, asyncio.CancelledError):
        # A suspension (or the SDK's own control flow): the invocation resumes in a new attempt.
        return "suspended"
    return "retryable"


def _attempt_finished(
    ctx: InvocationContext, state: InvocationState, exc: BaseException | None, seconds: float
) -> None:
    outcome = _outcome(exc)
    event = AttemptFinished(
        service=state.service_name,
        handler=state.handler_name,
        invocation_id=ctx.request().id,
        key=None if state.service_kind == "service" else ctx.key(),
        outcome=outcome,
        seconds=seconds,
        error=exc,
    )
    _observe.emit(state, "attempt_finished", event)


def _report(ctx: InvocationContext, state: InvocationState, exc: BaseException) -> None:
    """Log how an attempt failed: a developer sees it where the app's output goes."""
    if restate.is_internal_exception(exc) or isinstance(exc, asyncio.CancelledError):
        return  # a suspension or the SDK's own control flow, not a failure
    if isinstance(exc, InvalidInput):
        return  # rea's serde logged it already, with the errors
    invocation = ctx.request().id
    if isinstance(exc, TerminalError):
        level = logging.WARNING if isinstance(exc, PolicyViolation) else logging.INFO
        logger.log(
            level,
            "invocation %s %s failed: [%s] %s",
            invocation,
            state.target,
            exc.status_code,
            exc.message,
        )
        return
    logger.warning(
        "invocation %s %s: attempt failed, Restate will retry it: %r",
        invocation,
        state.target,
        exc,
        exc_info=exc,
    )


def invocation_scope() -> _InvocationScope:
    """The per-attempt context manager factory `rea.app` installs on every handler."""
    return _InvocationScope()


def invocation_scope_with(
    hooks: tuple[Hooks, ...], tracing: Any = None
) -> Callable[[], _InvocationScope]:
    """The factory for an app with `hooks` and `tracing`: its invocations report to them.

    Args:
        hooks: The app's hooks.
        tracing: The app's `rea.observability._tracing.Tracing`, or None (no spans).

    Returns:
        A factory of per-attempt scopes.
    """
    if not hooks and tracing is None:
        return invocation_scope
    return functools.partial(_InvocationScope, hooks, tracing)
