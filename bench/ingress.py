"""Calls per second of rea.IngressClient vs the SDK's client vs raw httpx, on one handler.

One restate-server (no always-replay) and the app of `examples/ingress.py` in a child process;
every variant calls its `charge` handler (a model in, a model out) with CONCURRENCY callers, in
alternating rounds so that drift on a shared machine hits all alike. Besides calls per second it
reports this process's CPU time per call: the client's own cost, steadier than wall time.
Target (issue 5): rea >= 1.0x the SDK client.

Run: .venv/bin/python bench/ingress.py [calls-per-round] [rounds]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import restate

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.ingress import Order, Receipt, charge  # noqa: E402

import rea.ingress  # noqa: E402
from rea.testing import Harness, RestateServer  # noqa: E402

CONCURRENCY = 16
Call = Callable[[Order], Awaitable[Receipt]]


async def _rea(url: str, calls: int, http2: bool | None = None) -> float:
    async with rea.ingress.IngressClient(url, http2=http2) as client:
        billing = client.service(charge)
        return await _drive(billing.call, calls)


async def _sdk(url: str, calls: int) -> float:
    async with restate.create_client(url) as client:

        async def call(order: Order) -> Receipt:
            return await client.service_call(charge, order)

        return await _drive(call, calls)


async def _raw(url: str, calls: int) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def call(order: Order) -> Receipt:
            response = await client.post(
                "/ExIngressPayments/charge",
                content=order.model_dump_json(),
                headers={"content-type": "application/json"},
            )
            response.raise_for_status()
            return Receipt.model_validate_json(response.content)

        return await _drive(call, calls)


async def _drive(call: Call, calls: int) -> float:
    """Calls per second for `calls` calls, CONCURRENCY at a time."""
    numbers = iter(range(calls))

    async def worker() -> None:
        for n in numbers:
            receipt = await call(Order(id=f"o{n}", amount=n + 1))
            assert receipt.charged == n + 1, receipt

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return calls / (time.perf_counter() - started)


VARIANTS: dict[str, Callable[[str, int], Coroutine[Any, Any, float]]] = {
    "rea": _rea,
    "rea h2": lambda url, calls: _rea(url, calls, http2=True),
    "sdk": _sdk,
    "raw httpx": _raw,
}


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with (
        RestateServer(always_replay=False) as server,
        Harness("examples.ingress:app", server=server),
    ):
        for run in VARIANTS.values():  # warm-up: connections, discovery, caches
            asyncio.run(run(server.ingress_url, 200))
        for _ in range(rounds):
            for name, run in VARIANTS.items():
                before = time.process_time()
                rates[name].append(asyncio.run(run(server.ingress_url, calls)))
                cpu[name].append((time.process_time() - before) / calls * 1e6)
    sdk = statistics.median(rates["sdk"])
    print(f"one typed handler, {rounds} rounds x {calls} calls, concurrency {CONCURRENCY}")
    row = "{:<10} {:>15} {:>8} {:>8} {:>19} {:>7}"
    print(row.format("client", "median calls/s", "min", "max", "client CPU us/call", "vs sdk"))
    for name, values in rates.items():
        median = statistics.median(values)
        print(
            row.format(
                name,
                f"{median:.1f}",
                f"{min(values):.1f}",
                f"{max(values):.1f}",
                f"{statistics.median(cpu[name]):.0f}",
                f"{median / sdk:.2f}x",
            )
        )
    ratio = statistics.median(rates["rea"]) / sdk
    # Same-round pairs: drift on a shared machine moves both sides of a pair alike.
    paired = [mine / theirs for mine, theirs in zip(rates["rea"], rates["sdk"], strict=True)]
    print(f"rea / sdk per round: {' '.join(f'{r:.2f}' for r in paired)} (lowest {min(paired):.2f})")
    print(f"rea / sdk: {ratio:.3f} (target >= 1.0: {'met' if ratio >= 1.0 else 'NOT met'})")


if __name__ == "__main__":
    main()
