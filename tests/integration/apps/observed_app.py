"""An app with rea.Observability: runs that fail once, a saga that compensates, a violation.

Counts that must survive replays go to a file per process (REA_FLAKY_DIR), so a run fails on
its first execution only, as a flaky dependency would.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import restate
from restate import TerminalError

import rea

log = logging.getLogger("observed")
FAST = rea.RetryPolicy(max_attempts=5, initial_interval=timedelta(milliseconds=10))

shop = rea.control_plane(restate.Service("ObservedShop"))
inventory = rea.data_plane(restate.VirtualObject("ObservedInventory"))


def _first_time(name: str) -> bool:
    marker = Path(os.environ["REA_FLAKY_DIR"]) / name
    if marker.exists():
        return False
    marker.write_text("x")
    return True


def flaky_charge(order: str) -> str:
    if _first_time(f"charge-{order}"):
        raise RuntimeError("payment service unavailable")
    return f"charged {order}"


@inventory.handler()
async def reserve(ctx: restate.ObjectContext, amount: int) -> int:
    log.info("reserving %d", amount)
    return amount


@shop.handler()
async def buy(ctx: restate.Context, order: str) -> str:
    log.info("buying %s", order)
    await rea.ObjectClient(reserve).call(ctx, "stock", 1)
    await ctx.sleep(timedelta(milliseconds=1))  # a suspension point under always-replay
    charged = await rea.run(ctx, "charge", flaky_charge, order, retry=FAST)
    log.info("bought %s", order)
    return charged


def release(payload: str, key: str) -> None:
    log.info("releasing %s", payload)


@shop.handler()
async def fail(ctx: restate.Context, order: str) -> str:
    saga = rea.Saga(ctx, "checkout", retry=FAST)
    saga.register("reserve", release)
    async with saga:
        saga.add("reserve", order)
        await rea.ObjectClient(reserve).call(ctx, "stock", 1)
        raise TerminalError("card declined", status_code=402)


@shop.handler()
async def misuse(ctx: restate.Context, order: str) -> str:
    with rea.policy_override("warn"):
        ctx.set("n", 1)  # type: ignore[attr-defined]  # a stateless service writes state
    return order


app = rea.app([shop, inventory], observability=rea.Observability())
