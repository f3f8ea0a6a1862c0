"""Invocations per second of a handler making 3 typed rea calls vs its bare-SDK twin.

Both apps run in their own child process (hypercorn, HTTP/2) against one restate-server
(no always-replay: production-like), and are driven by the same load generator in this process:
CONCURRENCY callers, alternating rounds of rea and bare so that drift affects both alike.
Target (issue 4): rea / bare >= 0.97.

Run: .venv/bin/python bench/clients.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rea.testing import Harness, RestateServer  # noqa: E402

CONCURRENCY = 16
ITEM = {"sku": "tea", "qty": 2}


async def drive(ingress: str, path: str, requests: int) -> float:
    """Invocations per second for `requests` calls of `path`, CONCURRENCY at a time."""
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=ingress, timeout=60, limits=limits) as client:
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                response = await client.post(path, json=ITEM)
                assert response.json() == 15.0, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return requests / (time.perf_counter() - started)


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    paths = {"rea": "/ReaCaller/three", "bare": "/BareCaller/three_bare"}
    with (
        RestateServer(always_replay=False) as server,
        Harness("bench.clients_apps:rea_app", server=server),
        Harness("bench.clients_apps:bare_app", server=server),
    ):
        for path in paths.values():  # warm-up: connections, first discovery, caches
            asyncio.run(drive(server.ingress_url, path, 100))
        results: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(rounds):
            for name, path in paths.items():
                results[name].append(asyncio.run(drive(server.ingress_url, path, requests)))
    print(
        f"handler making 3 typed calls; {rounds} rounds x {requests} invocations, "
        f"concurrency {CONCURRENCY}"
    )
    print(f"{'variant':<10} {'median inv/s':>13} {'min':>8} {'max':>8}")
    for name, values in results.items():
        print(f"{name:<10} {statistics.median(values):13.1f} {min(values):8.1f} {max(values):8.1f}")
    ratio = statistics.median(results["rea"]) / statistics.median(results["bare"])
    print(f"rea / bare: {ratio:.3f} (target >= 0.97: {'met' if ratio >= 0.97 else 'NOT met'})")


if __name__ == "__main__":
    main()
