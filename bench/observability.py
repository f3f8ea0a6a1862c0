"""Invocations per second with observability on (metrics, log context) vs off, same run.

Target (issue 15): on / off >= 0.95. Each invocation makes a typed call (a second invocation)
and a run, so every metric family that counts per operation is fed. Tracing is not part of
rea.Observability yet. See bench/_compare.py for the method.

Run: .venv/bin/python bench/observability.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._compare import Variant, compare
from rea.testing import Harness, RestateServer


def _observed_counts() -> bool:
    """Whether the observed variant's process really records: its /metrics counts a call."""
    with (
        RestateServer(always_replay=False) as server,
        Harness("bench.observability_apps:observed_app", server=server) as h,
    ):
        h.client.post("/ObservedShop/buy", json="probe")
        page = httpx.get(f"{h.app_url}/metrics", timeout=10).text
    return (
        'rea_runs_total{handler="buy",outcome="success",run="price",service="ObservedShop"} 1.0'
        in page
    )


if __name__ == "__main__":
    checks = "yes" if _observed_counts() else "NO (the comparison below means nothing)"
    print(f"observed variant: /metrics counts the probe call's run: {checks}")
    compare(
        "service calls (observability on vs off)",
        (
            Variant("observed", "bench.observability_apps:observed_app", "/ObservedShop/buy"),
            Variant("off", "bench.observability_apps:plain_app", "/PlainShop/buy"),
        ),
        body=lambda n: f"item-{n}",
        check=lambda result: isinstance(result, int),
        target=0.95,
    )
