"""What rea operations report as they happen: events, hooks, and where they go.

Every rea operation that observability counts calls one function here. Nothing is reported
for a replayed journal entry: attempts and run actions are real executions by nature, and the
call sites of journaled operations (calls, saga steps, violations) check the SDK's replay flag
first. With no sink (no metrics, no hooks), each function returns at its first line.

Two kinds of sinks:

- the process's metrics sink (`rea.observability`'s Prometheus metrics: one registry per
  process, as Prometheus expects), installed by the first ``rea.app(observability=...)`` that
  asks for metrics;
- the hooks of the app serving the invocation (``Observability(hooks=[...])``), carried by
  the invocation's state, so two apps in one process never see each other's events.

A hook that raises is logged once per hook and method, and never fails the invocation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rea._invocation import InvocationState

__all__ = [
    "AttemptFinished",
    "AttemptOutcome",
    "BreakerChanged",
    "CallSent",
    "Hooks",
    "PolicyViolated",
    "RunFinished",
    "SagaEvent",
    "SecurityRejected",
]

logger = logging.getLogger("rea.observability")

AttemptOutcome = Literal["success", "terminal", "retryable", "suspended"]
RunOutcome = Literal["success", "terminal", "retryable"]


@dataclass(frozen=True, slots=True)
class AttemptFinished:
    """One attempt of a handler ended (every attempt is a real execution, never a replay).

    Attributes:
        service: The service, object or workflow name.
        handler: The handler name.
        invocation_id: Restate's invocation id.
        key: The object or workflow key, if any.
        outcome: ``success`` or ``terminal`` (the invocation is done), ``retryable`` (Restate
            retries it) or ``suspended`` (it waits, and resumes in a later attempt).
        seconds: How long the attempt ran.
        error: The exception that ended it, if any.
    """

    service: str
    handler: str
    invocation_id: str
    key: str | None
    outcome: AttemptOutcome
    seconds: float
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class RunFinished:
    """A `rea.run` action ran (only when it really runs: a replay returns the journaled result).

    Attributes:
        service: The service running it.
        handler: The handler running it.
        name: The run's name.
        outcome: ``success``, ``retryable`` (the SDK runs it again) or ``terminal``.
        seconds: How long the action ran.
        error: The exception it raised, if any.
    """

    service: str
    handler: str
    name: str
    outcome: RunOutcome
    seconds: float
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class CallSent:
    """A typed client made a call or a one-way send (never reported again on replay).

    Attributes:
        service: The calling service.
        handler: The calling handler.
        target_service: The called service.
        target_handler: The called handler.
        kind: ``call`` or ``send``.
    """

    service: str
    handler: str
    target_service: str
    target_handler: str
    kind: Literal["call", "send"]


@dataclass(frozen=True, slots=True)
class SagaEvent:
    """A saga added a step, ran a compensation, or left a dead letter.

    Attributes:
        saga: The saga's name.
        step: The step's name.
        kind: ``step``, ``compensation`` or ``dead_letter``.
        outcome: For a compensation: ``success``, ``retryable`` or ``terminal`` per execution
            of its run, or ``inline`` for one that takes the context (counted once, when it
            begins); else None.
    """

    saga: str
    step: str
    kind: Literal["step", "compensation", "dead_letter"]
    outcome: Literal["success", "terminal", "retryable", "inline"] | None = None


@dataclass(frozen=True, slots=True)
class PolicyViolated:
    """A guard fired (see docs/policy.md), outside replays.

    Attributes:
        rule: The rule's dotted name.
        policy: ``strict`` (the invocation fails) or ``warn`` (it goes on).
    """

    rule: str
    policy: str


@dataclass(frozen=True, slots=True)
class SecurityRejected:
    """A request guard refused a request (or let it through, in permissive mode).

    Attributes:
        reason: The reason id, e.g. ``identity.unknown_key`` (docs/security.md).
        path: The request path.
        permissive: True when the request was let through.
    """

    reason: str
    path: str
    permissive: bool


@dataclass(frozen=True, slots=True)
class BreakerChanged:
    """A `rea.CircuitBreaker` changed state (reported once, never again on replay).

    Attributes:
        name: The dependency the breaker guards (its object key).
        old: The state before: ``closed``, ``open`` or ``half_open``.
        new: The state after.
    """

    name: str
    old: str
    new: str


class Hooks:
    """Callbacks for what rea does; subclass it and override the ones you need.

    Hooks run inline, on the event loop (a sync run's `run_finished` in its worker thread):
    keep them quick. An exception in a hook is logged and ignored.
    """

    def attempt_finished(self, event: AttemptFinished) -> None:
        """A handler attempt ended."""

    def run_finished(self, event: RunFinished) -> None:
        """A run action ran."""

    def call_sent(self, event: CallSent) -> None:
        """A typed client called or sent."""

    def saga_event(self, event: SagaEvent) -> None:
        """A saga step, compensation or dead letter."""

    def policy_violated(self, event: PolicyViolated) -> None:
        """A guard fired."""

    def security_rejected(self, event: SecurityRejected) -> None:
        """A request guard refused a request."""

    def breaker_changed(self, event: BreakerChanged) -> None:
        """A circuit breaker opened, closed, or let a probe through."""


#: The process's metrics sink, if any app asked for metrics.
_metrics: Hooks | None = None
#: Whether any app of this process has hooks (a cheap test before looking up the invocation).
_any_hooks = False
_failed: set[tuple[type[Any], str]] = set()
_lock = threading.Lock()


def set_metrics_sink(sink: Hooks | None) -> None:
    """Install the process's metrics sink (None: no metrics)."""
    global _metrics
    _metrics = sink


def hooks_in_use() -> None:
    """Note that an app of this process has hooks."""
    global _any_hooks
    _any_hooks = True


def _deliver(hooks: Sequence[Hooks], method: str, event: object) -> None:
    for hook in hooks:
        try:
            getattr(hook, method)(event)
        except Exception:
            where = (type(hook), method)
            with _lock:
                first = where not in _failed
                _failed.add(where)
            if first:
                logger.exception("hook %s.%s failed; rea ignores it", type(hook).__name__, method)


def wanted(state: InvocationState | None) -> bool:
    """Whether anything listens for the events of `state`'s invocation."""
    return _metrics is not None or (state is not None and bool(state.hooks))


def emit(state: InvocationState | None, method: str, event: object) -> None:
    """Hand `event` to the metrics sink and to the hooks of `state`'s app."""
    if _metrics is not None:
        _deliver((_metrics,), method, event)
    if state is not None and state.hooks:
        _deliver(state.hooks, method, event)


def emit_current(method: str, event: object) -> None:
    """Hand `event` to the sinks of the invocation running here, if any listens."""
    if _metrics is None and not _any_hooks:
        return
    from rea._invocation import current_state  # _invocation imports this module

    emit(current_state(), method, event)


def emit_global(hooks: Sequence[Hooks], method: str, event: object) -> None:
    """Hand an event from outside any invocation (a security guard) to the sinks."""
    if _metrics is not None:
        _deliver((_metrics,), method, event)
    if hooks:
        _deliver(hooks, method, event)
