"""Observability for rea apps: Prometheus metrics, hooks, and invocation context in logs.

``rea.app(services, observability=rea.Observability())`` records rea's metrics (one registry
per process: `registry`) and serves them at ``/metrics`` on the app's own endpoint, tells the
app's `Hooks` of every attempt, run, call, saga step, guard and security refusal, and puts the
invocation's id, service, handler and key on every log record made in a handler. Nothing is
counted twice because of a replay. See docs/observability.md.
"""

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
from rea.observability._config import Observability
from rea.observability._endpoint import MetricsEndpoint
from rea.observability._logging import InvocationLogFilter
from rea.observability._metrics import registry

__all__ = [
    "AttemptFinished",
    "BreakerChanged",
    "CallSent",
    "Hooks",
    "InvocationLogFilter",
    "MetricsEndpoint",
    "Observability",
    "PolicyViolated",
    "RunFinished",
    "SagaEvent",
    "SecurityRejected",
    "registry",
]
