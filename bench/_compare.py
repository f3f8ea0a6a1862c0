"""Shared driver for the rea-vs-bare throughput benchmarks.

Each variant is an app served in its own child process (hypercorn, HTTP/2) against one
restate-server (no always-replay: production-like). The same load generator drives them in
alternating rounds, so that drift on a shared machine hits both alike. Besides invocations per
second it reports the app process's CPU time per invocation, which is steadier than wall time.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._cpu import cpu_seconds  # noqa: E402
from rea.testing import Harness, RestateServer  # noqa: E402

CONCURRENCY = 16
#: Numbers for "{n}" in a variant's path: unique across rounds (a workflow id runs once).
_ids = itertools.count()


@dataclass(frozen=True)
class Variant:
    name: str
    app: str  # "module:attr", served in a child process
    path: str  # ingress path of the handler to call; "{n}" is a number unique to the call


async def _drive(
    ingress: str, path: str, requests: int, body: Callable[[int], Any], check: Callable[[Any], bool]
) -> float:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=ingress, timeout=60, limits=limits) as client:
        numbers = iter(range(requests))

        async def worker() -> None:
            for n in numbers:
                response = await client.post(path.format(n=next(_ids)), json=body(n))
                assert check(response.json()), response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return requests / (time.perf_counter() - started)


def compare(
    title: str,
    variants: tuple[Variant, Variant],
    *,
    body: Callable[[int], Any],
    check: Callable[[Any], bool],
    target: float,
) -> None:
    """Run both variants in alternating rounds and print throughput, CPU and the ratio."""
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rates: dict[str, list[float]] = {v.name: [] for v in variants}
    cpu: dict[str, list[float]] = {v.name: [] for v in variants}
    with RestateServer(always_replay=False) as server:
        harnesses = [Harness(v.app, server=server).start() for v in variants]
        try:
            for variant in variants:  # warm-up: connections, discovery, caches
                asyncio.run(_drive(server.ingress_url, variant.path, 100, body, check))
            for _ in range(rounds):
                for variant, harness in zip(variants, harnesses, strict=True):
                    before = cpu_seconds(harness.app_pid)
                    rate = asyncio.run(
                        _drive(server.ingress_url, variant.path, requests, body, check)
                    )
                    used = cpu_seconds(harness.app_pid) - before
                    rates[variant.name].append(rate)
                    cpu[variant.name].append(used / requests * 1000)
        finally:
            for harness in harnesses:
                harness.close()
    print(f"{title}; {rounds} rounds x {requests} invocations, concurrency {CONCURRENCY}")
    print(f"{'variant':<14} {'median inv/s':>13} {'min':>8} {'max':>8} {'app CPU ms/inv':>15}")
    for variant in variants:
        values = rates[variant.name]
        print(
            f"{variant.name:<14} {statistics.median(values):13.1f} {min(values):8.1f} "
            f"{max(values):8.1f} {statistics.median(cpu[variant.name]):15.3f}"
        )
    first, second = (v.name for v in variants)
    ratio = statistics.median(rates[first]) / statistics.median(rates[second])
    cpu_ratio = statistics.median(cpu[first]) / statistics.median(cpu[second])
    verdict = "met" if ratio >= target else "NOT met"
    print(f"{first} / {second} throughput: {ratio:.3f} (target >= {target}: {verdict})")
    print(f"{first} / {second} app CPU per invocation: {cpu_ratio:.3f}")
