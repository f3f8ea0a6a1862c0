"""rea's Prometheus metrics: one registry per process, fed by rea's events, served at /metrics.

Names follow Prometheus' conventions (``rea_`` prefix, ``_total`` counters, ``_seconds``
histograms); labels are names from the code (service, handler, run, rule, reason...), never
keys, ids or inputs, so their number is bounded by the code, not by the traffic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from rea._observe import (
    AttemptFinished,
    BreakerChanged,
    CallSent,
    Hooks,
    PolicyViolated,
    RunFinished,
    SagaEvent,
    SecurityRejected,
)

__all__ = ["MetricsSink", "registry"]

_BREAKER_STATES = ("closed", "open", "half_open")
#: Handler attempts are mostly milliseconds; runs that call the outside world up to minutes.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _InputRejections(Collector):
    """Inputs rea's validation refused, read from rea's own count when scraped."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        from rea._serde import rejection_counts

        family = CounterMetricFamily(
            "rea_input_rejections",
            "Handler inputs refused with a 400 by rea's validation.",
            labels=["service", "handler"],
        )
        for target, count in sorted(rejection_counts().items()):
            service, _, handler = target.partition("/")
            family.add_metric([service, handler], count)
        yield family


class MetricsSink(Hooks):
    """Turns rea's events into Prometheus metrics in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        labels = ["service", "handler"]
        self.invocations = Counter(
            "rea_invocations",
            "Invocations that ended (success or terminal failure), each counted once.",
            [*labels, "outcome"],
            registry=registry,
        )
        self.attempts = Counter(
            "rea_attempts",
            "Handler attempts by how they ended: success, terminal, retryable, suspended.",
            [*labels, "outcome"],
            registry=registry,
        )
        self.attempt_seconds = Histogram(
            "rea_attempt_duration_seconds",
            "How long handler attempts ran.",
            labels,
            buckets=_BUCKETS,
            registry=registry,
        )
        self.runs = Counter(
            "rea_runs",
            "Run actions executed (a retry is another execution; replays never count).",
            [*labels, "run", "outcome"],
            registry=registry,
        )
        self.run_seconds = Histogram(
            "rea_run_duration_seconds",
            "How long run actions ran.",
            [*labels, "run"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.calls = Counter(
            "rea_calls",
            "Calls and one-way sends made with rea's typed clients.",
            [*labels, "target_service", "target_handler", "kind"],
            registry=registry,
        )
        self.saga_steps = Counter(
            "rea_saga_steps", "Saga steps added.", ["saga", "step"], registry=registry
        )
        self.compensations = Counter(
            "rea_saga_compensations",
            "Saga compensations run, by outcome.",
            ["saga", "step", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "rea_saga_dead_letters",
            "Compensations that could not complete, left as dead letters.",
            ["saga", "step"],
            registry=registry,
        )
        self.violations = Counter(
            "rea_policy_violations",
            "Guards that fired (docs/policy.md), by rule and the policy applied.",
            ["rule", "policy"],
            registry=registry,
        )
        self.rejections = Counter(
            "rea_security_rejections",
            "Requests the security guards refused (or let through in permissive mode).",
            ["reason", "mode"],
            registry=registry,
        )
        self.breaker_state = Gauge(
            "rea_circuit_breaker_state",
            "1 for each breaker's current state (closed, open, half_open), as this process "
            "last saw it change.",
            ["name", "state"],
            registry=registry,
        )
        self.breaker_transitions = Counter(
            "rea_circuit_breaker_transitions",
            "Circuit breaker state changes.",
            ["name", "from_state", "to_state"],
            registry=registry,
        )
        registry.register(_InputRejections())

    def attempt_finished(self, event: AttemptFinished) -> None:
        self.attempts.labels(event.service, event.handler, event.outcome).inc()
        self.attempt_seconds.labels(event.service, event.handler).observe(event.seconds)
        if event.outcome in ("success", "terminal"):
            self.invocations.labels(event.service, event.handler, event.outcome).inc()

    def run_finished(self, event: RunFinished) -> None:
        self.runs.labels(event.service, event.handler, event.name, event.outcome).inc()
        self.run_seconds.labels(event.service, event.handler, event.name).observe(event.seconds)

    def call_sent(self, event: CallSent) -> None:
        self.calls.labels(
            event.service, event.handler, event.target_service, event.target_handler, event.kind
        ).inc()

    def saga_event(self, event: SagaEvent) -> None:
        if event.kind == "step":
            self.saga_steps.labels(event.saga, event.step).inc()
        elif event.kind == "compensation":
            self.compensations.labels(event.saga, event.step, event.outcome or "success").inc()
        else:
            self.dead_letters.labels(event.saga, event.step).inc()

    def policy_violated(self, event: PolicyViolated) -> None:
        self.violations.labels(event.rule, event.policy).inc()

    def breaker_changed(self, event: BreakerChanged) -> None:
        for state in _BREAKER_STATES:
            self.breaker_state.labels(event.name, state).set(1 if state == event.new else 0)
        self.breaker_transitions.labels(event.name, event.old, event.new).inc()

    def security_rejected(self, event: SecurityRejected) -> None:
        mode = "permissive" if event.permissive else "strict"
        self.rejections.labels(event.reason, mode).inc()


_sink: MetricsSink | None = None
_lock = threading.Lock()


def registry() -> CollectorRegistry:
    """The process's registry of rea metrics (made, and fed from then on, at the first call)."""
    global _sink
    with _lock:
        if _sink is None:
            from rea import _observe

            _sink = MetricsSink(CollectorRegistry())
            _observe.set_metrics_sink(_sink)
        return _sink.registry
