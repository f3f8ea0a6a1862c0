"""The apps `bench/patterns.py` compares: one payment handler, behind a pattern or not.

Each variant is its own app and its own service names (the variants share one server, which
routes a service to the deployment registered last). The dependency is a quick run action, so
what is measured is the pattern's own cost: for the breaker, the awaited permission call to the
``rea.CircuitBreaker`` object (one hot key, as for a single payment provider).
"""

from __future__ import annotations

import restate

import rea
from rea.patterns import CircuitBreaker, RateLimiter

BREAKER = CircuitBreaker()
ONCE = rea.RetryPolicy(max_attempts=1)


def charge(order: str) -> str:
    """The dependency: instant, so that only the pattern's cost shows."""
    return f"charged {order}"


plain = restate.Service("PlainPayments")


@plain.handler()
async def pay(ctx: restate.Context, order: str) -> str:
    """The payment without any pattern."""
    return await rea.run(ctx, "payments", charge, order, retry=ONCE)


guarded = restate.Service("BreakerPayments")


@guarded.handler(name="pay")
async def pay_through_breaker(ctx: restate.Context, order: str) -> str:
    """The same payment through a closed circuit breaker."""
    return await BREAKER.call(ctx, "payments", charge, order)


plain_app = rea.app([plain])
breaker_app = rea.app([guarded, CircuitBreaker.object])

# The limiter variant: one hot resource whose bucket never runs dry at this load, so what is
# measured is the awaited permit call to the exclusive ``rea.RateLimiter`` handler (one key:
# its calls queue one after another, as every caller of one rate-limited resource's do).
LIMITER = RateLimiter(rate=100_000, burst=10_000)

limited = restate.Service("LimitedPayments")


@limited.handler(name="pay")
async def pay_through_limiter(ctx: restate.Context, order: str) -> str:
    """The same payment after a permit of a rate limiter that never throttles it."""
    await LIMITER.acquire(ctx, "payments")
    return await rea.run(ctx, "payments", charge, order, retry=ONCE)


limiter_app = rea.app([limited, RateLimiter.object])
