"""A handler that branches on `random.random()`: non-deterministic, so replay must catch it."""

from __future__ import annotations

import random
from datetime import timedelta

import restate

coin = restate.Service("Coin")


@coin.handler()
async def flip(ctx: restate.Context) -> str:
    sides = []
    for _ in range(12):
        # Wrong on purpose: the branch taken is not recorded, so a replay may take the other.
        if random.random() < 0.5:
            sides.append(await ctx.run_typed("heads", lambda: "H"))
        else:
            await ctx.sleep(timedelta(milliseconds=1))
            sides.append("T")
    return "".join(sides)


app = restate.app([coin])
