"""`rea.app`: the composition point that turns services into a guarded ASGI app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import restate

from rea import _sdk
from rea._invocation import invocation_scope
from rea._sdk import AnyService

__all__ = ["app"]

_INSTALLED = "_rea_installed"


def _install(service: AnyService) -> None:
    """Give every handler of `service` rea's serdes and per-attempt machinery, once."""
    from rea._serde import install_serdes
    from rea._workflow_output import install_workflow_output

    if isinstance(service, restate.Workflow):
        install_workflow_output(service)
    install_serdes(service)
    for handler in _sdk.handlers(service).values():
        if handler.marked(_INSTALLED):
            continue
        # First, so that user context managers already run guarded, and rea's bookkeeping
        # (marking the invocation finished) happens after theirs.
        handler.prepend_context_manager(invocation_scope)
        handler.mark(_INSTALLED)


def app(
    services: Iterable[AnyService],
    *,
    protocol: Literal["bidi", "request_response"] | None = None,
    identity_keys: list[str] | None = None,
    journal_value_codec: Any = None,
) -> Any:
    """Build the Restate ASGI app for `services`, with rea's guards, serdes and validation.

    User handlers are unchanged: rea hooks in through the SDK's
    `invocation_context_managers` and handler serdes.

    Args:
        services: The services, virtual objects and workflows to serve.
        protocol: Force ``"bidi"`` or ``"request_response"``; default: by HTTP version.
        identity_keys: Restate request-identity public keys (``publickeyv1_...``).
        journal_value_codec: Passed to the SDK unchanged.

    Returns:
        An ASGI application (serve it with hypercorn, or `rea dev`).

    Raises:
        SdkIncompatible: The installed restate-sdk lacks something rea relies on.
    """
    # Before anything touches the SDK's internals: an incompatible SDK fails here, loudly,
    # rather than leaving a guard out.
    _sdk.check()
    from rea._dead_letters import SagaDeadLetters

    services = list(services)
    letters = _sdk.service_name(SagaDeadLetters)
    if all(_sdk.service_name(s) != letters for s in services):
        services.append(SagaDeadLetters)
    for service in services:
        _install(service)
    return restate.app(
        services,
        protocol=protocol,
        identity_keys=identity_keys,
        journal_value_codec=journal_value_codec,
    )
