"""rea: opinionated, type-safe building blocks for durable applications on Restate."""

from rea._app import app
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
    ServerNotInstalledError,
    ServerStartError,
)

__all__ = [
    "AppStartError",
    "InvalidInput",
    "OutputSerializationError",
    "Policy",
    "PolicyViolation",
    "ReaError",
    "RegistrationError",
    "RetryPolicy",
    "ServerNotInstalledError",
    "ServerStartError",
    "State",
    "StateKey",
    "__version__",
    "app",
    "control_plane",
    "data_plane",
    "get_policy",
    "now",
    "policy_override",
    "random",
    "run",
    "run_async",
    "run_void",
    "set_policy",
    "uuid",
    "violation_counts",
]
