"""Services for the compatibility suite, written in the style of the SDK's conformance services.

Every module builds its services with a function, so one process can hand the very same objects
to ``restate.app`` and to ``rea.app`` (see `served`).
"""

from __future__ import annotations

from tests.integration.compat.apps import (
    effects,
    models,
    objects,
    proxy,
    typed_dicts,
    values,
    waits,
    workflows,
)

__all__ = ["build_all"]

_MODULES = (values, typed_dicts, proxy, models, objects, waits, effects, workflows)


def build_all() -> list[object]:
    """Fresh service objects for every module of the suite."""
    return [service for module in _MODULES for service in module.build()]
