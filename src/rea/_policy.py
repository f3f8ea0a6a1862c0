"""The policy that decides what a guard does: raise (STRICT), log once (WARN) or nothing.

Every guard in rea calls `violation`; nothing else decides. The policy in effect is, in order:
a `policy_override` active in the current context (task-local, so concurrent invocations do not
see each other's overrides), then `set_policy`, then the environment: `RESTATE_FRAMEWORK_POLICY`
(`strict`, `warn`, `disabled`; anything else means STRICT plus a warning: fail closed), else
STRICT when `CI` is truthy, else WARN.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from contextvars import ContextVar

from restate import RestateLoggingFilter

from rea import _observe, _sdk
from rea._observe import PolicyViolated
from rea.errors import PolicyViolation

__all__ = [
    "Policy",
    "get_policy",
    "policy_override",
    "set_policy",
    "violation",
    "violation_counts",
]

ENV_POLICY = "RESTATE_FRAMEWORK_POLICY"
_TRUTHY = frozenset({"1", "true", "yes", "on"})

#: Replay-aware: Restate's filter drops records while the invocation replays its journal.
logger = logging.getLogger("rea.policy")
logger.addFilter(RestateLoggingFilter())


class Policy(enum.Enum):
    """What a guard does when it fires."""

    STRICT = "strict"
    """Raise `rea.PolicyViolation`, a terminal error: the invocation fails and is not retried."""
    WARN = "warn"
    """Log a warning once per call site (never on replay) and carry on."""
    DISABLED = "disabled"
    """Do nothing."""

    @classmethod
    def parse(cls, value: Policy | str) -> Policy:
        """`value` as a Policy; strings are case-insensitive.

        Raises:
            ValueError: `value` names no policy.
        """
        if isinstance(value, Policy):
            return value
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(p.value for p in cls)
            raise ValueError(f"unknown policy {value!r}; expected one of {names}") from None


_override: ContextVar[Policy | None] = ContextVar("rea_policy_override", default=None)
_configured: Policy | None = None
_lock = threading.Lock()
_counts: Counter[str] = Counter()
_warned_sites: set[tuple[str, str, int]] = set()


def _from_environment() -> Policy:
    raw = os.environ.get(ENV_POLICY, "").strip()
    if raw:
        try:
            return Policy.parse(raw)
        except ValueError:
            warnings.warn(
                f"{ENV_POLICY}={raw!r} is not strict, warn or disabled; using strict",
                RuntimeWarning,
                stacklevel=3,
            )
            return Policy.STRICT
    if os.environ.get("CI", "").strip().lower() in _TRUTHY:
        return Policy.STRICT
    return Policy.WARN


def get_policy() -> Policy:
    """The policy in effect here: an active override, else `set_policy`'s, else the env's."""
    override = _override.get()
    if override is not None:
        return override
    if _configured is not None:
        return _configured
    return _from_environment()


def set_policy(policy: Policy | str | None) -> None:
    """Set the process-wide policy; None goes back to reading the environment."""
    global _configured
    _configured = None if policy is None else Policy.parse(policy)


@contextlib.contextmanager
def policy_override(policy: Policy | str) -> Iterator[Policy]:
    """Use `policy` inside the block, in this task or thread only."""
    token = _override.set(Policy.parse(policy))
    try:
        yield _override.get() or Policy.STRICT
    finally:
        _override.reset(token)


def violation_counts() -> dict[str, int]:
    """Violations seen in this process per rule (replays not counted), for metrics and tests."""
    with _lock:
        return dict(_counts)


def _call_site() -> tuple[str, int]:
    # The first frame outside rea and the SDK is the user's line that triggered the guard.
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if not (name == "rea" or name.startswith(("rea.", "restate.", "contextlib"))):
            return frame.f_code.co_filename, frame.f_lineno
        next_frame = frame.f_back
        if next_frame is None:
            break
        frame = next_frame
    return "<unknown>", 0


def violation(
    rule: str,
    message: str,
    *,
    fix: str,
    policy: Policy | None = None,
    site: tuple[str, int] | None = None,
) -> Policy:
    """Report that guard `rule` fired; the one function every guard calls.

    Args:
        rule: The rule's dotted name, e.g. ``state.write_in_shared``.
        message: What happened, without the fix.
        fix: What to do instead.
        policy: Decide with this policy instead of the one in effect.
        site: The user code at fault as (file, line); default: the first caller outside rea.

    Returns:
        The policy applied (WARN or DISABLED); the guard decides how to carry on.

    Raises:
        PolicyViolation: the policy is STRICT.
    """
    applied = policy or get_policy()
    if applied is Policy.DISABLED:
        return applied
    replaying = _sdk.is_replaying()
    if not replaying:
        with _lock:
            _counts[rule] += 1
        _observe.emit_current("policy_violated", PolicyViolated(rule, applied.value))
    if applied is Policy.STRICT:
        raise PolicyViolation(rule, message, fix=fix)
    where = (rule, *(site or _call_site()))
    with _lock:
        first = where not in _warned_sites
        _warned_sites.add(where)
    if first and not replaying:
        logger.warning("[%s] %s. Fix: %s (at %s:%d)", rule, message, fix, where[1], where[2])
    return applied
