"""Fan-out with failures, a bounded map and a timeout race, on an embedded Restate server.

Run it with ``python examples/concurrency.py``: a real restate-server starts (always-replay, so
every await replays the handler from its journal), the app is served and registered, and the
`Shop` handlers are invoked through the ingress.
"""

from __future__ import annotations

import time
from datetime import timedelta

import restate

import rea

# -- callees ------------------------------------------------------------------------------------
inventory = restate.Service("Inventory")
STOCK = {"apple": 12, "pear": 0, "fig": 5}


@inventory.handler()
async def stock(ctx: restate.Context, sku: str) -> int:
    if sku not in STOCK:
        raise restate.TerminalError(f"unknown sku {sku!r}", status_code=404)
    return STOCK[sku]


images = restate.Service("Images")


@images.handler()
async def thumbnail(ctx: restate.Context, n: int) -> str:
    await ctx.sleep(timedelta(milliseconds=150))  # durable: survives a crash mid-render
    return f"thumb-{n}.png"


# -- the orchestrator ---------------------------------------------------------------------------
shop = restate.Service("Shop")


@shop.handler()
async def stock_report(ctx: restate.Context, skus: list[str]) -> dict[str, str]:
    # set() has no stable order across processes: rea.ordered() fixes the order of the calls.
    unique = rea.ordered(set(skus))
    outcomes: list[rea.Outcome[int]] = await rea.fan_out(
        ctx, unique, lambda sku: ctx.service_call(stock, sku)
    )
    return {
        sku: f"{o.value} in stock" if o.error is None else f"error {o.error.status_code}: {o.error}"
        for sku, o in zip(unique, outcomes, strict=True)
    }


@shop.handler()
async def thumbnails(ctx: restate.Context, count: int) -> list[str]:
    # At most 3 renders at a time; the next one starts as soon as one finishes.
    return await rea.map_concurrent(
        ctx, range(count), lambda n: ctx.service_call(thumbnail, n), limit=3
    )


@shop.handler()
async def quick_thumbnail(ctx: restate.Context, timeout_ms: int) -> str:
    match await rea.select(
        ctx,
        done=ctx.service_call(thumbnail, 0),
        timeout=ctx.sleep(timedelta(milliseconds=timeout_ms)),
    ):
        case ("done", path):
            return f"rendered {path}"
        case _:
            return f"gave up after {timeout_ms} ms"


app = rea.app([inventory, images, shop])


def main() -> None:
    from rea.testing import Harness

    with Harness(app) as h:
        skus = ["pear", "apple", "kiwi", "fig", "apple", "plum"]
        report = h.client.post("/Shop/stock_report", json=skus).json()
        print(f"fan_out over {sorted(set(skus))}:")
        for sku, line in report.items():
            print(f"  {sku:<6} {line}")

        started = time.perf_counter()
        paths = h.client.post("/Shop/thumbnails", json=9).json()
        elapsed = time.perf_counter() - started
        print(f"rea.map_concurrent(limit=3) over 9 renders of 150 ms: {elapsed:.2f} s")
        print(f"  {paths}")

        for timeout_ms in (2000, 20):
            result = h.client.post("/Shop/quick_thumbnail", json=timeout_ms).json()
            print(f"rea.select(done=render, timeout={timeout_ms} ms): {result}")


if __name__ == "__main__":
    main()
