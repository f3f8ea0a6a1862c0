"""`rea.app`: the composition point that turns services into a guarded ASGI app."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import restate

from rea import _sdk
from rea._invocation import invocation_scope_with
from rea._observe import Hooks
from rea._sdk import AnyService

if TYPE_CHECKING:
    from rea.observability import Observability
    from rea.security import SecurityConfig
    from rea.workflow._config import WorkflowConfig

__all__ = ["app", "prepare"]

Validation = Literal["compatible", "strict"]


def _install(
    service: AnyService,
    *,
    validation: Validation,
    workflow_output: bool,
    hooks: tuple[Hooks, ...] = (),
    tracing: Any = None,
) -> None:
    """Give every handler of `service` (a clone) rea's serdes and per-attempt machinery."""
    from rea._serde import install_serdes
    from rea._workflow_output import install_workflow_output

    if workflow_output and isinstance(service, restate.Workflow):
        install_workflow_output(service)
    install_serdes(service, validation=validation)
    for handler in _sdk.handlers(service).values():
        # First, so that user context managers already run guarded, and rea's bookkeeping
        # (marking the invocation finished) happens after theirs.
        handler.prepend_context_manager(invocation_scope_with(hooks, tracing))


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
    security: SecurityConfig | None = None,
    observability: Observability | None = None,
) -> Any:
    """Build the Restate ASGI app for `services`, with rea's guards, serdes and validation.

    A drop-in for ``restate.app``: rea works on copies of the services, so the objects passed
    in (and any other app built from them) are left exactly as they were. See docs/app.md for
    what rea changes on the wire, on purpose.

    Args:
        services: The services, virtual objects and workflows to serve.
        protocol: Force ``"bidi"`` or ``"request_response"``; default: by HTTP version.
        identity_keys: Restate request-identity public keys (``publickeyv1_...``), checked
            by the SDK alone (a bare 401); `security` does it with reasons, logs and counts.
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
        security: The request guards (`rea.SecurityConfig`: Restate request identity, HTTPS,
            allowlist, replay protection). Default: what the ``REA_SECURITY_MODE`` /
            ``REA_IDENTITY_KEYS`` environment variables say, else none. See docs/security.md.
        observability: Metrics at ``/metrics``, hooks, log context and traces
            (`rea.Observability`); default: none. See docs/observability.md.

    Returns:
        An ASGI application (serve it with hypercorn, or `rea dev`).

    Raises:
        SdkIncompatible: The installed restate-sdk lacks something rea relies on.
        ValueError: An unknown `validation` mode, a configured workflow that is not among
            `services`, or a workflow whose handler name a `rea.WorkflowStatus` needs.
        TypeError: `workflows` maps something other than workflows to `rea.WorkflowConfig`.
        UsageValueError: `identity_keys` given beside a security configuration, or ``REA_*``
            security variables holding values `rea.SecurityConfig` refuses.
    """
    # Before anything touches the SDK's internals: an incompatible SDK fails here, loudly,
    # rather than leaving a guard out.
    _sdk.check()
    if validation not in ("compatible", "strict"):
        raise ValueError(f"validation must be 'compatible' or 'strict', not {validation!r}")
    hooks = () if observability is None else tuple(observability.hooks)
    tracing = None
    if observability is not None and observability.tracer_provider is not None:
        from rea.observability._tracing import Tracing

        tracing = Tracing(observability.tracer_provider)
    clones = prepare(
        services,
        validation=validation,
        dead_letters=dead_letters,
        workflow_output=workflow_output,
        workflows=workflows,
        hooks=hooks,
        tracing=tracing,
    )
    config = security if security is not None else _security_from_env()
    if config is not None and identity_keys is not None:
        from rea.errors import UsageValueError

        raise UsageValueError(
            "identity keys given twice: put them in rea.SecurityConfig(identity_keys=...) "
            "(or REA_IDENTITY_KEYS) and leave rea.app's identity_keys out"
        )
    if config is not None and config.mode == "strict":
        # rea's guard refuses first, with a logged and counted reason; the SDK's own check
        # stays behind it, so a request only runs if both accept it.
        identity_keys = list(config.identity_keys)
    endpoint = restate.app(
        clones,
        protocol=protocol,
        identity_keys=identity_keys,
        journal_value_codec=journal_value_codec,
    )
    served: Any = endpoint
    if config is not None:
        from rea.security import secure

        served = secure(endpoint, config, hooks=hooks)
    if observability is not None:
        served = _observe_app(served, observability)
    return served


def _observe_app(served: Any, observability: Observability) -> Any:
    """`served` with what `observability` asks for: hooks, log context, /metrics."""
    from rea import _observe

    if observability.hooks:
        _observe.hooks_in_use()
    if observability.logs:
        from rea.observability._logging import filter_root_handlers, install

        install()
        filter_root_handlers()
    if not observability.metrics:
        return served
    from rea.observability import MetricsEndpoint, registry

    # Outside the security guards, as /health is: Prometheus does not sign its scrapes.
    return MetricsEndpoint(served, registry(), path=observability.metrics_path)


def _security_from_env() -> SecurityConfig | None:
    # The variables are looked at first, so an app without security never imports it.
    if not (os.environ.get("REA_SECURITY_MODE") or os.environ.get("REA_IDENTITY_KEYS")):
        return None
    from rea.security import SecurityConfig

    return SecurityConfig.from_env()


def prepare(
    services: Iterable[AnyService],
    *,
    validation: Validation = "compatible",
    dead_letters: bool = True,
    workflow_output: bool = True,
    workflows: Mapping[restate.Workflow, WorkflowConfig] | None = None,
    hooks: tuple[Hooks, ...] = (),
    tracing: Any = None,
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
        _install(
            clone,
            validation=validation,
            workflow_output=workflow_output,
            hooks=hooks,
            tracing=tracing,
        )
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
