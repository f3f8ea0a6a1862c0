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

from bench._compare import Variant, compare

if __name__ == "__main__":
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
