"""rea.app works on copies: the services it is given, and plain apps built from them, stay put."""

from __future__ import annotations

import copy
from typing import Any

import restate
from restate.handler import RESTATE_UNIQUE_HANDLER_SYMBOL

import rea
from tests.integration.compat.apps import build_all


def _shallow(obj: object) -> dict[str, Any]:
    """Every attribute's identity, and a copy of the mutable containers among them."""
    return {
        name: (id(value), copy.copy(value) if isinstance(value, list | dict | set) else None)
        for name, value in vars(obj).items()
    }


def _fingerprint(services: list[Any]) -> dict[str, Any]:
    prints: dict[str, Any] = {}
    for service in services:
        prints[service.name] = _shallow(service)
        for name, handler in service.handlers.items():
            where = f"{service.name}/{name}"
            io = handler.handler_io
            prints[where] = _shallow(handler)
            prints[f"{where} io"] = _shallow(io)
            prints[f"{where} types"] = [
                None if hint is None else _shallow(hint) for hint in (io.input_type, io.output_type)
            ]
            prints[f"{where} function"] = dict(vars(handler.fn))
            assert vars(handler.fn)[RESTATE_UNIQUE_HANDLER_SYMBOL] is handler
    return prints


def test_rea_app_leaves_the_services_untouched() -> None:
    """After rea.app, every service, handler, serde, type hint and function is as it was."""
    services = build_all()
    plain = restate.app(services)
    before = _fingerprint(services)
    rea.app(services)
    after = _fingerprint(services)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"rea.app changed: {changed}"
    assert plain is not None
