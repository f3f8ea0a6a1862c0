"""Invocations per second of a handler making 3 typed rea calls vs its bare-SDK twin.

Target (issue 4): rea / bare >= 0.97. See bench/_compare.py for the method.

Run: .venv/bin/python bench/clients.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._compare import Variant, compare

if __name__ == "__main__":
    compare(
        "handler making 3 typed calls",
        (
            Variant("rea", "bench.clients_apps:rea_app", "/ReaCaller/three"),
            Variant("bare", "bench.clients_apps:bare_app", "/BareCaller/three_bare"),
        ),
        body=lambda n: {"sku": "tea", "qty": 2},
        check=lambda result: result == 15.0,
        target=0.97,
    )
