"""Crash test: 50 sagas in flight while the app process is SIGKILLed and restarted 5 times."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from rea.testing import Harness, RestateServer

SAGAS = 50


def test_sagas_survive_repeated_sigkill(tmp_path: Path) -> None:
    """Every saga ends completed or fully compensated; each effect is in the ledger exactly once."""
    ledger = tmp_path / "ledger.sqlite"
    # Each crash costs in-flight invocations an attempt: give them a production-like budget
    # instead of the test server's 3 attempts, or the crashes themselves would kill sagas.
    retries = {"RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "100"}
    with (
        RestateServer(env=retries) as server,
        Harness(APP, server=server, app_env={"REA_LEDGER": str(ledger)}) as h,
    ):
        _crash_and_check(h, ledger)


APP = "tests.integration.apps.saga_app:app"


def _crash_and_check(h: Harness, ledger: Path) -> None:
    failing = {f"crash-{i}" for i in range(SAGAS) if i % 3 == 0}
    for i in range(SAGAS):
        saga = f"crash-{i}"
        plan = {"slow_ms": 150, "fail_at": "ship" if saga in failing else ""}
        h.client.post(f"/SagaOrder/{saga}/run/send", json=plan).raise_for_status()

    for _ in range(5):
        time.sleep(0.8)
        h.kill()
        time.sleep(0.2)
        h.restart()

    results: dict[str, int] = {}
    bodies: dict[str, str] = {}
    deadline = time.monotonic() + 180
    while len(results) < SAGAS:
        assert time.monotonic() < deadline, f"unfinished sagas: {SAGAS - len(results)}"
        for i in range(SAGAS):
            saga = f"crash-{i}"
            if saga not in results:
                response = h.client.get(f"/restate/workflow/SagaOrder/{saga}/output")
                if response.status_code != 470:
                    results[saga] = response.status_code
                    bodies[saga] = response.text
        time.sleep(0.2)

    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT saga, kind, count(*) FROM ledger GROUP BY saga, kind").fetchall()
    effects: dict[str, set[str]] = {}
    for saga, kind, count in rows:
        assert count == 1  # keyed by its idempotency key: never twice
        effects.setdefault(saga, set()).add(kind)
    for i in range(SAGAS):
        saga = f"crash-{i}"
        if saga in failing:
            assert results[saga] == 422, bodies[saga]
            assert effects[saga] == {
                "reserve",
                "charge",
                "undo ship",
                "undo charge",
                "undo reserve",
            }
        else:
            assert results[saga] == 200, bodies[saga]
            assert effects[saga] == {"reserve", "charge", "ship"}
