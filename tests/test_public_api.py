"""The public surface is pinned: adding or removing a name is a deliberate change."""

from __future__ import annotations

import rea
import rea.observability
import rea.patterns
import rea.security
import rea.testing

REA = [
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

TESTING = ["Harness", "RemoteServer", "RestateServer", "ServerEndpoint"]
PATTERNS = [
    "AggregateFailed",
    "Aggregated",
    "BreakerStatus",
    "CircuitBreaker",
    "CircuitOpen",
    "LimiterStatus",
    "Permit",
    "Quorum",
    "RateLimiter",
    "aggregate",
    "server_errors",
]
OBSERVABILITY = [
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
SECURITY = [
    "REASONS",
    "AllowlistGuard",
    "HttpsGuard",
    "IdentityGuard",
    "KeyPair",
    "Mode",
    "ReplayCache",
    "ReplayGuard",
    "SecurityConfig",
    "generate_key_pair",
    "parse_identity_key",
    "public_key_from_pem",
    "rejection_counts",
    "replay_evictions",
    "reset_rejection_counts",
    "secure",
    "write_private_key",
]


def test_rea_all_is_pinned_and_sorted() -> None:
    """`rea.__all__` is exactly the documented names, sorted."""
    assert rea.__all__ == REA
    assert sorted(rea.__all__) == rea.__all__


def test_rea_testing_all_is_pinned() -> None:
    """`rea.testing.__all__` is exactly the documented names, sorted."""
    assert rea.testing.__all__ == TESTING


def test_rea_security_all_is_pinned() -> None:
    """`rea.security.__all__` is exactly the documented names, sorted."""
    assert rea.security.__all__ == SECURITY


def test_rea_observability_all_is_pinned() -> None:
    """`rea.observability.__all__` is exactly the documented names."""
    assert rea.observability.__all__ == OBSERVABILITY


def test_rea_patterns_all_is_pinned() -> None:
    """`rea.patterns.__all__` is exactly the documented names."""
    assert rea.patterns.__all__ == PATTERNS


def test_every_exported_name_exists() -> None:
    """Every name in `__all__` is importable."""
    for module in (rea, rea.testing, rea.security, rea.observability, rea.patterns):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_errors_share_one_root() -> None:
    """Every rea error derives from ReaError."""
    for name in REA:
        obj = getattr(rea, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, rea.ReaError)
