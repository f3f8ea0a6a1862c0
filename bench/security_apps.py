"""The apps `bench/security.py` compares: one service, with and without rea's request guards."""

from __future__ import annotations

import restate

import rea


def _greeter(name: str) -> restate.Service:
    # One service name per variant: the variants share one server, which routes a service to
    # the deployment registered last.
    service = restate.Service(name)

    @service.handler()
    async def greet(ctx: restate.Context, who: str) -> str:
        return f"hello {who}"

    return service


# Security comes from the environment: the harness gives the strict variant's process
# REA_SECURITY_MODE=strict and the server's REA_IDENTITY_KEYS (HTTPS off: loopback, no TLS).
# The other processes have no such variables, so rea.app builds unguarded apps there.
strict_app = rea.app([_greeter("StrictGreeter")])
off_app = rea.app([_greeter("OffGreeter")])
bare_app = restate.app([_greeter("BareGreeter")])
