"""`rea.app`: the composition point that turns services into a guarded ASGI app."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import restate

from rea import _sdk
from rea._invocation import invocation_scope
from rea._sdk import AnyService

if TYPE_CHECKING:
    from rea.workflow._config import WorkflowConfig

__all__ = ["app", "prepare"]

Validation = Literal["compatible", "strict"]


def _install(service: AnyService, *, validation: Validation, workflow_output: bool) -> None:
    """Give every handler of `service` (a clone) rea's serdes and per-attempt machinery."""
    from rea._serde import install_serdes
    from rea._workflow_output import install_workflow_output

    if workflow_output and isinstance(service, restate.Workflow):
        install_workflow_output(service)
    install_serdes(service, validation=validation)
    for handler in _sdk.handlers(service).values():
        # First, so that user context managers already run guarded, and rea's bookkeeping
        # (marking the invocation finished) happens after theirs.
        handler.prepend_context_manager(invocation_scope)


def app(
    services: Iterable[AnyService],
    *,
    protocol: Literal["bidi", "request_response"] | None = None,
    identity_keys: list[str] | None = None,
    journal_value_codec: Any = None,
    validation: Validation = "compatible",
    dead_letters: bool = True,
    workflow_output: bool = True,
    workflows: Mapping[restate.Workflow, WorkflowConfig] | None = None,
) -> Any:
    """Build the Restate ASGI app for `services`, with rea's guards, serdes and validation.

    A drop-in for ``restate.app``: rea works on copies of the services, so the objects passed
    in (and any other app built from them) are left exactly as they were. See docs/app.md for
    what rea changes on the wire, on purpose.

    Args:
        services: The services, virtual objects and workflows to serve.
        protocol: Force ``"bidi"`` or ``"request_response"``; default: by HTTP version.
        identity_keys: Restate request-identity public keys (``publickeyv1_...``).
        journal_value_codec: Passed to the SDK unchanged.
        validation: ``"compatible"``: pydantic models, dataclasses and other typed inputs are
            validated (bad input is a 400), TypedDict inputs are read as the SDK reads them;
            ``"strict"``: TypedDict inputs are validated too. See docs/serde.md.
        dead_letters: Serve `rea.SagaDeadLetters`, where sagas leave compensations that could
            not complete. Without it such a compensation is logged as an error instead.
        workflow_output: Add the two helper handlers (and the output promise) to every
            workflow that `rea.WorkflowClient.attach` / ``get_output`` need.
        workflows: A `rea.WorkflowConfig` (retention, timeouts, state-size warning) per
            workflow of `services`, set on rea's copy of it; registering the app applies it.

    Returns:
        An ASGI application (serve it with hypercorn, or `rea dev`).

    Raises:
        SdkIncompatible: The installed restate-sdk lacks something rea relies on.
        ValueError: An unknown `validation` mode, a configured workflow that is not among
            `services`, or a workflow whose handler name a `rea.WorkflowStatus` needs.
        TypeError: `workflows` maps something other than workflows to `rea.WorkflowConfig`.
    """
    # Before anything touches the SDK's internals: an incompatible SDK fails here, loudly,
    # rather than leaving a guard out.
    _sdk.check()
    if validation not in ("compatible", "strict"):
        raise ValueError(f"validation must be 'compatible' or 'strict', not {validation!r}")
    clones = prepare(
        services,
        validation=validation,
        dead_letters=dead_letters,
        workflow_output=workflow_output,
        workflows=workflows,
    )
    return restate.app(
        clones,
        protocol=protocol,
        identity_keys=identity_keys,
        journal_value_codec=journal_value_codec,
    )


def prepare(
    services: Iterable[AnyService],
    *,
    validation: Validation = "compatible",
    dead_letters: bool = True,
    workflow_output: bool = True,
    workflows: Mapping[restate.Workflow, WorkflowConfig] | None = None,
) -> list[AnyService]:
    """The copies of `services` (plus rea's own) that `app` serves, with rea installed."""
    given = list(services)
    configs = _workflow_configs(given, workflows)
    if dead_letters:
        from rea import _dead_letters

        name = _sdk.service_name(_dead_letters.SagaDeadLetters)
        if all(_sdk.service_name(s) != name for s in given):
            given.append(_dead_letters.SagaDeadLetters)
        _dead_letters.served()
    clones = []
    for service in given:
        clone = _sdk.clone(service)
        if isinstance(service, restate.Workflow) and isinstance(clone, restate.Workflow):
            _extend_workflow(service, clone, configs.get(id(service)))
        _install(clone, validation=validation, workflow_output=workflow_output)
        clones.append(clone)
    return clones


def _workflow_configs(
    given: list[AnyService], workflows: Mapping[restate.Workflow, WorkflowConfig] | None
) -> dict[int, WorkflowConfig]:
    if not workflows:
        return {}
    from rea.workflow._config import configs_by_workflow

    return configs_by_workflow(given, workflows)


def _extend_workflow(
    original: restate.Workflow, clone: restate.Workflow, config: WorkflowConfig | None
) -> None:
    """rea's additions to its copy of a workflow: the status handler and the config."""
    # Only a program that declared a WorkflowStatus has the module loaded, and then it is.
    status = sys.modules.get("rea.workflow._status")
    if status is not None:
        status.install_status(original, clone)
    if config is not None:
        from rea.workflow._config import apply_config

        apply_config(clone, config)
