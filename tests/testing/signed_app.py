"""A plain `restate.app` that checks request signatures with the keys in REA_IDENTITY_KEYS.

It uses the SDK's own check (`identity_keys`), not rea's middleware, so tests of the signing
server prove what the server sends, whatever rea's security layer does.
"""

from __future__ import annotations

import os
from typing import Any

import restate

#: The variables a signing Harness gives the app process.
SECURITY_VARIABLES = ("REA_SECURITY_MODE", "REA_IDENTITY_KEYS", "REA_REQUIRE_HTTPS")

svc = restate.Service("SignedEcho")


@svc.handler()
async def echo(ctx: restate.Context, text: str) -> str:
    return "signed:" + text


@svc.handler()
async def environment(ctx: restate.Context) -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in SECURITY_VARIABLES}


def make_app(identity_keys: list[str]) -> Any:
    """The app, accepting only requests signed for one of `identity_keys`."""
    return restate.app([svc], identity_keys=identity_keys)


app = make_app([key for key in os.environ.get("REA_IDENTITY_KEYS", "").split(",") if key])
