"""The public surface is pinned: adding or removing a name is a deliberate change."""

from __future__ import annotations

import rea
import rea.testing

REA = [
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
    "RestateError",
    "RestateUnavailable",
    "RetryPolicy",
    "Saga",
    "SagaDeadLetters",
    "SdkIncompatible",
    "Selected",
    "SendResult",
    "ServerNotInstalledError",
    "ServerStartError",
    "ServiceClient",
    "State",
    "StateKey",
    "SyncIngressClient",
    "UsageError",
    "WorkflowClient",
    "__version__",
    "app",
    "compensation",
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

TESTING = ["Harness", "RemoteServer", "RestateServer", "ServerEndpoint"]


def test_rea_all_is_pinned_and_sorted() -> None:
    """`rea.__all__` is exactly the documented names, sorted."""
    assert rea.__all__ == REA
    assert sorted(rea.__all__) == rea.__all__


def test_rea_testing_all_is_pinned() -> None:
    """`rea.testing.__all__` is exactly the documented names, sorted."""
    assert rea.testing.__all__ == TESTING


def test_every_exported_name_exists() -> None:
    """Every name in `__all__` is importable."""
    for module in (rea, rea.testing):
        for name in module.__all__:
            assert hasattr(module, name), name


def test_errors_share_one_root() -> None:
    """Every rea error derives from ReaError."""
    for name in REA:
        obj = getattr(rea, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, rea.ReaError)
