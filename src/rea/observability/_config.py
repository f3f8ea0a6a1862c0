"""`Observability`: what `rea.app(observability=...)` turns on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rea._observe import Hooks
from rea.errors import UsageTypeError, UsageValueError

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = ["Observability"]


@dataclass(frozen=True, kw_only=True)
class Observability:
    """Metrics, hooks, log context and traces for an app: ``rea.app(..., observability=...)``.

    Args:
        metrics: Record rea's Prometheus metrics (one registry per process) and serve them at
            `metrics_path` on the app's own endpoint.
        metrics_path: Where the app answers Prometheus' scrapes.
        hooks: `rea.Hooks` told of every attempt, run, call, saga step, violation and security
            refusal of this app (a failing hook is logged, never fails an invocation).
        logs: Put the invocation's id, service, handler, key and attempt on every log record
            made inside a handler (attributes ``rea_invocation_id``, ``rea_target``...), and
            drop records made while the SDK replays the journal: see docs/observability.md.
        tracer_provider: An OpenTelemetry ``TracerProvider``: a span per attempt, run
            execution, outgoing call and saga compensation, joined with restate-server's
            trace (docs/observability.md, "Traces"); None: no spans, no cost.

    Raises:
        UsageTypeError: a hook that is not a `rea.Hooks`.
        UsageValueError: a metrics path that does not start with ``/``.
    """

    metrics: bool = True
    metrics_path: str = "/metrics"
    hooks: Sequence[Hooks] = ()
    logs: bool = True
    tracer_provider: TracerProvider | None = None

    def __post_init__(self) -> None:
        hooks = tuple(self.hooks)
        for hook in hooks:
            if not isinstance(hook, Hooks):
                raise UsageTypeError(
                    f"hooks take rea.Hooks instances (subclass it), not {type(hook).__name__}"
                )
        object.__setattr__(self, "hooks", hooks)
        if not isinstance(self.metrics_path, str) or not self.metrics_path.startswith("/"):
            raise UsageValueError(f"metrics_path must start with '/', not {self.metrics_path!r}")
