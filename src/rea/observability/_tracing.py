"""OpenTelemetry spans for rea: one per attempt, run execution, outgoing call and compensation.

`rea.app(observability=rea.Observability(tracer_provider=...))` builds one `Tracing` per app;
the attempt scope puts an `AttemptTrace` on the invocation's state, and rea's run, call and
saga code read it from there. With no tracer provider none of this is imported.

Parents: the attempt span's parent is the ``traceparent`` restate-server sends with the attempt
(``ctx.request().attempt_headers``, present when the server exports traces), else the one the
invocation was started with (``ctx.request().headers``, the caller's), so a trace started by a
caller goes on through the server's spans into the app's.

Replays: an attempt and a run action are real executions; calls get a span only when their
journal entry is new. The ``traceparent`` a call carries is journaled with the call, and the SDK
compares it on replay, so it must be the same in every attempt: its span id is derived from the
invocation id and the call's position in the handler (see `AttemptTrace.call_headers`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TracerProvider,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from rea._version import __version__

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context

__all__ = ["AttemptTrace", "Tracing", "end_span"]

_propagator = TraceContextTextMapPropagator()
TRACEPARENT = "traceparent"


class Tracing:
    """An app's tracer: starts attempt spans.

    Args:
        provider: Where spans go (an opentelemetry-sdk ``TracerProvider``, or any other).
    """

    __slots__ = ("tracer",)

    def __init__(self, provider: TracerProvider) -> None:
        self.tracer = provider.get_tracer("rea", __version__)

    def start_attempt(
        self,
        *,
        target: str,
        invocation_id: str,
        headers: Mapping[str, str],
        attempt_headers: Mapping[str, str],
    ) -> AttemptTrace:
        """Start the span of one attempt and make it the current span.

        Args:
            target: ``Service/handler``, the span's name.
            invocation_id: Restate's invocation id.
            headers: The invocation's headers (the caller's ``traceparent``).
            attempt_headers: The attempt's headers (the server's ``traceparent``).

        Returns:
            The attempt's trace; end it with `AttemptTrace.end` in the same task.
        """
        carrier = attempt_headers if TRACEPARENT in attempt_headers else headers
        parent = _propagator.extract(carrier)
        remote = trace.get_current_span(parent).get_span_context()
        if not remote.is_valid:
            # No trace to join: one derived from the invocation id, so that every attempt of
            # the invocation shares a trace id (the calls' journaled traceparent needs one).
            remote = SpanContext(
                _derived_id(invocation_id, 16),
                _derived_id(invocation_id, 8),
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
            parent = trace.set_span_in_context(NonRecordingSpan(remote))
        span = self.tracer.start_span(
            target,
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "restate.invocation.id": invocation_id,
                "restate.invocation.target": target,
            },
        )
        current = trace.set_span_in_context(span, parent)
        token = otel_context.attach(current)
        return AttemptTrace(self.tracer, span, current, invocation_id, remote.trace_id, token)


class AttemptTrace:
    """The spans of one attempt: its own, and the children rea starts under it."""

    __slots__ = ("_calls", "_token", "context", "invocation_id", "span", "trace_id", "tracer")

    def __init__(
        self,
        tracer: trace.Tracer,
        span: Span,
        context: Context,
        invocation_id: str,
        trace_id: int,
        token: Token[Context],
    ) -> None:
        self.tracer = tracer
        self.span = span
        #: The OpenTelemetry context with the attempt span current (run spans' parent).
        self.context = context
        self.invocation_id = invocation_id
        #: The invocation's trace id: the same in every attempt.
        self.trace_id = trace_id
        self._token = token
        self._calls = 0

    def end(self, outcome: str, error: BaseException | None) -> None:
        """End the attempt span with rea's `outcome` and restore the caller's context."""
        span = self.span
        span.set_attribute("rea.outcome", outcome)
        if error is not None and outcome in ("terminal", "retryable"):
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()
        otel_context.detach(self._token)

    def start_run(self, name: str) -> tuple[Span, Token[Context]]:
        """Start the span of one execution of run `name`, current until `end_run`."""
        span = self.tracer.start_span(
            f"run {name}",
            context=self.context,
            kind=SpanKind.INTERNAL,
            attributes={"restate.invocation.id": self.invocation_id, "rea.run.name": name},
        )
        return span, otel_context.attach(trace.set_span_in_context(span, self.context))

    def call_headers(
        self,
        *,
        target: str,
        send: bool,
        replaying: bool,
        headers: Mapping[str, str] | None,
    ) -> dict[str, str] | None:
        """The headers of an outgoing call, with its ``traceparent``; a span if it is new.

        The ``traceparent`` is the same in every attempt (the SDK compares journaled headers
        on replay): trace id of this invocation's trace, span id from the invocation id and
        the call's position among this handler's calls. The call span (made only when the
        call is not replayed) carries that very span id as ``rea.call.span_id``, and has the
        attempt span as its parent.

        Args:
            target: ``Service/handler`` called.
            send: A one-way send (span kind PRODUCER) rather than a call (CLIENT).
            replaying: Whether the call's entry is in the journal already (no span then).
            headers: The caller's own headers; a ``traceparent`` among them is kept.

        Returns:
            The headers to journal with the call.
        """
        self._calls += 1
        if headers and TRACEPARENT in headers:
            return dict(headers)
        span_id = _derived_id(f"{self.invocation_id}/{self._calls}", 8)
        if not replaying:
            span = self.tracer.start_span(
                f"{'send' if send else 'call'} {target}",
                context=self.context,
                kind=SpanKind.PRODUCER if send else SpanKind.CLIENT,
                attributes={
                    "restate.invocation.id": self.invocation_id,
                    "rea.call.target": target,
                    "rea.call.span_id": f"{span_id:016x}",
                },
            )
            span.end()
        stable = SpanContext(self.trace_id, span_id, is_remote=False, trace_flags=TraceFlags(1))
        carrier: dict[str, str] = dict(headers or {})
        _propagator.inject(carrier, trace.set_span_in_context(NonRecordingSpan(stable)))
        return carrier

    def start_compensation(self, saga: str, step: str) -> Span:
        """A span for one compensation of `saga`'s `step`, child of the current span.

        Inside a compensation's run action the current span is that run's; for a compensation
        that takes the context, the attempt's. The caller ends it.
        """
        return self.tracer.start_span(
            f"compensate {saga}/{step}",
            kind=SpanKind.INTERNAL,
            attributes={
                "restate.invocation.id": self.invocation_id,
                "rea.saga.name": saga,
                "rea.saga.step": step,
            },
        )


def end_span(
    span: Span, token: Token[Context] | None, outcome: str, error: BaseException | None
) -> None:
    """End a run or compensation span with rea's `outcome`, detaching its context."""
    span.set_attribute("rea.outcome", outcome)
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    span.end()
    if token is not None:
        otel_context.detach(token)


def _derived_id(text: str, size: int) -> int:
    """A non-zero id of `size` bytes derived from `text` (the same in every process)."""
    digest = hashlib.blake2b(text.encode(), digest_size=size).digest()
    return int.from_bytes(digest, "big") or 1
