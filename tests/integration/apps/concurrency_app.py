"""Callers using rea's concurrency helpers, and the callees they start.

`Worker.slow` measures its own concurrency in a sqlite gauge (path in ``REA_CONCURRENCY_GAUGE``):
inside one run action it enters the gauge, sleeps for real, and leaves it. The run is journaled,
so replays of the callee do not repeat it, and rows are keyed by invocation id, so even a
retried action counts once.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from datetime import timedelta

import restate
from pydantic import BaseModel

import rea

worker = restate.Service("Worker")


def failing(n: int) -> bool:
    """The items `Worker.maybe_fail` fails terminally: 3, 7, 11, 15, 19, ..."""
    return n % 4 == 3


@worker.handler()
async def maybe_fail(ctx: restate.Context, n: int) -> int:
    if failing(n):
        raise restate.TerminalError(f"item {n} failed", status_code=422)
    return n * 10


class Delay(BaseModel):
    n: int
    ms: int
    fail: bool = False


@worker.handler()
async def delay(ctx: restate.Context, req: Delay) -> int:
    await ctx.sleep(timedelta(milliseconds=req.ms))
    if req.fail:
        raise restate.TerminalError(f"item {req.n} failed late", status_code=409)
    return req.n


class Slow(BaseModel):
    batch: str
    n: int
    ms: int


def _gauge() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ["REA_CONCURRENCY_GAUGE"], timeout=10)
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS inflight (batch TEXT, inv TEXT, PRIMARY KEY (batch, inv));
        CREATE TABLE IF NOT EXISTS peak (batch TEXT PRIMARY KEY, max_in_flight INTEGER);
        CREATE TABLE IF NOT EXISTS spans (
            batch TEXT, inv TEXT, n INTEGER, entered REAL, left REAL, PRIMARY KEY (batch, inv)
        );
        """
    )
    return db


@worker.handler()
async def slow(ctx: restate.Context, req: Slow) -> int:
    invocation = ctx.request().id

    async def work() -> int:
        # Each sqlite transaction is synchronous, so no other callee on this loop interleaves.
        with _gauge() as db:
            db.execute("INSERT OR IGNORE INTO inflight VALUES (?, ?)", (req.batch, invocation))
            (now_in_flight,) = db.execute(
                "SELECT count(*) FROM inflight WHERE batch = ?", (req.batch,)
            ).fetchone()
            db.execute(
                "INSERT INTO peak VALUES (?, ?) ON CONFLICT (batch) DO UPDATE "
                "SET max_in_flight = max(max_in_flight, excluded.max_in_flight)",
                (req.batch, now_in_flight),
            )
            db.execute(
                "INSERT OR REPLACE INTO spans VALUES (?, ?, ?, ?, NULL)",
                (req.batch, invocation, req.n, time.time()),
            )
        await asyncio.sleep(req.ms / 1000)
        with _gauge() as db:
            db.execute("DELETE FROM inflight WHERE batch = ? AND inv = ?", (req.batch, invocation))
            db.execute(
                "UPDATE spans SET left = ? WHERE batch = ? AND inv = ?",
                (time.time(), req.batch, invocation),
            )
        return req.n * 10

    return await rea.run(ctx, "work", work)


fan = restate.Service("Fan")


@fan.handler()
async def gather_values(ctx: restate.Context, n: int) -> list[int]:
    # A call, a run and a durable sleep-then-call, all of one context, in a fixed order.
    def plus_one() -> int:
        return n + 1

    return await rea.gather(
        ctx,
        ctx.service_call(maybe_fail, n * 4),
        rea.run_async(ctx, "plus-one", plus_one),
        ctx.service_call(delay, Delay(n=n, ms=20)),
    )


@fan.handler()
async def gather_first_failure(ctx: restate.Context) -> str:
    # The second argument fails late, the third at once: the second's error is raised.
    try:
        await rea.gather(
            ctx,
            ctx.service_call(maybe_fail, 1),
            ctx.service_call(delay, Delay(n=2, ms=300, fail=True)),
            ctx.service_call(maybe_fail, 3),
        )
    except restate.TerminalError as error:
        return f"{error.status_code}: {error.message}"
    return "no failure"


class Report(BaseModel):
    ok: bool
    value: int | None
    error: str | None
    code: int | None


@fan.handler()
async def fan_out_calls(ctx: restate.Context, count: int) -> list[Report]:
    outcomes = await rea.fan_out(ctx, range(count), lambda n: ctx.service_call(maybe_fail, n))
    return [
        Report(
            ok=o.ok,
            value=o.value,
            error=o.error.message if o.error else None,
            code=o.error.status_code if o.error else None,
        )
        for o in outcomes
    ]


class MapSlow(BaseModel):
    batch: str
    count: int
    limit: int
    ms: int


@fan.handler()
async def map_slow(ctx: restate.Context, req: MapSlow) -> list[int]:
    return await rea.map_concurrent(
        ctx,
        range(req.count),
        lambda n: ctx.service_call(slow, Slow(batch=req.batch, n=n, ms=req.ms)),
        limit=req.limit,
    )


@fan.handler()
async def map_mixed(ctx: restate.Context, count: int) -> list[int]:
    # Callees finish out of input order (later items are faster); results stay in input order.
    return await rea.map_concurrent(
        ctx,
        range(count),
        lambda n: ctx.service_call(delay, Delay(n=n, ms=(count - n) * 15)),
        limit=3,
    )


@fan.handler()
async def map_failing(ctx: restate.Context) -> str:
    try:
        await rea.map_concurrent(ctx, range(8), lambda n: ctx.service_call(maybe_fail, n), limit=2)
    except restate.TerminalError as error:
        return error.message
    return "no failure"


class Race(BaseModel):
    call_ms: int
    sleep_ms: int
    fail: bool = False


@fan.handler()
async def race(ctx: restate.Context, req: Race) -> list[str | int | None]:
    name, value = await rea.select(
        ctx,
        call=ctx.service_call(delay, Delay(n=7, ms=req.call_ms, fail=req.fail)),
        timeout=ctx.sleep(timedelta(milliseconds=req.sleep_ms)),
    )
    return [name, value]


@fan.handler()
async def race_failure(ctx: restate.Context) -> str:
    try:
        await rea.select(ctx, bad=ctx.service_call(maybe_fail, 3))
    except restate.TerminalError as error:
        return f"{error.status_code}: {error.message}"
    return "no failure"


@fan.handler()
async def ordered_calls(ctx: restate.Context, names: list[str]) -> list[int]:
    # A set's iteration order changes between processes; rea.ordered() fixes the journal's order.
    lengths = {name: len(name) for name in set(names)}
    return await rea.gather(
        ctx, *(ctx.service_call(maybe_fail, size * 4) for _, size in rea.ordered(lengths))
    )


app = rea.app([worker, fan])
