"""Workflows per second: rea.race + rea.WorkflowStatus vs the hand-written equivalent, same run.

Target (issue 13): rea / hand-written >= 0.97, and the same number of journal entries (checked
before the rounds). Both are served by rea.app, so the ratio is what the helpers cost against
writing the same by hand; the third variant, the hand-written workflow on the bare SDK
(restate.app), shows rea.app's own per-attempt cost on top (bench/clients.py has a target for
that). See bench/_compare.py for the method.

Run: .venv/bin/python bench/workflow.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._compare import Variant, compare
from rea.testing import Harness, RestateServer


def _journal_sizes() -> list[int]:
    """Journal entries of one run of each variant, on a fresh server."""
    sizes = []
    with RestateServer(always_replay=False) as server:
        for app, path in (
            ("bench.workflow_apps:rea_app", "/ReaFlow/probe/run"),
            ("bench.workflow_apps:hand_app", "/HandFlow/probe/run"),
            ("bench.workflow_apps:bare_app", "/BareFlow/probe/run"),
        ):
            with Harness(app, server=server) as h:
                response = h.client.post(path, json=7)
                invocation = response.headers["x-restate-id"]
                rows = h.query(f"SELECT count(*) AS n FROM sys_journal WHERE id = '{invocation}'")
                sizes.append(int(rows[0]["n"]))
    return sizes


if __name__ == "__main__":
    rea_size, hand_size, bare_size = _journal_sizes()
    verdict = "equal" if rea_size == hand_size == bare_size else "DIFFERENT"
    print(
        f"journal entries per workflow: rea {rea_size}, hand-written {hand_size}, "
        f"hand-written on the bare SDK {bare_size} ({verdict})"
    )
    compare(
        "workflows (status + race)",
        (
            Variant("rea", "bench.workflow_apps:rea_app", "/ReaFlow/w{n}/run"),
            Variant("hand-written", "bench.workflow_apps:hand_app", "/HandFlow/w{n}/run"),
            Variant("hand/bare SDK", "bench.workflow_apps:bare_app", "/BareFlow/w{n}/run"),
        ),
        body=lambda n: n,
        check=lambda result: isinstance(result, str) and result.startswith("done"),
        target=0.97,
    )
