"""rea: opinionated, type-safe building blocks for durable applications on Restate."""

from rea._app import app
from rea._clients import ObjectClient, ServiceClient, WorkflowClient
from rea._concurrency import Outcome, Selected, fan_out, gather, map_concurrent, ordered, select
from rea._dead_letters import DeadLetter, SagaDeadLetters
from rea._idempotency import idempotency_key
from rea._planes import control_plane, data_plane
from rea._policy import Policy, get_policy, policy_override, set_policy, violation_counts
from rea._run import RetryPolicy, now, random, run, run_async, run_void, uuid
from rea._saga import CompensationStrategy, Saga
from rea._state import State, StateKey
from rea._version import __version__
from rea.admin import AdminClient, AdminError, AdminUnavailable, AsyncAdminClient
from rea.errors import (
    AppStartError,
    InvalidInput,
    OutputSerializationError,
    PolicyViolation,
    ReaError,
    RegistrationError,
    ServerNotInstalledError,
    ServerStartError,
)
from rea.ingress import (
    IngressClient,
    IngressError,
    InvocationFailed,
    Output,
    SendResult,
    SyncIngressClient,
)

__all__ = [
    "AdminClient",
    "AdminError",
    "AdminUnavailable",
    "AppStartError",
    "AsyncAdminClient",
    "CompensationStrategy",
    "DeadLetter",
    "IngressClient",
    "IngressError",
    "InvalidInput",
    "InvocationFailed",
    "ObjectClient",
    "Outcome",
    "Output",
    "OutputSerializationError",
    "Policy",
    "PolicyViolation",
    "ReaError",
    "RegistrationError",
    "RetryPolicy",
    "Saga",
    "SagaDeadLetters",
    "Selected",
    "SendResult",
    "ServerNotInstalledError",
    "ServerStartError",
    "ServiceClient",
    "State",
    "StateKey",
    "SyncIngressClient",
    "WorkflowClient",
    "__version__",
    "app",
    "control_plane",
    "data_plane",
    "fan_out",
    "gather",
    "get_policy",
    "idempotency_key",
    "map_concurrent",
    "now",
    "ordered",
    "policy_override",
    "random",
    "run",
    "run_async",
    "run_void",
    "select",
    "set_policy",
    "uuid",
    "violation_counts",
]
