"""Saga bookkeeping without a server: occurrences, keys and compensation binding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

import rea
from rea._compensations import compensation


@dataclass
class _Request:
    id: str


class _Ctx:
    """Just enough of a context for the saga's bookkeeping (no journal operations)."""

    def request(self) -> _Request:
        return _Request("inv_1unitTestInvocation")


def undo(payload: Any, key: str) -> None:
    return None


def other_undo(payload: Any, key: str) -> None:
    return None


@compensation("declared-saga", "charge")
def declared_undo(payload: Any, key: str) -> None:
    return None


def _saga(name: str = "s") -> rea.Saga[Any]:
    return rea.Saga(_Ctx(), name)  # type: ignore[arg-type]


def test_each_occurrence_gets_its_own_keys() -> None:
    """Three adds of one step: three action keys and three compensation keys, all distinct."""
    saga = _saga()
    saga.register("charge", undo)
    keys, compensation_keys = [], []
    for _ in range(3):
        keys.append(saga.key("charge"))  # before the add, as saga.step(...) arguments are
        saga.add("charge", None)
        assert saga.key("charge") == keys[-1]  # after the add: still this occurrence
        compensation_keys.append(saga.compensation_key("charge"))
        saga.complete("charge")
    assert len(set(keys)) == 3
    assert len(set(compensation_keys)) == 3
    assert not set(keys) & set(compensation_keys)
    assert [saga.key("charge", n) for n in (1, 2, 3)] == keys


def test_first_occurrence_keeps_the_key_of_earlier_versions() -> None:
    """Occurrence 1's keys are those rea gave before occurrences (sagas survive an upgrade)."""
    saga = _saga("order")
    inv = "inv_1unitTestInvocation"
    assert saga.key("charge") == f"order:charge:{inv}"
    assert saga.compensation_key("charge") == f"order:charge:compensate:{inv}"
    assert saga.compensation_key("charge", 2) == f"order:charge:2:compensate:{inv}"


def test_the_compensation_is_bound_when_the_step_is_added() -> None:
    """A later register() of the same step does not change what earlier occurrences undo."""
    saga = _saga()
    saga.register("charge", undo)
    saga.add("charge", 1)
    saga.register("charge", other_undo)
    saga.add("charge", 2)
    bound = [(s.occurrence, s.compensation) for s in saga._steps]
    assert bound == [(1, undo), (2, other_undo)]


def test_declared_compensations_need_no_register() -> None:
    """A step declared with @rea.compensation(saga, step) can be added right away."""
    saga = _saga("declared-saga")
    with rea.policy_override("strict"):
        saga.add("charge", 1)
    assert saga._steps[0].compensation is declared_undo


def test_register_checks_the_form() -> None:
    """A compensation of neither form fails at register(), not when compensating."""
    saga = _saga()
    with pytest.raises(TypeError, match="ctx, payload, key"):
        saga.register("charge", lambda: None)  # type: ignore[arg-type]


def test_occurrences_count_from_one() -> None:
    """Occurrence 0 does not exist."""
    with pytest.raises(ValueError, match="from 1"):
        _saga().key("charge", 0)


def test_without_served_dead_letters_a_letter_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """rea.app(..., dead_letters=False): a dead letter is an error log line, never dropped."""
    from restate import TerminalError

    from rea import _dead_letters

    monkeypatch.setattr(_dead_letters, "_served", False)
    _dead_letters.dead_letter(
        _Ctx(),  # type: ignore[arg-type]
        saga="s",
        step="charge",
        occurrence=2,
        compensation=undo,
        payload={"amount": 3},
        key="k-2",
        failure=TerminalError("refund refused"),
        cause=TerminalError("declined", status_code=402),
    )
    (record,) = [r for r in caplog.records if r.name == "rea.saga"]
    assert record.levelname == "ERROR"
    assert "'charge'" in record.getMessage()
    assert '"idempotency_key":"k-2"' in record.getMessage()
    assert "refund refused" in record.getMessage()
