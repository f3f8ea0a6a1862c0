"""The discovery manifest an app would send Restate, computed in-process (no server)."""

from __future__ import annotations

import json
from typing import Any

from restate.discovery import compute_discovery_json
from restate.endpoint import Endpoint


def discovery_manifest(services: list[Any]) -> dict[str, Any]:
    """The manifest (protocol v4, bidi) of an endpoint serving `services`."""
    endpoint = Endpoint()
    endpoint.bind(*services)
    found: dict[str, Any] = json.loads(compute_discovery_json(endpoint, 4, "bidi"))
    return found
