"""`SagaDeadLetters` on a real server: nothing an ingress caller sends can make the app run code."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rea.testing import Harness

APP = "tests.integration.apps.saga_app:app"


def _planted(target: Path, compensation: str) -> dict[str, Any]:
    return {
        "id": "evil",
        "saga": "order",
        "step": "charge",
        "compensation": compensation,
        "payload": str(target),
        "idempotency_key": "evil",
        "cause": "[500] planted",
        "origin": "inv_1evil",
    }


def _store(h: Harness, saga: str, letters: dict[str, Any]) -> None:
    """Write the object's state as an admin could (what an old public `add` would have left)."""
    raw = list(json.dumps(letters).encode())
    body = {"object_key": saga, "new_state": {"letters": raw}}
    h.admin.post("/services/SagaDeadLetters/state", json=body).raise_for_status()


def _letters(h: Harness, saga: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = h.client.post(f"/SagaDeadLetters/{saga}/list").json()
    return listed


def test_add_is_not_reachable_from_the_ingress(h: Harness, tmp_path: Path) -> None:
    """A letter posted to SagaDeadLetters/add through the ingress is refused; nothing is kept."""
    letter = _planted(tmp_path, "os:remove")
    response = h.client.post("/SagaDeadLetters/attacked/add", json=letter)
    assert response.status_code == 400
    assert "not public" in response.json()["message"]
    assert _letters(h, "attacked") == []


@pytest.mark.parametrize(
    "compensation", ["os:remove", "shutil:rmtree", "tests.integration.apps.saga_app:undo", ""]
)
def test_retry_runs_nothing_the_app_did_not_declare(
    h: Harness, tmp_path: Path, compensation: str
) -> None:
    """A stored letter naming any callable the app did not declare: 409, and nothing runs."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    saga = f"planted-{len(compensation)}"  # short: other tests print these in narrow tables
    _store(h, saga, {"evil": _planted(target, compensation)})
    assert [x["id"] for x in _letters(h, saga)] == ["evil"]
    response = h.client.post(f"/SagaDeadLetters/{saga}/retry", json="evil")
    assert response.status_code == 409
    assert "declare" in response.json()["message"]
    assert target.read_text() == "keep me"
    assert [x["id"] for x in _letters(h, saga)] == ["evil"]  # kept for an operator
    cli = _rea(h, "retry", saga, "evil")
    assert cli.returncode == 2, cli.stderr
    assert "declare" in cli.stderr
    assert target.read_text() == "keep me"


def _rea(h: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rea", "dlq", *args],
        env={"REA_INGRESS_URL": h.ingress_url, "REA_ADMIN_URL": h.admin_url, "COLUMNS": "250",
             "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _of(h: Harness, sagas: set[str]) -> list[dict[str, Any]]:
    """The letters of saga "order" left by these saga runs (other tests share the object)."""
    return [x for x in _letters(h, "order") if x["payload"]["saga"] in sagas]


def _wait_for_letters(h: Harness, sagas: set[str], count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while len(letters := _of(h, sagas)) < count:
        assert time.monotonic() < deadline, letters
        time.sleep(0.05)
    return letters


def test_real_dead_letters_are_retried_after_a_restart_and_discarded(
    h: Harness, ledger: Path
) -> None:
    """A failing saga's letters: listed, retried by a restarted app, discarded, all by `rea dlq`."""
    plan = {"fail_at": "ship", "strategy": "best_effort", "broken_compensation": "charge"}
    assert h.client.post("/SagaOrder/r1/run", json=plan).status_code == 422
    assert h.client.post("/SagaOrder/r2/run", json=plan).status_code == 422
    first, second = _wait_for_letters(h, {"r1", "r2"}, 2)
    assert first["compensation"] == "order.undo"
    h.kill()
    h.restart()  # a fresh process: only what its modules declared at import time is known
    listed = _rea(h, "list")
    assert first["id"] in listed.stdout, listed.stderr
    assert second["id"] in listed.stdout
    # The downstream system is repaired; the retry (a new process) compensates and removes it.
    with sqlite3.connect(ledger) as db:
        db.execute("INSERT INTO mended VALUES (?)", (first["idempotency_key"],))
    retried = _rea(h, "retry", "order", first["id"])
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert retried.stdout.strip() == "compensated"
    discarded = _rea(h, "discard", "order", second["id"])
    assert discarded.returncode == 0, discarded.stderr
    gone = _rea(h, "retry", "order", second["id"])
    assert gone.returncode == 2  # no such letter any more
    assert "no dead letter" in gone.stderr
    assert _of(h, {"r1", "r2"}) == []
    with sqlite3.connect(ledger) as db:
        kinds = [r[0] for r in db.execute("SELECT kind FROM ledger WHERE key = ?",
                                          (first["idempotency_key"],))]  # fmt: skip
    assert kinds == ["undo charge"]


def test_dead_letters_can_be_taken_off_the_ingress(ledger: Path) -> None:
    """Marked private (admin API): the ingress refuses every handler, `rea dlq list/show` still
    read the letters through the admin API, and a new registration makes it public again."""
    with Harness(APP, app_env={"REA_LEDGER": str(ledger)}) as h:
        plan = {"fail_at": "ship", "strategy": "best_effort", "broken_compensation": "charge"}
        assert h.client.post("/SagaOrder/p1/run", json=plan).status_code == 422
        (letter,) = _wait_for_letters(h, {"p1"}, 1)
        h.admin_client.patch_service("SagaDeadLetters", public=False)
        for handler in ("list", "show", "retry", "discard"):
            response = h.client.post(f"/SagaDeadLetters/order/{handler}", json=letter["id"])
            assert response.status_code == 400, handler
            assert "not public" in response.json()["message"]
        listed = _rea(h, "list")
        assert letter["id"] in listed.stdout, listed.stderr
        shown = _rea(h, "show", "order", letter["id"])
        assert json.loads(shown.stdout)["step"] == "charge", shown.stderr
        refused = _rea(h, "retry", "order", letter["id"])
        assert refused.returncode == 2
        assert "not public" in refused.stderr
        h.register()
        assert h.admin_client.service("SagaDeadLetters").public
