"""Run actions that fail on purpose; attempts are counted in a sqlite file outside the app."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta

import restate
from restate.exceptions import RetryableError

import rea

FAST = timedelta(milliseconds=10)


def _attempt(key: str) -> int:
    """Record one attempt of `key` in the ledger; return how many there were, this one included."""
    with sqlite3.connect(os.environ["REA_LEDGER"], timeout=10) as db:
        db.execute("CREATE TABLE IF NOT EXISTS attempts (key TEXT)")
        db.execute("INSERT INTO attempts (key) VALUES (?)", (key,))
        (count,) = db.execute("SELECT count(*) FROM attempts WHERE key = ?", (key,)).fetchone()
    return int(count)


runs = restate.Service("Runs")


@runs.handler()
async def flaky(ctx: restate.Context, key: str) -> str:
    def action() -> str:
        n = _attempt(key)
        if n <= 3:
            raise ConnectionError(f"transient failure {n}")
        return f"succeeded on attempt {n}"

    return await rea.run(
        ctx, "flaky", action, retry=rea.RetryPolicy(max_attempts=5, initial_interval=FAST)
    )


@runs.handler()
async def hopeless(ctx: restate.Context, key: str) -> str:
    def action() -> str:
        _attempt(key)
        raise ConnectionError("always down")

    try:
        await rea.run(
            ctx, "hopeless", action, retry=rea.RetryPolicy(max_attempts=4, initial_interval=FAST)
        )
    except restate.TerminalError as exc:
        return f"terminal: {exc.message}"
    return "unreachable"


@runs.handler()
async def retry_after(ctx: restate.Context, key: str) -> str:
    def action() -> str:
        _attempt(key)
        raise RetryableError("busy", retry_after=FAST)

    try:
        await rea.run(
            ctx, "later", action, retry=rea.RetryPolicy(max_attempts=3, initial_interval=FAST)
        )
    except restate.TerminalError as exc:
        return f"terminal: {exc.message}"
    return "unreachable"


@runs.handler()
async def sync_off_loop(ctx: restate.Context) -> bool:
    import threading

    loop_thread = threading.get_ident()
    worker = await rea.run(ctx, "where", threading.get_ident)
    return worker != loop_thread


app = rea.app([runs])
