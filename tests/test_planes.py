"""Services are tagged control or data plane through Restate service metadata."""

from __future__ import annotations

import pytest
import restate

import rea
from rea._planes import plane_of


def test_tags_are_service_metadata() -> None:
    """control_plane and data_plane set the rea.plane metadata and return the service."""
    control = rea.control_plane(restate.Workflow("PlaneFlow"))
    data = rea.data_plane(restate.Service("PlaneWork", metadata={"team": "a"}))
    assert plane_of(control) == "control"
    assert plane_of(data) == "data"
    assert data.service_tag.metadata == {"team": "a", "rea.plane": "data"}
    assert plane_of(restate.Service("Untagged")) is None


def test_a_service_has_one_plane() -> None:
    """Tagging a data-plane service as control plane is an error."""
    service = rea.data_plane(restate.Service("PlaneTwice"))
    assert rea.data_plane(service) is service
    with pytest.raises(ValueError, match="already tagged"):
        rea.control_plane(service)
