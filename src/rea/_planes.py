"""Control plane and data plane: tagging services by their role.

A control-plane service orchestrates (sagas, promises, awakeables); a
data-plane service does the work (business logic, side effects) and orchestrates nothing. The
tag is Restate service metadata (``rea.plane``), so it shows in the admin API too.
"""

from __future__ import annotations

from typing import TypeVar

import restate

from rea import _sdk
from rea._invocation import PLANE_METADATA_KEY, Plane

__all__ = ["control_plane", "data_plane", "plane_of"]

ServiceT = TypeVar("ServiceT", restate.Service, restate.VirtualObject, restate.Workflow)


def _tag(service: ServiceT, plane: Plane) -> ServiceT:
    metadata = _sdk.service_metadata(service)
    current = metadata.get(PLANE_METADATA_KEY)
    if current not in (None, plane):
        name = _sdk.service_name(service)
        raise ValueError(f"service {name!r} is already tagged {current}-plane")
    _sdk.set_service_metadata(service, {**metadata, PLANE_METADATA_KEY: plane})
    return service


def control_plane(service: ServiceT) -> ServiceT:
    """Tag `service` as control plane (orchestration); returns it."""
    return _tag(service, "control")


def data_plane(service: ServiceT) -> ServiceT:
    """Tag `service` as data plane: orchestration helpers in it are policy violations."""
    return _tag(service, "data")


def plane_of(service: restate.Service | restate.VirtualObject | restate.Workflow) -> Plane | None:
    """The plane `service` is tagged with, if any."""
    value = _sdk.service_metadata(service).get(PLANE_METADATA_KEY)
    return "control" if value == "control" else "data" if value == "data" else None
