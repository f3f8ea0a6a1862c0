"""`rea dlq`: list, show, retry and discard saga dead letters through the CLI."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory


def _rea(h: Harness, *args: str, columns: str = "250") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rea", "dlq", *args],
        env={"REA_INGRESS_URL": h.ingress_url, "REA_ADMIN_URL": h.admin_url, "COLUMNS": columns,
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
    # Other tests on this server leave letters of their own in saga "order": find ours.
    while not (mine := [x for x in h.client.post("/SagaDeadLetters/order/list").json()
                        if x["payload"]["saga"] == "dlq1"]):  # fmt: skip
        assert time.monotonic() < deadline
        time.sleep(0.1)
    (letter,) = mine
    assert letter["id"] in _rea(h, "list").stdout
    # Piped and narrow: the saga and the id, which `show`/`retry` take, are printed whole.
    narrow = _rea(h, "list", columns="60").stdout
    assert re.search(rf"^order\s+{re.escape(letter['id'])}\s", narrow, re.MULTILINE), narrow
    listed = json.loads(_rea(h, "list", "--json").stdout)
    assert letter["id"] in [x["id"] for x in listed]
    shown = _rea(h, "show", "order", letter["id"])
    assert json.loads(shown.stdout)["step"] == "charge"
    # Still broken: retry fails, exit 1, the letter stays.
    assert _rea(h, "retry", "order", letter["id"]).returncode == 1
    # The operator repairs the downstream system, then retries: compensated and gone.
    with sqlite3.connect(ledger) as db:
        db.execute("INSERT INTO mended VALUES (?)", (letter["idempotency_key"],))
    retried = _rea(h, "retry", "order", letter["id"])
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == "compensated"
    assert letter["id"] not in _rea(h, "list").stdout
    missing = _rea(h, "discard", "order", letter["id"])
    assert missing.returncode == 2
    assert len(missing.stderr.strip().splitlines()) == 1
