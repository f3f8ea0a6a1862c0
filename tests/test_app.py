"""`rea.app` wraps, never mutates: the services it is given stay exactly as they were."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import restate
from pydantic import BaseModel
from typing_extensions import TypedDict

import rea
from rea._app import prepare
from tests._discovery import discovery_manifest


class Order(BaseModel):
    id: str


@dataclasses.dataclass
class Address:
    city: str


class Options(TypedDict):
    verbose: bool | None


def _services() -> list[Any]:
    svc = restate.Service("AppShop", invocation_context_managers=[])

    @svc.handler()
    async def place(ctx: restate.Context, order: Order) -> Order:
        return order

    @svc.handler()
    async def ship(ctx: restate.Context, address: Address) -> list[Address]:
        return [address]

    @svc.handler()
    async def tune(ctx: restate.Context, options: Options) -> dict[str, Any]:
        return dict(options)

    obj = restate.VirtualObject("AppCounter")

    @obj.handler(kind="shared")
    async def peek(ctx: restate.ObjectSharedContext) -> int:
        return 0

    flow = restate.Workflow("AppFlow")

    @flow.main()
    async def run(ctx: restate.WorkflowContext, order: Order) -> str:
        return order.id

    return [svc, obj, flow]


def _snapshot(services: list[Any]) -> dict[str, Any]:
    """Everything rea used to change, by identity: functions, serdes, hooks, schemas."""
    return {
        f"{s.name}/{name}": (
            h.fn,
            h.handler_io.input_serde,
            h.handler_io.output_serde,
            h.handler_io.input_type and h.handler_io.input_type.generate_json_schema,
            h.handler_io.output_type and h.handler_io.output_type.generate_json_schema,
            list(h.context_managers or []),
            h.service_tag.metadata,
        )
        for s in services
        for name, h in s.handlers.items()
    }


@pytest.mark.parametrize("validation", ["compatible", "strict"])
def test_rea_app_leaves_the_given_services_as_they_were(validation: Any) -> None:
    """Handlers, serdes, schemas, hooks and the discovery manifest are untouched by rea.app."""
    services = _services()
    before, manifest = _snapshot(services), discovery_manifest(services)
    rea.app(services, validation=validation)
    rea.app(services, validation=validation)  # twice, as two apps of one process would
    assert _snapshot(services) == before
    assert discovery_manifest(services) == manifest
    assert all("_rea_attach" not in s.handlers for s in services)


def test_the_served_copies_carry_rea() -> None:
    """What rea serves: copies with rea's hooks and serdes, its helpers, and its own service."""
    services = _services()
    served = {s.name: s for s in prepare(services)}
    assert set(served) == {"AppShop", "AppCounter", "AppFlow", "SagaDeadLetters"}
    assert all(served[s.name] is not s for s in services)
    assert {"_rea_attach", "_rea_output"} <= set(served["AppFlow"].handlers)
    place = served["AppShop"].handlers["place"]
    assert place.fn is not services[0].handlers["place"].fn
    assert place.context_managers


def test_helpers_and_dead_letters_can_be_left_out() -> None:
    """dead_letters=False and workflow_output=False add nothing of rea's own."""
    served = {s.name: s for s in prepare(_services(), dead_letters=False, workflow_output=False)}
    assert set(served) == {"AppShop", "AppCounter", "AppFlow"}
    assert set(served["AppFlow"].handlers) == {"run"}


def test_unknown_validation_mode_fails() -> None:
    """A validation mode that does not exist is a ValueError, not a silent default."""
    with pytest.raises(ValueError, match="validation"):
        rea.app(_services(), validation="loose")  # type: ignore[arg-type]
