"""3-step sagas per second: rea.Saga vs the hand-written Restate saga pattern, same run.

Each variant is served in its own child process (hypercorn, HTTP/2) against one restate-server
(no always-replay), driven by the same load generator, in alternating rounds.
Target (issue 6): rea / hand-written >= 0.97.

Run: .venv/bin/python bench/saga.py [requests-per-round] [rounds]
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


async def drive(ingress: str, path: str, requests: int) -> float:
    """Sagas per second for `requests` calls of `path`, CONCURRENCY at a time."""
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=ingress, timeout=60, limits=limits) as client:
        numbers = iter(range(requests))

        async def worker() -> None:
            for n in numbers:
                response = await client.post(path, json=f"o-{n}")
                assert response.json() == "ok", response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return requests / (time.perf_counter() - started)


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    paths = {"rea.Saga": "/ReaSagas/place", "hand-written": "/HandSagas/place_by_hand"}
    with (
        RestateServer(always_replay=False) as server,
        Harness("bench.saga_apps:rea_app", server=server),
        Harness("bench.saga_apps:bare_app", server=server),
    ):
        for path in paths.values():
            asyncio.run(drive(server.ingress_url, path, 100))
        results: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(rounds):
            for name, path in paths.items():
                results[name].append(asyncio.run(drive(server.ingress_url, path, requests)))
    print(f"3-step sagas; {rounds} rounds x {requests} sagas, concurrency {CONCURRENCY}")
    print(f"{'variant':<14} {'median sagas/s':>15} {'min':>8} {'max':>8}")
    for name, values in results.items():
        print(f"{name:<14} {statistics.median(values):15.1f} {min(values):8.1f} {max(values):8.1f}")
    ratio = statistics.median(results["rea.Saga"]) / statistics.median(results["hand-written"])
    print(
        f"rea / hand-written: {ratio:.3f} (target >= 0.97: {'met' if ratio >= 0.97 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
