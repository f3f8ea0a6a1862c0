"""A circuit breaker, a rate limit, and quotes aggregated best-effort.

Run it: `python examples/patterns.py` (starts an embedded Restate server). The provider fails
three times in a row: the breaker opens, and the next calls are refused at once (503) without
touching it. Three shipping quotes are asked for at once; one carrier is down, and
`rea.aggregate(..., policy="best_effort")` returns the other two with the error by name. Eight
notifications are sent at once through a limit of 4 per second with a burst of 2: they wait their
turn durably (no busy loop) and go out no faster than the limit.
"""

from __future__ import annotations

import concurrent.futures
import sys
import time
from datetime import timedelta
from pathlib import Path

import restate
from restate import TerminalError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rea
from rea.testing import Harness

provider_calls: list[str] = []  # stands for the provider's own log


def charge(order: str) -> str:
    provider_calls.append(order)
    raise TerminalError("payment provider unavailable", status_code=503)


payments = rea.CircuitBreaker(threshold=3, cool_down=timedelta(minutes=5))
mail = rea.RateLimiter(rate=4, burst=2)
sent_at: list[float] = []  # stands for the mail provider's log
shop = restate.Service("Shop")
carriers = restate.Service("Carriers")


@carriers.handler()
async def quote(ctx: restate.Context, carrier: str) -> float:
    if carrier == "slowpost":
        raise TerminalError(f"{carrier} is down", status_code=502)
    return {"fastship": 12.5, "cheapco": 7.0}[carrier]


@shop.handler()
async def pay(ctx: restate.Context, order: str) -> str:
    return await payments.call(ctx, "payments", charge, order)


@shop.handler()
async def notify(ctx: restate.Context, customer: str) -> str:
    await mail.acquire(ctx, "mail")
    await rea.run(ctx, "send", lambda: sent_at.append(time.monotonic()))
    return f"mailed {customer}"


@shop.handler()
async def quotes(ctx: restate.Context) -> dict[str, object]:
    client = rea.ServiceClient(quote)
    # request_future: each call starts now; aggregate waits for all three at once.
    names = ("fastship", "cheapco", "slowpost")
    asked = {name: client.request_future(ctx, name) for name in names}
    got = await rea.aggregate(ctx, asked, policy="best_effort")
    return {"quotes": dict(got), "errors": {name: e.message for name, e in got.errors.items()}}


app = rea.app([shop, carriers, rea.CircuitBreaker.object, rea.RateLimiter.object])


def main() -> int:
    with Harness(app) as h:
        print("Three orders while the provider is down: each call reaches it and fails")
        for n in range(3):
            response = h.client.post("/Shop/pay", json=f"order-{n}")
            print(f"  order-{n}: {response.status_code} {response.json()['message']}")
        # Failures reach the breaker by a one-way send: wait until it has counted them.
        state = ""
        for _ in range(100):
            state = h.client.post("/rea.CircuitBreaker/payments/state").json()["state"]
            if state == "open":
                break
            time.sleep(0.05)
        print(f"Breaker state: {state}")
        print("Two more orders: refused at once, the provider is not called")
        refused = []
        for n in range(3, 5):
            response = h.client.post("/Shop/pay", json=f"order-{n}")
            refused.append(response.status_code)
            print(f"  order-{n}: {response.status_code} {response.json()['message']}")
        print(f"The provider saw {len(provider_calls)} calls.")
        result = h.client.post("/Shop/quotes").json()
        print(f"Quotes: {result['quotes']}, errors: {result['errors']}")
        print("Eight notifications at once through 4/s, burst 2:")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: h.client.post("/Shop/notify", json=f"c{n}"), range(8)))
        took = max(sent_at) - min(sent_at)
        print(
            f"  {len(sent_at)} sent over {took:.1f} s (the limit allows 2 at once, then 4 a second)"
        )
    # 8 permits at 4/s with a burst of 2 take at least 1.5 s (a little slack for the clock).
    ok = state == "open" and refused == [503, 503] and len(provider_calls) == 3
    ok = ok and len(sent_at) == 8 and took >= 1.2
    return 0 if ok and set(result["quotes"]) == {"fastship", "cheapco"} else 1


if __name__ == "__main__":
    sys.exit(main())
