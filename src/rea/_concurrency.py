"""Concurrency over durable futures: gather, fan-out, bounded maps, named races, stable order.

Every helper waits through the SDK's combinators (`restate.gather`, `restate.wait_completed`),
never through asyncio tasks. The SDK's core takes completions from the journal one at a time,
in journal order, and only when a wait needs one; so which futures count as completed at each
wait is the same on every replay, and so is what a helper does next. Callers keep their half
of the bargain: futures are created in a fixed order (calls are journaled when created), and
collections of unknown order are iterated through `ordered`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar, cast, overload

import restate
from restate import DurablePromise, RestateDurableFuture, TerminalError

from rea import _sdk
from rea._invocation import checked
from rea.errors import UsageTypeError, UsageValueError

__all__ = ["Outcome", "Selected", "fan_out", "gather", "map_concurrent", "ordered", "select"]

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")
KeyT = TypeVar("KeyT")
ValueT = TypeVar("ValueT")


@dataclass(frozen=True)
class Outcome(Generic[ResultT]):
    """One item's result in `fan_out`: its value, or the `TerminalError` it failed with.

    Attributes:
        value: The value (None when the item failed).
        error: The terminal error (None when the item succeeded).
    """

    value: ResultT | None = None
    error: TerminalError | None = None

    def __post_init__(self) -> None:
        if self.error is not None and self.value is not None:
            raise UsageValueError("an Outcome holds a value or an error, not both")

    @property
    def ok(self) -> bool:
        """Whether the item succeeded."""
        return self.error is None

    def unwrap(self) -> ResultT:
        """The value.

        Raises:
            TerminalError: The item's error, when it failed.
        """
        if self.error is not None:
            raise self.error
        return cast(ResultT, self.value)


class Selected(NamedTuple, Generic[ResultT]):
    """The winner of `select`: its keyword name and its value (unpacks as ``name, value``)."""

    name: str
    value: ResultT


def _durable(futures: Sequence[object], operation: str) -> list[RestateDurableFuture[Any]]:
    """`futures`, checked: fail clearly where the SDK would fail with a vague `TerminalError`."""
    context: object = None
    for position, future in enumerate(futures):
        owner = _sdk.future_context(future)
        if owner is None:
            hint = ""
            if isinstance(future, DurablePromise):
                hint = " (a DurablePromise: pass promise.value())"
            elif inspect.iscoroutine(future):
                # Most likely `rea.run(...)` where `rea.run_async(...)` was meant; nothing of it
                # is journaled until awaited, so closing it loses nothing (and mutes a warning).
                future.close()
                hint = " (a coroutine: use rea.run_async, not rea.run, to get a future)"
            raise UsageTypeError(
                f"{operation}: argument {position} ({type(future).__name__}) is not a durable "
                f"future of the handler's context{hint}"
            )
        if context is None:
            context = owner
        elif owner is not context:
            raise UsageTypeError(
                f"{operation}: all futures must come from the same handler context"
            )
    return cast(list[RestateDurableFuture[Any]], list(futures))


async def gather(ctx: restate.Context, *futures: Awaitable[ResultT]) -> list[ResultT]:
    """Wait for every future, then return their values in argument order.

    Args:
        ctx: The handler's context.
        futures: Durable futures of that context (calls, runs from `rea.run_async`, sleeps...).

    Returns:
        The values, in argument order.

    Raises:
        TerminalError: The first failure in argument order, once all futures have completed.
        TypeError: An argument is not a durable future of the context.
    """
    checked(ctx, "rea.gather()")
    # restate.gather waits for all and hands back the futures themselves, not their values.
    await restate.gather(*_durable(futures, "rea.gather()"))
    return [await future for future in futures]


async def fan_out(
    ctx: restate.Context,
    items: Iterable[ItemT],
    fn: Callable[[ItemT], RestateDurableFuture[ResultT]],
) -> list[Outcome[ResultT]]:
    """Start `fn(item)` for every item at once, wait for all, and return every outcome.

    Args:
        ctx: The handler's context.
        items: The inputs, iterated once in order (use `ordered` for sets and mappings).
        fn: Starts the work for one item and returns its durable future (e.g. a call).

    Returns:
        One `Outcome` per item, in input order: its value, or its `TerminalError`.

    Raises:
        TypeError: `fn` returned something other than a durable future of the context.
        Exception: Anything `fn` itself raises; only failures of the futures become outcomes.
    """
    checked(ctx, "rea.fan_out()")
    # All started up front, in input order: that order is the journal's order.
    futures = [fn(item) for item in items]
    await restate.gather(*_durable(futures, "rea.fan_out()"))
    outcomes: list[Outcome[ResultT]] = []
    for future in futures:
        # Only terminal failures are outcomes. The SDK's suspension and internal exceptions
        # derive from BaseException and pass through; so does anything non-terminal.
        try:
            outcomes.append(Outcome(value=await future))
        except TerminalError as error:
            outcomes.append(Outcome(error=error))
    return outcomes


async def map_concurrent(
    ctx: restate.Context,
    items: Iterable[ItemT],
    fn: Callable[[ItemT], RestateDurableFuture[ResultT]],
    *,
    limit: int,
) -> list[ResultT]:
    """Apply `fn` to every item with at most `limit` futures in flight; values in input order.

    Items start in input order; whenever some in-flight futures complete, as many new items
    start. Fail-fast: on the first failure seen, nothing more is started or waited for, and
    the error is raised; futures still in flight are not cancelled (their calls run to the
    end on their own).

    Args:
        ctx: The handler's context.
        items: The inputs, iterated lazily and once, in order.
        fn: Starts the work for one item and returns its durable future.
        limit: The most futures in flight at any time; at least 1.

    Returns:
        The values, in input order.

    Raises:
        TerminalError: The first failure (the lowest input position among those completing
            together).
        ValueError: `limit` is below 1.
        TypeError: `fn` returned something other than a durable future of the context.
    """
    checked(ctx, "rea.map_concurrent()")
    if limit < 1:
        raise UsageValueError(f"rea.map_concurrent(): limit must be at least 1, not {limit}")
    pending = enumerate(items)
    results: list[ResultT | None] = []
    in_flight: list[tuple[int, RestateDurableFuture[ResultT]]] = []
    exhausted = False
    while True:
        while not exhausted and len(in_flight) < limit:
            try:
                index, item = next(pending)
            except StopIteration:
                exhausted = True
                break
            future = fn(item)
            _durable([*(f for _, f in in_flight), future], "rea.map_concurrent()")
            results.append(None)
            in_flight.append((index, future))
        if not in_flight:
            return cast(list[ResultT], results)
        # wait_completed records nothing itself, but the core takes completions strictly in
        # journal order, so the same futures come back as completed on every replay.
        completed, _ = await restate.wait_completed(*(future for _, future in in_flight))
        done = {id(future) for future in completed}
        still: list[tuple[int, RestateDurableFuture[ResultT]]] = []
        for index, future in in_flight:
            if id(future) in done:
                results[index] = await future  # a TerminalError here ends the map (fail-fast)
            else:
                still.append((index, future))
        in_flight = still


async def select(ctx: restate.Context, **futures: Awaitable[ResultT]) -> Selected[ResultT]:
    """Race named futures: the first to complete wins (the earliest name, on a tie).

    Args:
        ctx: The handler's context.
        futures: The contestants by name, e.g. ``done=call, timeout=ctx.sleep(...)``.

    Returns:
        The winner's name and value; ``match`` it as ``case ("timeout", _):``.

    Raises:
        TerminalError: The winner failed (its own error).
        ValueError: No futures were given.
        TypeError: An argument is not a durable future of the context.
    """
    checked(ctx, "rea.select()")
    if not futures:
        raise UsageValueError("rea.select(): give at least one future, e.g. select(ctx, done=call)")
    named = list(futures.items())
    completed, _ = await restate.wait_completed(*_durable(list(futures.values()), "rea.select()"))
    done = {id(future) for future in completed}
    # Several can complete together (e.g. both already done): keyword order breaks the tie.
    name, winner = next((name, future) for name, future in named if id(future) in done)
    return Selected(name, await winner)


def _fallback_key(item: object) -> tuple[str, Any]:
    """A sort key for items without a total order: type name, then value, contents or repr."""
    kind = type(item)
    name = f"{kind.__module__}.{kind.__qualname__}"
    # Second parts are only compared between items of the same type, so they need not mix.
    if kind in (int, float, str, bytes):
        return (name, item)
    if isinstance(item, AbstractSet):
        # Sets are only partially ordered (by subset), and their repr follows hash order.
        return (name, tuple(_fallback_key(element) for element in ordered(item)))
    if kind.__repr__ is object.__repr__:
        raise UsageTypeError(
            f"rea.ordered(): {kind.__qualname__} items cannot be compared and their repr holds "
            "a memory address, so no order is the same on every replay; give the class __lt__ "
            "(e.g. @dataclass(order=True)) or a __repr__, or sort the items yourself"
        )
    return (name, repr(item))


def _sort(items: list[ValueT], key: Callable[[ValueT], Any]) -> list[ValueT]:
    """`items` sorted by `key`, natural order first, the type-and-repr order if incomparable."""
    if not any(isinstance(key(item), AbstractSet) for item in items):
        try:
            return sorted(items, key=key)
        except TypeError:
            pass
    return sorted(items, key=lambda item: _fallback_key(key(item)))


@overload
def ordered(collection: Mapping[KeyT, ValueT]) -> list[tuple[KeyT, ValueT]]: ...
@overload
def ordered(collection: AbstractSet[ItemT]) -> list[ItemT]: ...
@overload
def ordered(collection: Iterable[ItemT]) -> list[ItemT]: ...
def ordered(collection: Iterable[Any]) -> list[Any]:
    """A list of `collection` in an order that is the same in every process and replay.

    Set iteration order depends on hashing (for strings, randomised per process), so starting
    one call per element of a set would journal them in a different order on another attempt.

    Args:
        collection: A mapping, a set, or any other iterable.

    Returns:
        For a mapping, its ``(key, value)`` pairs sorted by key; for a set (and a dict's keys or
        items view), its elements sorted; anything else as ``list(collection)``. Items that
        cannot be compared are sorted by type name, then by value (numbers, strings), by
        contents (sets) or by repr.

    Raises:
        TypeError: Incomparable items whose repr is the default (it holds a memory address).
    """
    if isinstance(collection, Mapping):
        return _sort(list(collection.items()), key=lambda pair: pair[0])
    if isinstance(collection, AbstractSet):
        return _sort(list(collection), key=lambda item: item)
    return list(collection)
