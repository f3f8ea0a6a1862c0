"""rea.State and rea.run on a real server under always-replay."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.apps import stateful


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(stateful.app)


def test_state_round_trips_every_kind_of_value(h: Harness) -> None:
    """int, str, a pydantic model, a dataclass and list[Model] come back as themselves."""
    value = {
        "count": 7,
        "name": "Ada",
        "item": {"sku": "A1", "qty": 2},
        "address": {"street": "1 Main St", "city": "Springfield"},
        "cart": [{"sku": "B2", "qty": 1}, {"sku": "C3", "qty": 5}],
    }
    h.client.post("/Store/full/put", json=value).raise_for_status()
    read = h.client.post("/Store/full/read").json()
    assert read == {
        "count": "int:7",
        "name": "str:'Ada'",
        "item": "Item:Item(sku='A1', qty=2)",
        "address": "Address:Address(street='1 Main St', city='Springfield')",
        "cart": "list:[Item(sku='B2', qty=1), Item(sku='C3', qty=5)]",
    }


def test_missing_keys_give_the_default(h: Harness) -> None:
    """A key never written reads as its default (None when there is none)."""
    read = h.client.post("/Store/empty/read").json()
    assert read == {
        "count": "int:0",
        "name": "str:'nobody'",
        "item": "NoneType:None",
        "address": "NoneType:None",
        "cart": "list:[]",
    }


def test_clear_restores_the_default(h: Harness) -> None:
    """After clear(), get() gives the default again."""
    h.client.post("/Store/c/increment").raise_for_status()
    h.client.post("/Store/c/wipe").raise_for_status()
    assert h.client.post("/Store/c/read").json()["count"] == "int:0"


def test_update_is_atomic_in_an_exclusive_handler(h: Harness) -> None:
    """Fifty concurrent increments of one key end at exactly fifty."""
    for _ in range(50):
        h.client.post("/Store/race/increment/send").raise_for_status()
    h.client.post("/Store/race/increment").raise_for_status()
    assert h.client.post("/Store/race/read").json()["count"] == "int:51"


def test_update_appends_models(h: Harness) -> None:
    """update() works with list[Model] values and a mutable default is never shared."""
    assert h.client.post("/Store/u1/add_to_cart", json={"sku": "X", "qty": 1}).json() == 1
    assert h.client.post("/Store/u1/add_to_cart", json={"sku": "Y", "qty": 2}).json() == 2
    assert h.client.post("/Store/u2/add_to_cart", json={"sku": "Z", "qty": 3}).json() == 1


def test_run_results_round_trip_without_type_hints(h: Harness) -> None:
    """Models, dataclasses and list[Model] returned by annotated actions survive replay."""
    assert h.client.post("/Store/rt/run_types").json() == "Item Address Item"


def test_unannotated_model_result_is_reported(h: Harness) -> None:
    """An unannotated action returning a model is a violation: replay would give a dict."""
    response = h.client.post("/Store/ut/untyped_run", json="strict")
    assert response.status_code == 500
    assert "[run.untyped_result]" in response.json()["message"]


def _journal(h: Harness, invocation: str) -> list[str]:
    rows = h.query(
        f"SELECT entry_type, name FROM sys_journal WHERE id = '{invocation}' ORDER BY index"
    )
    return [f"{r['entry_type']} {r.get('name') or ''}".strip() for r in rows]


def test_rea_journals_exactly_what_the_bare_sdk_does(h: Harness) -> None:
    """A handler using rea.State and rea.run has as many journal entries as its bare twin."""
    rea_call = h.client.post("/JournalTwins/a/with_rea", json=100)
    bare_call = h.client.post("/JournalTwins/b/bare", json=100)
    assert rea_call.json() == bare_call.json() == 90
    rea_entries = _journal(h, rea_call.headers["x-restate-id"])
    bare_entries = _journal(h, bare_call.headers["x-restate-id"])
    assert len(rea_entries) == len(bare_entries)
    assert rea_entries == bare_entries


# -- runs, attempts counted in a sqlite ledger outside the app process --------------------------
@pytest.fixture
def runs(rea_harness: HarnessFactory, tmp_path: Path) -> tuple[Harness, Path]:
    ledger = tmp_path / "ledger.sqlite"
    harness = rea_harness("tests.integration.apps.runs:app", app_env={"REA_LEDGER": str(ledger)})
    return harness, ledger


def _attempts(ledger: Path, key: str) -> int:
    with sqlite3.connect(ledger) as db:
        (count,) = db.execute("SELECT count(*) FROM attempts WHERE key = ?", (key,)).fetchone()
    return int(count)


def test_transient_failures_are_retried_until_success(runs: tuple[Harness, Path]) -> None:
    """Failing 3 times then succeeding returns under RetryPolicy(max_attempts=5)."""
    h, ledger = runs
    assert h.client.post("/Runs/flaky", json="f1").json() == "succeeded on attempt 4"
    assert _attempts(ledger, "f1") == 4


def test_retries_end_in_a_terminal_error_after_max_attempts(runs: tuple[Harness, Path]) -> None:
    """An action that always fails is tried exactly max_attempts times, then is terminal."""
    h, ledger = runs
    result = h.client.post("/Runs/hopeless", json="h1").json()
    assert result.startswith("terminal:")
    assert "always down" in result
    assert _attempts(ledger, "h1") == 4


def test_retry_after_cannot_bypass_max_attempts(runs: tuple[Harness, Path]) -> None:
    """RetryableError(retry_after=...) inside rea.run stops at max_attempts."""
    h, ledger = runs
    result = h.client.post("/Runs/retry_after", json="r1").json()
    assert result.startswith("terminal:")
    assert _attempts(ledger, "r1") == 3


def test_sync_actions_run_off_the_event_loop(runs: tuple[Harness, Path]) -> None:
    """A sync action runs on a worker thread, not the event loop's."""
    h, _ = runs
    assert h.client.post("/Runs/sync_off_loop").json() is True


def test_unannotated_model_result_warn_shows_the_hazard(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Under WARN the run goes on, and after replay the model is indeed a dict."""
    assert h.client.post("/Store/uw/untyped_run", json="warn").json() == "dict"
    warnings = [r.getMessage() for r in caplog.records if "[run.untyped_result]" in r.getMessage()]
    assert len(warnings) == 1
    assert "stateful.py" in warnings[0]  # the site is the lambda, not a thread-pool frame


def test_rea_app_answers_bad_input_with_400_after_one_attempt(h: Harness) -> None:
    """Through rea.app, input failing validation is HTTP 400 naming the field, never retried."""
    response = h.client.post("/Store/v/add_to_cart", json={"sku": "A", "qty": "many"})
    assert response.status_code == 400
    assert "qty" in response.json()["message"]
    invocation = response.headers["x-restate-id"]
    rows = h.query(
        f"SELECT status, completion_result FROM sys_invocation WHERE id = '{invocation}'"
    )
    assert rows == [{"status": "completed", "completion_result": "failure"}]
    # A retried attempt would leave a TransientError event in the journal events.
    events = h.query(f"SELECT event_type FROM sys_journal_events WHERE id = '{invocation}'")
    assert [e for e in events if "Transient" in str(e.get("event_type"))] == []


def test_unannotated_model_result_disabled_is_silent(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Under DISABLED nothing is reported (and the replayed value is a dict)."""
    assert h.client.post("/Store/ud/untyped_run", json="disabled").json() == "dict"
    assert not [r for r in caplog.records if "[run.untyped_result]" in r.getMessage()]
