"""Payments per second through rea.patterns vs the same handler without, same run.

Variants: the handler through a closed `CircuitBreaker` (one hot dependency key) and without
any pattern. The issue asks for the figures, not a bar; the target below (0.5) is a floor
that flags a regression. See bench/_compare.py for the method.

Run: .venv/bin/python bench/patterns.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._compare import Variant, compare

VARIANTS = (
    Variant("breaker", "bench.patterns_apps:breaker_app", "/BreakerPayments/pay"),
    Variant("no pattern", "bench.patterns_apps:plain_app", "/PlainPayments/pay"),
    # Shown for context (ratio to the breaker): a rate limiter that never throttles.
    Variant("limiter", "bench.patterns_apps:limiter_app", "/LimitedPayments/pay"),
)

if __name__ == "__main__":
    compare(
        "payments through rea.patterns",
        VARIANTS,
        body=lambda n: f"o-{n}",
        check=lambda result: result.startswith("charged o-"),
        target=0.5,
    )
