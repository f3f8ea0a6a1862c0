"""Metrics, hooks and log context: what a rea app reports while it runs.

Run it: `python examples/observability.py` (starts an embedded Restate server with
always-replay on, so every invocation suspends and replays: the counts still read once).
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import restate
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rea
from rea.observability import Hooks, RunFinished
from rea.testing import Harness, RestateServer

log = logging.getLogger("orders")
attempts = {"charge": 0}


class SlowRuns(Hooks):
    """A hook: told of every run action that really ran."""

    def run_finished(self, event: RunFinished) -> None:
        print(f"  hook: run {event.name!r} of {event.service}/{event.handler}: {event.outcome}")


def charge(order: str) -> str:
    attempts["charge"] += 1
    if attempts["charge"] == 1:
        raise RuntimeError("the payment provider timed out")  # retried by rea.run
    return f"charged {order}"


orders = restate.Service("Orders")


@orders.handler()
async def checkout(ctx: restate.Context, order: str) -> str:
    log.info("checking out %s", order)
    await ctx.sleep(timedelta(milliseconds=1))
    retry = rea.RetryPolicy(max_attempts=3, initial_interval=timedelta(milliseconds=10))
    return await rea.run(ctx, "charge", charge, order, retry=retry)


def main() -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        format="  log: %(levelname)s %(name)s: %(message)s%(rea_context)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The SDK logs each failed run attempt with its traceback; the hook reports it here.
    logging.getLogger("restate.server_context").setLevel(logging.CRITICAL)
    app = rea.app([orders], observability=rea.Observability(hooks=[SlowRuns()]))
    with RestateServer(always_replay=True) as server, Harness(app, server=server) as h:
        for order in ("o-1", "o-2"):
            print(f"checkout {order}: {h.client.post('/Orders/checkout', json=order).json()}")
        page = httpx.get(f"{h.app_url}/metrics", timeout=10).text
    print("From /metrics:")
    shown = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name in ("rea_invocations_total", "rea_attempts_total", "rea_runs_total"):
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                shown[f"{sample.name}{{{labels}}}"] = sample.value
                print(f"  {sample.name}{{{labels}}} {sample.value:g}")
    done = shown.get("rea_invocations_total{handler=checkout,outcome=success,service=Orders}")
    return 0 if done == 2 else 1


if __name__ == "__main__":
    sys.exit(main())
