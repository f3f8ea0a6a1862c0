"""rea.patterns under test: a circuit breaker in front of a ledger, and rea.aggregate.

Breaker: calls through a circuit breaker to a dependency that keeps a sqlite ledger outside
the app.
The ledger plays the dependency: every time it is really touched, a row with a timestamp goes
into ``calls``; the test sets how it answers (``ok``, ``fail`` as a 500, ``reject`` as a 400)
and how slowly, per dependency name, in ``modes``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import timedelta
from typing import Any

import restate
from pydantic import BaseModel

import rea
from rea.patterns import AggregateFailed, CircuitBreaker, Quorum, aggregate

BREAKER = CircuitBreaker(
    threshold=3,
    window=timedelta(seconds=60),
    cool_down=timedelta(seconds=2),
    probe_timeout=timedelta(seconds=30),
    retry=rea.RetryPolicy(max_attempts=1),
)


def _db() -> sqlite3.Connection:
    db = sqlite3.connect(os.environ["REA_LEDGER"], timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS calls (dep TEXT, at REAL, via TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS modes (dep TEXT PRIMARY KEY, mode TEXT, slow_ms INT)")
    return db


def touch(dep: str, via: str) -> str:
    """The dependency itself: counted in the ledger, then answers as its mode says."""
    with _db() as db:
        db.execute("INSERT INTO calls VALUES (?, ?, ?)", (dep, time.time(), via))
        row = db.execute("SELECT mode, slow_ms FROM modes WHERE dep = ?", (dep,)).fetchone()
    mode, slow_ms = row if row is not None else ("ok", 0)
    if slow_ms:
        time.sleep(slow_ms / 1000)
    if mode == "fail":
        raise restate.TerminalError(f"{dep} is down", status_code=500)
    if mode == "reject":
        raise restate.TerminalError(f"{dep} says no", status_code=400)
    return f"{dep} ok"


dependency = restate.Service("BreakerDependency")


@dependency.handler()
async def answer(ctx: restate.Context, dep: str) -> str:
    """The dependency as a Restate service (for calls through a typed client)."""
    return await rea.run(ctx, "touch", touch, dep, "client", retry=rea.RetryPolicy(max_attempts=1))


caller = restate.Service("BreakerCaller")
ANSWER = rea.ServiceClient(answer)


@caller.handler()
async def pay(ctx: restate.Context, dep: str) -> str:
    """A run action through the breaker."""
    return await BREAKER.call(ctx, dep, touch, dep, "run")


@caller.handler()
async def pay_by_call(ctx: restate.Context, dep: str) -> str:
    """A typed client call through the breaker."""
    return await BREAKER.call(ctx, dep, ANSWER, dep)


@caller.handler()
async def pay_bare(ctx: restate.Context, dep: str) -> str:
    """The same run action without a breaker (the cost baseline)."""
    return await rea.run(ctx, dep, touch, dep, "bare", retry=rea.RetryPolicy(max_attempts=1))


class Job(BaseModel):
    name: str
    fail: bool = False
    delay_ms: int = 0


class Receipt(BaseModel):
    name: str
    amount: int


worker = restate.Service("AggWorker")


@worker.handler()
async def work(ctx: restate.Context, job: Job) -> Receipt:
    """One named piece of work: slow on a durable timer, then a receipt or a terminal 502."""
    if job.delay_ms:
        await ctx.sleep(timedelta(milliseconds=job.delay_ms))
    if job.fail:
        raise restate.TerminalError(f"{job.name} failed", status_code=502)
    return Receipt(name=job.name, amount=len(job.name))


class Plan(BaseModel):
    jobs: list[Job]
    policy: str | int = "all"  # an int n: rea.Quorum(n)


aggregator = restate.Service("Aggregator")
WORK = rea.ServiceClient(work)


@aggregator.handler()
async def fan_in(ctx: restate.Context, plan: Plan) -> dict[str, Any]:
    """Aggregate one call per job; report what came back, with the values' types."""
    futures = {job.name: WORK.request_future(ctx, job) for job in plan.jobs}
    policy: Any = Quorum(plan.policy) if isinstance(plan.policy, int) else plan.policy
    try:
        result = await aggregate(ctx, futures, policy=policy)
    except AggregateFailed as failed:
        return {
            "raised": [failed.status_code, failed.message],
            "errors": {name: e.message for name, e in failed.errors.items()},
            "succeeded": list(failed.succeeded),
        }
    return {
        "values": {name: [type(v).__name__, v.amount] for name, v in result.items()},
        "errors": {name: [e.status_code, e.message] for name, e in result.errors.items()},
        "pending": list(result.pending),
    }


app = rea.app(
    [caller, dependency, worker, aggregator, CircuitBreaker.object],
    observability=rea.Observability(),
)
