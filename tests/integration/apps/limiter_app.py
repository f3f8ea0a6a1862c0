"""rea.RateLimiter under test: callers touching a resource with a sqlite ledger outside the app.

Every touch of the resource writes a row into ``touches``: the resource, the wall-clock start and
end, the caller's ticket (its place in the limiter's line) and who called. The test reads the
ledger to check the rate, the FIFO order and the number of permits held at once.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import timedelta

import restate
from pydantic import BaseModel

import rea
from rea.patterns import RateLimiter

RATE = RateLimiter(rate=10, burst=5)
POOL = RateLimiter(max_in_flight=3, lease=timedelta(seconds=30))
SHORT_LEASE = RateLimiter(max_in_flight=1, lease=timedelta(seconds=2))
ONCE = rea.RetryPolicy(max_attempts=1)


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ["REA_LEDGER"], timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS touches "
        "(resource TEXT, who TEXT, ticket INT, started REAL, ended REAL)"
    )
    return db


def touch(resource: str, who: str, ticket: int, slow_ms: int) -> str:
    """The resource itself: slow for `slow_ms`, then counted in the ledger with its times."""
    started = time.time()
    if slow_ms:
        time.sleep(slow_ms / 1000)
    with _db() as db:
        db.execute(
            "INSERT INTO touches VALUES (?, ?, ?, ?, ?)",
            (resource, who, ticket, started, time.time()),
        )
    return who


class Job(BaseModel):
    resource: str
    who: str
    slow_ms: int = 0
    fail: bool = False


caller = restate.Service("LimitedCaller")


@caller.handler()
async def rated(ctx: restate.Context, job: Job) -> str:
    """Wait for a token of the 10/s bucket, then touch the resource."""
    permit = await RATE.acquire(ctx, job.resource)
    return await rea.run(
        ctx, "touch", touch, job.resource, job.who, permit.ticket, job.slow_ms, retry=ONCE
    )


@caller.handler()
async def bare(ctx: restate.Context, job: Job) -> str:
    """The same touch without a limiter (the cost baseline)."""
    return await rea.run(ctx, "touch", touch, job.resource, job.who, 0, job.slow_ms, retry=ONCE)


@caller.handler()
async def pooled(ctx: restate.Context, job: Job) -> str:
    """Hold one of 3 permits while touching the resource; a failing job fails inside the hold."""
    async with POOL.hold(ctx, job.resource) as permit:
        who = await rea.run(
            ctx, "touch", touch, job.resource, job.who, permit.ticket, job.slow_ms, retry=ONCE
        )
        if job.fail:
            raise restate.TerminalError(f"{job.who} failed", status_code=500)
        return who


@caller.handler()
async def forgetful(ctx: restate.Context, job: Job) -> str:
    """Take the only permit of a short-lease limiter and never give it back."""
    permit = await SHORT_LEASE.acquire(ctx, job.resource)
    return await rea.run(
        ctx, "touch", touch, job.resource, job.who, permit.ticket, job.slow_ms, retry=ONCE
    )


app = rea.app([caller, RateLimiter.object])
