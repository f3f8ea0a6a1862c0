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
    signing: bool = False  # the app process gets the signing server's key (REA_* security env)


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
    variants: tuple[Variant, ...],
    *,
    body: Callable[[int], Any],
    check: Callable[[Any], bool],
    target: float,
    server_options: dict[str, Any] | None = None,
) -> None:
    """Run the variants in alternating rounds and print throughput, CPU and the ratios.

    The target applies to the first variant against the second; any further variant is shown
    for context (its ratio to the first). Besides the ratio of the medians, the median of the
    per-round ratios is printed: each round runs the variants back to back (every other round
    in reverse order), so it cancels most of the drift a shared machine adds between rounds.
    `server_options` go to the `RestateServer` all variants share.
    """
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rates: dict[str, list[float]] = {v.name: [] for v in variants}
    cpu: dict[str, list[float]] = {v.name: [] for v in variants}
    with RestateServer(always_replay=False, **(server_options or {})) as server:
        harnesses = [Harness(v.app, server=server, signing=v.signing).start() for v in variants]
        try:
            for variant in variants:  # warm-up: connections, discovery, caches
                asyncio.run(_drive(server.ingress_url, variant.path, 100, body, check))
            for round_number in range(rounds):
                pairs = list(zip(variants, harnesses, strict=True))
                # Every other round in reverse order: a variant's place in the round (after a
                # warm one, before a cold one) then biases no variant.
                for variant, harness in pairs if round_number % 2 == 0 else pairs[::-1]:
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
    width = max(14, *(len(v.name) for v in variants))
    print(f"{title}; {rounds} rounds x {requests} invocations, concurrency {CONCURRENCY}")
    print(f"{'variant':<{width}} {'median inv/s':>13} {'min':>8} {'max':>8} {'app CPU ms/inv':>15}")
    for variant in variants:
        values = rates[variant.name]
        print(
            f"{variant.name:<{width}} {statistics.median(values):13.1f} {min(values):8.1f} "
            f"{max(values):8.1f} {statistics.median(cpu[variant.name]):15.3f}"
        )
    first, *others = (v.name for v in variants)
    for index, other in enumerate(others):
        ratio = statistics.median(rates[first]) / statistics.median(rates[other])
        paired = statistics.median(a / b for a, b in zip(rates[first], rates[other], strict=True))
        cpu_ratio = statistics.median(cpu[first]) / statistics.median(cpu[other])
        if index == 0:
            verdict = "met" if ratio >= target else "NOT met"
            print(f"{first} / {other} throughput: {ratio:.3f} (target >= {target}: {verdict})")
        else:
            print(f"{first} / {other} throughput: {ratio:.3f} (for context, no target)")
        print(
            f"  median of per-round ratios: {paired:.3f}; app CPU per invocation: {cpu_ratio:.3f}"
        )
