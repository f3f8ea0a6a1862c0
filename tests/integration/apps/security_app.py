"""A tiny service behind rea.security's guards: retries, suspensions, and a run counter."""

from __future__ import annotations

import collections
from datetime import timedelta
from typing import Any

import restate

from rea.security import SecurityConfig, secure

greeter = restate.Service("SecureGreeter")

#: Handler bodies executed in this process, per handler (a replayed request would show here).
RUNS: collections.Counter[str] = collections.Counter()
_ATTEMPTS: collections.Counter[str] = collections.Counter()


@greeter.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    RUNS["greet"] += 1
    return f"hello {name}"


@greeter.handler()
async def flaky(ctx: restate.Context, name: str) -> str:
    """Fails its first two attempts: Restate retries with the same token within a second."""
    RUNS["flaky"] += 1
    _ATTEMPTS[name] += 1
    if _ATTEMPTS[name] < 3:
        raise RuntimeError(f"attempt {_ATTEMPTS[name]} fails on purpose")
    return f"{name} after {_ATTEMPTS[name]} attempts"


@greeter.handler()
async def nap(ctx: restate.Context, name: str) -> str:
    """Suspends at every await under always-replay: each resumption is a new request."""
    RUNS["nap"] += 1
    await ctx.sleep(timedelta(milliseconds=10))
    step = await ctx.run_typed("step", lambda: 1)
    await ctx.sleep(timedelta(milliseconds=10))
    return f"{name} rested {step}"


def build(config: SecurityConfig | None) -> Any:
    """The service as a Restate app behind the guards `config` asks for."""
    return secure(restate.app([greeter]), config)


#: For a child process (``tests.integration.apps.security_app:app``): the REA_* environment.
app = build(SecurityConfig.from_env())
