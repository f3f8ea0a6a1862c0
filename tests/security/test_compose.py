"""secure(): the configured guards around an app, in order, or none at all."""

from __future__ import annotations

import logging

import pytest

from rea.security import (
    AllowlistGuard,
    HttpsGuard,
    IdentityGuard,
    ReplayGuard,
    SecurityConfig,
    rejection_counts,
    secure,
)
from tests.security.helpers import Echo, Signer, call, invocation_body


def chain(app: object) -> list[type]:
    kinds = []
    while not isinstance(app, Echo):
        kinds.append(type(app))
        app = app.app  # type: ignore[attr-defined]
    return kinds


def test_disabled_and_none_add_nothing(signer: Signer) -> None:
    """Mode disabled (or no config) returns the app itself: zero cost."""
    app = Echo()
    assert secure(app, None) is app
    assert secure(app, SecurityConfig(mode="disabled", identity_keys=[signer.public_key])) is app


def test_order_outermost_first(signer: Signer) -> None:
    """Allowlist, then HTTPS, then identity, then replay."""
    config = SecurityConfig(identity_keys=[signer.public_key], allowed_networks=["127.0.0.0/8"])
    assert chain(secure(Echo(), config)) == [AllowlistGuard, HttpsGuard, IdentityGuard, ReplayGuard]


def test_guards_not_configured_are_skipped(signer: Signer) -> None:
    """No allowlist, no HTTPS, no replay protection: only the identity guard."""
    config = SecurityConfig(
        identity_keys=[signer.public_key], require_https=False, replay_protection=False
    )
    assert chain(secure(Echo(), config)) == [IdentityGuard]
    # Replay protection keys on the verified token: without keys there is none.
    assert chain(secure(Echo(), SecurityConfig(mode="permissive"))) == [HttpsGuard]


async def test_strict_stack(signer: Signer) -> None:
    """A signed first request passes; each guard refuses its own failure, the outermost first."""
    app = Echo()
    config = SecurityConfig(identity_keys=[signer.public_key], allowed_networks=["127.0.0.1"])
    stack = secure(app, config)
    headers = signer.headers()
    body = invocation_body()
    assert (await call(stack, headers=headers, body=body, scheme="https")).status == 200
    outside = await call(stack, client=("8.8.8.8", 1))
    plain = await call(stack, headers=headers, body=body)
    unsigned = await call(stack, body=body, scheme="https")
    replayed = await call(stack, headers=headers, body=body, scheme="https")
    assert [r.status for r in (outside, plain, unsigned, replayed)] == [403, 403, 401, 401]
    assert app.calls == 1
    assert rejection_counts() == {
        "allowlist.outside": 1,
        "https.required": 1,
        "identity.missing": 1,
        "replay.seen": 1,
    }


async def test_permissive_stack_reports_every_failure(
    signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    """In permissive mode one bad request is logged once per failed check and served."""
    app = Echo()
    config = SecurityConfig(
        mode="permissive", identity_keys=[signer.public_key], allowed_networks=["10.0.0.0/8"]
    )
    stack = secure(app, config)
    with caplog.at_level(logging.WARNING, logger="rea.security"):
        result = await call(stack, client=("8.8.8.8", 1), body=invocation_body())
    assert (result.status, app.calls) == (200, 1)
    assert rejection_counts() == {
        "allowlist.outside": 1,
        "https.required": 1,
        "identity.missing": 1,
    }
    assert caplog.text.count("let through: permissive mode") == 3


async def test_health_passes_every_guard(signer: Signer) -> None:
    """/health is answered whoever asks, however."""
    app = Echo()
    stack = secure(
        app, SecurityConfig(identity_keys=[signer.public_key], allowed_networks=["10.0.0.0/8"])
    )
    assert (await call(stack, path="/health", client=("8.8.8.8", 1))).status == 200
    assert rejection_counts() == {}


async def test_lifespan_passes_through_the_stack(signer: Signer) -> None:
    """Lifespan scopes reach the app through every guard."""
    app = Echo()
    stack = secure(
        app, SecurityConfig(identity_keys=[signer.public_key], allowed_networks=["10.0.0.0/8"])
    )
    sent: list[dict[str, str]] = []

    async def receive() -> dict[str, str]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    await stack({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}]
