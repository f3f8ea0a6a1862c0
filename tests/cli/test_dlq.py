"""`rea dlq`: list, show, retry and discard saga dead letters through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory


def _rea(h: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rea", "dlq", *args],
        env={"REA_INGRESS_URL": h.ingress_url, "REA_ADMIN_URL": h.admin_url, "COLUMNS": "250",
             "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_dlq_retry_runs_the_compensation_and_removes_it(
    rea_harness: HarnessFactory, tmp_path: Path
) -> None:
    """A dead letter outlives its workflow; `rea dlq retry` compensates and removes it."""
    ledger = tmp_path / "ledger.sqlite"
    h = rea_harness("tests.integration.apps.saga_app:app", app_env={"REA_LEDGER": str(ledger)})
    plan = {"fail_at": "ship", "strategy": "best_effort", "broken_compensation": "charge"}
    assert h.client.post("/SagaOrder/dlq1/run", json=plan).status_code == 422
    deadline = time.monotonic() + 10
    while "1 dead letter" not in (listed := _rea(h, "list")).stdout:
        assert time.monotonic() < deadline, listed.stdout + listed.stderr
        time.sleep(0.1)
    (letter,) = h.client.post("/SagaDeadLetters/order/list").json()
    shown = _rea(h, "show", "order", letter["id"])
    assert json.loads(shown.stdout)["step"] == "charge"
    # Still broken: retry fails, exit 1, the letter stays.
    assert _rea(h, "retry", "order", letter["id"]).returncode == 1
    # The operator mends the payload, then retries: compensated and gone.
    mended = {**letter, "payload": {**letter["payload"], "plan": {"fail_at": "ship"}}}
    h.client.post("/SagaDeadLetters/order/add", json=mended).raise_for_status()
    retried = _rea(h, "retry", "order", letter["id"])
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == "compensated"
    assert "0 dead letter" in _rea(h, "list").stdout
    missing = _rea(h, "discard", "order", letter["id"])
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1
