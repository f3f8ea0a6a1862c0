"""Invocations per second with observability on (metrics, log context, traces) vs off, same run.

Target (issue 15): metrics + tracing on / off >= 0.95 (the "traced" variant: an SDK
TracerProvider with a batch processor and an exporter that drops the spans). Each invocation
makes a typed call (a second invocation) and a run, so every metric family that counts per
operation is fed, and every span kind but compensations is made. "observed" (metrics and log
context, no traces) is shown beside them. See bench/_compare.py for the method.

Run: .venv/bin/python bench/observability.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._compare import Variant, compare
from rea.testing import Harness, RestateServer


def _observed_counts(prefix: str) -> bool:
    """Whether a variant's process really records: its /metrics counts the probe call's run."""
    with (
        RestateServer(always_replay=False) as server,
        Harness(f"bench.observability_apps:{prefix.lower()}_app", server=server) as h,
    ):
        h.client.post(f"/{prefix}Shop/buy", json="probe")
        page = httpx.get(f"{h.app_url}/metrics", timeout=10).text
    return (
        f'rea_runs_total{{handler="buy",outcome="success",run="price",service="{prefix}Shop"}} 1.0'
        in page
    )


if __name__ == "__main__":
    for prefix in ("Traced", "Observed"):
        checks = "yes" if _observed_counts(prefix) else "NO (the comparison means nothing)"
        print(f"{prefix.lower()} variant: /metrics counts the probe call's run: {checks}")
    compare(
        "service calls (metrics + tracing on vs off)",
        (
            Variant("traced", "bench.observability_apps:traced_app", "/TracedShop/buy"),
            Variant("off", "bench.observability_apps:plain_app", "/PlainShop/buy"),
            Variant("observed", "bench.observability_apps:observed_app", "/ObservedShop/buy"),
        ),
        body=lambda n: f"item-{n}",
        check=lambda result: isinstance(result, int),
        target=0.95,
    )
