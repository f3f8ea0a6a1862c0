"""`ordered`, `Outcome`, `Selected` and the argument checks of the concurrency helpers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pytest
import restate
from restate.server_context import ServerDurableFuture

from rea import (
    Outcome,
    Selected,
    fan_out,
    gather,
    map_concurrent,
    ordered,
    select,
)


class _Ctx:
    """Stands in for a handler context: the helpers only pass it to rea's guards."""


def _future(context: object) -> ServerDurableFuture[int]:
    async def never() -> int:
        raise AssertionError("not awaited in these tests")

    return ServerDurableFuture(context, 17, never)  # type: ignore[arg-type]


# -- ordered -------------------------------------------------------------------------------------
def test_ordered_sorts_a_mapping_by_key() -> None:
    """A mapping becomes its (key, value) pairs sorted by key, whatever the insertion order."""
    assert ordered({"b": 2, "c": 3, "a": 1}) == [("a", 1), ("b", 2), ("c", 3)]
    assert ordered(OrderedDict([(3, "x"), (1, "y")])) == [(1, "y"), (3, "x")]


def test_ordered_sorts_sets_and_frozensets() -> None:
    """Sets and frozensets come back sorted."""
    assert ordered({"pear", "apple", "fig"}) == ["apple", "fig", "pear"]
    assert ordered(frozenset({3, 1, 2})) == [1, 2, 3]


def test_ordered_sorts_dict_key_and_item_views() -> None:
    """A dict's keys and items views are sets, so they are sorted too."""
    data = {"b": 1, "a": 2}
    assert ordered(data.keys()) == ["a", "b"]
    assert ordered(data.items()) == [("a", 2), ("b", 1)]


def test_ordered_keeps_sequences_and_iterators_as_they_are() -> None:
    """Lists, tuples and generators keep their own order."""
    assert ordered([3, 1, 2]) == [3, 1, 2]
    assert ordered(x for x in "cab") == ["c", "a", "b"]
    assert ordered({"b": 1, "a": 2}.values()) == [1, 2]


def test_ordered_sorts_incomparable_items_by_type_then_repr() -> None:
    """Mixed types that cannot be compared are sorted by type name, then repr."""
    assert ordered({"a", 2, 1, None}) == [None, 1, 2, "a"]
    assert ordered({2: "int", "x": "str"}) == [(2, "int"), ("x", "str")]


def test_ordered_sorts_sets_of_sets_by_content() -> None:
    """Frozensets (only partially ordered by subset) are sorted by their sorted contents."""
    items = {frozenset({"b", "c"}), frozenset({"a"}), frozenset({"a", "b"})}
    assert ordered(items) == [frozenset({"a"}), frozenset({"a", "b"}), frozenset({"b", "c"})]


def test_ordered_rejects_items_whose_repr_is_an_address() -> None:
    """Incomparable objects with the default repr have no replay-stable order: TypeError."""

    class Opaque:
        pass

    with pytest.raises(TypeError, match="memory address"):
        ordered({Opaque(), Opaque()})


def test_ordered_uses_a_dataclass_repr() -> None:
    """Incomparable dataclasses are sorted by their repr, which shows their fields."""

    @dataclass(frozen=True)
    class Point:
        x: int

    assert ordered({Point(2), Point(1)}) == [Point(1), Point(2)]


def test_ordered_is_the_same_under_every_hash_seed() -> None:
    """Two interpreters with different string hash seeds give one order for the same set."""
    code = (
        "from rea._concurrency import ordered; "
        "print(list({'kiwi', 'apple', 'fig', 'date'}), ordered({'kiwi', 'apple', 'fig', 'date'}))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    raw = {line.split("] [")[0] for line in outputs}
    assert len(raw) > 1  # plain set iteration order really does change between processes
    assert {line.split("] [")[1] for line in outputs} == {"'apple', 'date', 'fig', 'kiwi']\n"}


# -- Outcome and Selected ------------------------------------------------------------------------
def test_outcome_holds_a_value() -> None:
    """A successful outcome is ok and unwraps to its value."""
    outcome = Outcome(value=42)
    assert outcome.ok
    assert outcome.unwrap() == 42
    assert outcome.error is None


def test_outcome_with_a_none_value_is_ok() -> None:
    """None is a legitimate value: an outcome is failed only when it has an error."""
    assert Outcome[None](value=None).ok


def test_outcome_holds_an_error_and_unwrap_raises_it() -> None:
    """A failed outcome is not ok, and unwrap raises its very TerminalError."""
    error = restate.TerminalError("nope", status_code=418)
    outcome: Outcome[int] = Outcome(error=error)
    assert not outcome.ok
    assert outcome.value is None
    with pytest.raises(restate.TerminalError) as raised:
        outcome.unwrap()
    assert raised.value is error


def test_outcome_cannot_hold_both() -> None:
    """A value and an error together are rejected."""
    with pytest.raises(ValueError, match="not both"):
        Outcome(value=1, error=restate.TerminalError("x"))


def test_outcome_is_frozen() -> None:
    """Outcomes are immutable."""
    outcome = Outcome(value=1)
    with pytest.raises(AttributeError):
        outcome.value = 2  # type: ignore[misc]


def test_selected_unpacks_and_matches_as_a_pair() -> None:
    """Selected unpacks as (name, value) and matches a sequence pattern."""
    name, value = Selected("timeout", None)
    assert (name, value) == ("timeout", None)
    match Selected("done", 3):
        case ("done", result):
            assert result == 3
        case _:
            pytest.fail("no match")


# -- argument checks -----------------------------------------------------------------------------
def test_map_concurrent_rejects_a_limit_below_one() -> None:
    """limit=0 is a ValueError, raised before anything starts."""
    started: list[int] = []

    def start(item: int) -> Any:
        started.append(item)

    with pytest.raises(ValueError, match="limit must be at least 1"):
        asyncio.run(map_concurrent(_Ctx(), [1, 2], start, limit=0))
    assert started == []


def test_select_needs_at_least_one_future() -> None:
    """select() without futures is a ValueError."""
    with pytest.raises(ValueError, match="at least one future"):
        asyncio.run(select(_Ctx()))


def test_gather_rejects_something_that_is_not_a_durable_future() -> None:
    """A plain value is a TypeError naming its position, not the SDK's vague TerminalError."""
    with pytest.raises(TypeError, match=r"argument 1 \(int\) is not a durable future"):
        asyncio.run(gather(_Ctx(), _future(object()), 5))  # type: ignore[arg-type]


def test_gather_explains_a_coroutine_from_rea_run() -> None:
    """An un-awaited coroutine (rea.run instead of rea.run_async) gets a hint, and is closed."""

    async def job() -> int:
        return 1

    coroutine = job()
    with pytest.raises(TypeError, match=r"use rea.run_async"):
        asyncio.run(gather(_Ctx(), coroutine))  # type: ignore[arg-type]
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning


def test_futures_of_two_contexts_are_rejected() -> None:
    """Futures from different handler contexts cannot be combined."""
    with pytest.raises(TypeError, match="same handler context"):
        asyncio.run(select(_Ctx(), a=_future(object()), b=_future(object())))


def test_fan_out_rejects_fn_results_that_are_not_futures() -> None:
    """fan_out checks what fn returned before waiting."""
    with pytest.raises(TypeError, match=r"rea\.fan_out"):
        asyncio.run(fan_out(_Ctx(), [1], lambda item: item))  # type: ignore[arg-type, return-value]


def test_empty_inputs_need_no_waiting() -> None:
    """No futures and no items give empty lists at once."""
    assert asyncio.run(gather(_Ctx())) == []
    assert asyncio.run(fan_out(_Ctx(), [], _future)) == []
    assert asyncio.run(map_concurrent(_Ctx(), [], _future, limit=2)) == []
