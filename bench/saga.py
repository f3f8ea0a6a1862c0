"""3-step sagas per second: rea.Saga vs the hand-written Restate saga pattern, same run.

Target (issue 6): rea / hand-written >= 0.97. See bench/_compare.py for the method.

Run: .venv/bin/python bench/saga.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._compare import Variant, compare

if __name__ == "__main__":
    compare(
        "3-step sagas",
        (
            Variant("rea.Saga", "bench.saga_apps:rea_app", "/ReaSagas/place"),
            Variant("hand-written", "bench.saga_apps:bare_app", "/HandSagas/place_by_hand"),
        ),
        body=lambda n: f"o-{n}",
        check=lambda result: result == "ok",
        target=0.97,
    )
