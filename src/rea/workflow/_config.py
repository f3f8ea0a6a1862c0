"""`WorkflowConfig`: a workflow's retention, timeouts and state-size warning, set in `rea.app`.

Restate takes these settings from the deployment's discovery manifest, which the SDK builds
from the options of the service objects it serves. ``rea.app(..., workflows={signup:
rea.WorkflowConfig(...)})`` sets them on rea's copy of the workflow, so registering the app
(`rea register`, `rea dev`, the test harness, or any ``POST /deployments``) applies them, and
the user's own `restate.Workflow` object stays as written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import restate

from rea import _sdk
from rea._state import state_size_limit
from rea.errors import UsageTypeError, UsageValueError

__all__ = ["WorkflowConfig", "apply_config", "configs_by_workflow"]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class WorkflowConfig:
    """How Restate keeps and bounds one workflow; None leaves the setting as it is.

    The durations are the SDK's own options (``restate.Workflow(...)`` and ``@wf.main(...)``);
    a value here replaces the one given there, on rea's copy only. A handler's own
    ``journal_retention``, ``inactivity_timeout`` or ``abort_timeout`` still wins for that
    handler, as in Restate.

    Attributes:
        workflow_retention: How long the run's result, its state (a `rea.WorkflowStatus`
            too) and its promises are kept after it ended; afterwards the output is gone
            (404) and the workflow id can run again. Restate's default: 1 day.
        journal_retention: How long the journals of finished invocations are kept (for
            ``rea invocations``, the UI and admin SQL).
        idempotency_retention: How long a call with an idempotency key is remembered.
        inactivity_timeout: How long an invocation may make no progress before Restate asks
            it to suspend.
        abort_timeout: How long after that request Restate waits before aborting the
            attempt (then it is retried).
        state_size_warning: Report a state value above this many bytes, written through
            `rea.State`, `rea.StateKey` or `rea.WorkflowStatus` by the workflow: the policy
            rule ``state.too_large`` (WARN: one log line per key, the value is stored;
            STRICT: `rea.PolicyViolation`, nothing is stored).

    Raises:
        UsageTypeError: a duration that is no `timedelta`, or a threshold that is no int.
        UsageValueError: a negative duration, or a threshold below 1.
    """

    workflow_retention: timedelta | None = None
    journal_retention: timedelta | None = None
    idempotency_retention: timedelta | None = None
    inactivity_timeout: timedelta | None = None
    abort_timeout: timedelta | None = None
    state_size_warning: int | None = None

    def __post_init__(self) -> None:
        for name in ("workflow_retention", *_sdk.SERVICE_OPTIONS):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, timedelta):
                raise UsageTypeError(
                    f"WorkflowConfig({name}=...) takes a timedelta, not {value!r} (e.g. "
                    "timedelta(days=7))"
                )
            if value < timedelta(0):
                raise UsageValueError(f"WorkflowConfig({name}=...) must not be negative")
        size = self.state_size_warning
        if size is not None:
            if isinstance(size, bool) or not isinstance(size, int):
                raise UsageTypeError(
                    f"WorkflowConfig(state_size_warning=...) takes a number of bytes, not {size!r}"
                )
            if size < 1:
                raise UsageValueError(f"state_size_warning must be at least 1 byte, not {size}")

    def service_options(self) -> dict[str, timedelta]:
        """The service-level options this config sets (the SDK's names), for discovery."""
        return {
            name: value
            for name in _sdk.SERVICE_OPTIONS
            if (value := getattr(self, name)) is not None
        }


def configs_by_workflow(
    services: Iterable[Any], workflows: Mapping[Any, WorkflowConfig] | None
) -> dict[int, WorkflowConfig]:
    """`rea.app`'s ``workflows=`` checked against `services`, keyed by the workflow's id().

    Raises:
        TypeError: a key that is no `restate.Workflow`, or a value that is no `WorkflowConfig`.
        ValueError: a workflow that is not among `services`.
    """
    if not workflows:
        return {}
    served = {id(service) for service in services}
    configs: dict[int, WorkflowConfig] = {}
    for workflow, config in workflows.items():
        if not isinstance(workflow, restate.Workflow):
            raise UsageTypeError(
                f"rea.app(workflows=...) is keyed by restate.Workflow objects, not {workflow!r}"
            )
        if not isinstance(config, WorkflowConfig):
            raise UsageTypeError(
                f"rea.app(workflows=...) maps each workflow to a rea.WorkflowConfig, not {config!r}"
            )
        if id(workflow) not in served:
            raise UsageValueError(
                f"rea.app(workflows=...) configures {_sdk.service_name(workflow)}, which is not "
                "among the services given to rea.app"
            )
        configs[id(workflow)] = config
    return configs


def apply_config(served: restate.Workflow, config: WorkflowConfig) -> None:
    """Set `config` on `served`, rea's copy of a workflow (its handlers are copies too)."""
    _sdk.set_service_options(served, config.service_options())
    name = _sdk.service_name(served)
    for handler in _sdk.handlers(served).values():
        if handler.kind != "workflow":
            continue  # shared handlers neither keep a result nor write state
        if config.workflow_retention is not None:
            handler.workflow_retention = config.workflow_retention
        if config.state_size_warning is not None:
            handler.prepend_context_manager(state_size_limit(name, config.state_size_warning))
