"""rea: opinionated, type-safe building blocks for durable applications on Restate."""

from typing import TYPE_CHECKING, Any

from rea._app import app
from rea._clients import ObjectClient, ServiceClient, WorkflowClient
from rea._compensations import compensation
from rea._concurrency import Outcome, Selected, fan_out, gather, map_concurrent, ordered, select
from rea._idempotency import idempotency_key
from rea._planes import control_plane, data_plane
from rea._policy import Policy, get_policy, policy_override, set_policy, violation_counts
from rea._run import RetryPolicy, now, random, run, run_async, run_void, uuid
from rea._state import State, StateKey
from rea._version import __version__
from rea.errors import (
    AppStartError,
    InvalidInput,
    OutputSerializationError,
    PolicyViolation,
    ReaError,
    RegistrationError,
    RestateError,
    RestateUnavailable,
    SdkIncompatible,
    ServerNotInstalledError,
    ServerStartError,
    UsageError,
)

# Imported on first use: these pull in code (and a registered virtual object) that a process
# serving a plain app never needs, and every app process pays for rea's import at start-up.
_LAZY = {
    "AdminClient": "rea.admin",
    "AdminError": "rea.admin",
    "AdminUnavailable": "rea.admin",
    "AggregateFailed": "rea.patterns",
    "Aggregated": "rea.patterns",
    "Approval": "rea.workflow",
    "ApprovalRequest": "rea.workflow",
    "AsyncAdminClient": "rea.admin",
    "CompensationStrategy": "rea._saga",
    "DeadLetter": "rea._dead_letters",
    "IngressClient": "rea.ingress",
    "IngressError": "rea.ingress",
    "InvocationFailed": "rea.ingress",
    "LoopLimitExceeded": "rea.workflow",
    "Output": "rea.ingress",
    "PromiseRacer": "rea.workflow",
    "RaceResult": "rea.workflow",
    "RaceWinner": "rea.workflow",
    "Saga": "rea._saga",
    "SagaDeadLetters": "rea._dead_letters",
    "SendResult": "rea.ingress",
    "CircuitBreaker": "rea.patterns",
    "CircuitOpen": "rea.patterns",
    "Hooks": "rea.observability",
    "Observability": "rea.observability",
    "Permit": "rea.patterns",
    "Quorum": "rea.patterns",
    "RateLimiter": "rea.patterns",
    "SecurityConfig": "rea.security",
    "StatusReport": "rea.workflow",
    "SyncIngressClient": "rea.ingress",
    "WorkflowConfig": "rea.workflow",
    "WorkflowStatus": "rea.workflow",
    "aggregate": "rea.patterns",
    "await_approval": "rea.workflow",
    "continue_as_new": "rea.workflow",
    "loop": "rea.workflow",
    "race": "rea.workflow",
    "sleep_until": "rea.workflow",
}

if TYPE_CHECKING:
    from rea._dead_letters import DeadLetter, SagaDeadLetters
    from rea._saga import CompensationStrategy, Saga
    from rea.admin import AdminClient, AdminError, AdminUnavailable, AsyncAdminClient
    from rea.ingress import (
        IngressClient,
        IngressError,
        InvocationFailed,
        Output,
        SendResult,
        SyncIngressClient,
    )
    from rea.observability import Hooks, Observability
    from rea.patterns import (
        Aggregated,
        AggregateFailed,
        CircuitBreaker,
        CircuitOpen,
        Permit,
        Quorum,
        RateLimiter,
        aggregate,
    )
    from rea.security import SecurityConfig
    from rea.workflow import (
        Approval,
        ApprovalRequest,
        LoopLimitExceeded,
        PromiseRacer,
        RaceResult,
        RaceWinner,
        StatusReport,
        WorkflowConfig,
        WorkflowStatus,
        await_approval,
        continue_as_new,
        loop,
        race,
        sleep_until,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rea' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AdminClient",
    "AdminError",
    "AdminUnavailable",
    "AggregateFailed",
    "Aggregated",
    "AppStartError",
    "Approval",
    "ApprovalRequest",
    "AsyncAdminClient",
    "CircuitBreaker",
    "CircuitOpen",
    "CompensationStrategy",
    "DeadLetter",
    "Hooks",
    "IngressClient",
    "IngressError",
    "InvalidInput",
    "InvocationFailed",
    "LoopLimitExceeded",
    "ObjectClient",
    "Observability",
    "Outcome",
    "Output",
    "OutputSerializationError",
    "Permit",
    "Policy",
    "PolicyViolation",
    "PromiseRacer",
    "Quorum",
    "RaceResult",
    "RaceWinner",
    "RateLimiter",
    "ReaError",
    "RegistrationError",
    "RestateError",
    "RestateUnavailable",
    "RetryPolicy",
    "Saga",
    "SagaDeadLetters",
    "SdkIncompatible",
    "SecurityConfig",
    "Selected",
    "SendResult",
    "ServerNotInstalledError",
    "ServerStartError",
    "ServiceClient",
    "State",
    "StateKey",
    "StatusReport",
    "SyncIngressClient",
    "UsageError",
    "WorkflowClient",
    "WorkflowConfig",
    "WorkflowStatus",
    "__version__",
    "aggregate",
    "app",
    "await_approval",
    "compensation",
    "continue_as_new",
    "control_plane",
    "data_plane",
    "fan_out",
    "gather",
    "get_policy",
    "idempotency_key",
    "loop",
    "map_concurrent",
    "now",
    "ordered",
    "policy_override",
    "race",
    "random",
    "run",
    "run_async",
    "run_void",
    "select",
    "set_policy",
    "sleep_until",
    "uuid",
    "violation_counts",
]
