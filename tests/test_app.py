"""`rea.app` wraps, never mutates: the services it is given stay exactly as they were."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest
import restate
from pydantic import BaseModel
from typing_extensions import TypedDict

import rea
from rea._app import prepare
from tests._discovery import discovery_manifest
from tests.security.helpers import Signer


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


# -- security ------------------------------------------------------------------------------------
_SECURITY_ENV = ("REA_SECURITY_MODE", "REA_IDENTITY_KEYS", "REA_REQUIRE_HTTPS")


@pytest.fixture
def no_security_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _SECURITY_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _discover(endpoint: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=endpoint)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            accept = {"accept": "application/vnd.restate.endpointmanifest.v3+json"}
            return await client.get("/discover", headers={**accept, **(headers or {})})

    return asyncio.run(go())


def _signed_headers(signer: Signer, path: str = "/discover") -> dict[str, str]:
    return {"x-restate-signature-scheme": "v1", "x-restate-jwt-v1": signer.token(path)}


def test_security_guards_the_app(no_security_env: pytest.MonkeyPatch) -> None:
    """An unsigned discovery is refused with its reason; a signed one passes both checks."""
    signer = Signer()
    config = rea.SecurityConfig(identity_keys=[signer.public_key], require_https=False)
    endpoint = rea.app([_greeter()], security=config)
    refused = _discover(endpoint)
    assert refused.status_code == 401
    assert "identity.missing" in refused.text
    # rea's guard and the SDK's own check (strict mode hands it the keys) both accept it.
    assert _discover(endpoint, _signed_headers(signer)).status_code == 200


def test_security_comes_from_the_environment(no_security_env: pytest.MonkeyPatch) -> None:
    """REA_IDENTITY_KEYS turns strict security on for an app that does not configure it."""
    signer = Signer()
    no_security_env.setenv("REA_IDENTITY_KEYS", signer.public_key)
    no_security_env.setenv("REA_REQUIRE_HTTPS", "false")
    assert _discover(rea.app([_greeter()])).status_code == 401


def test_an_explicit_configuration_wins_over_the_environment(
    no_security_env: pytest.MonkeyPatch,
) -> None:
    """security=SecurityConfig(mode='disabled') serves unguarded whatever REA_* says."""
    no_security_env.setenv("REA_IDENTITY_KEYS", Signer().public_key)
    disabled = rea.SecurityConfig(mode="disabled")
    assert _discover(rea.app([_greeter()], security=disabled)).status_code == 200


def test_no_security_serves_the_sdk_app_itself(no_security_env: pytest.MonkeyPatch) -> None:
    """Without configuration nothing is wrapped: an unsigned discovery is answered."""
    assert _discover(rea.app([_greeter()])).status_code == 200


def test_security_fails_closed_at_construction(no_security_env: pytest.MonkeyPatch) -> None:
    """An unknown mode in the environment stops the app from being built."""
    no_security_env.setenv("REA_SECURITY_MODE", "stict")
    with pytest.raises(rea.UsageError, match="unknown"):
        rea.app([_greeter()])


def test_identity_keys_given_twice_is_refused(no_security_env: pytest.MonkeyPatch) -> None:
    """identity_keys= beside a security configuration: one place for the keys."""
    key = Signer().public_key
    config = rea.SecurityConfig(identity_keys=[key], require_https=False)
    with pytest.raises(rea.UsageError, match="given twice"):
        rea.app([_greeter()], identity_keys=[key], security=config)


def _greeter() -> restate.Service:
    service = restate.Service("SecureGreeter")

    @service.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        return f"hello {name}"

    return service
