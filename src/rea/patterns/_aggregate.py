"""`rea.aggregate`: fan-in of named durable futures under a partial-failure policy.

Like `rea.gather` and friends, it waits only through the SDK's combinators
(`restate.gather`, `restate.wait_completed`), never through asyncio tasks: the SDK takes
completions from the journal one at a time, in journal order, so which futures count as
completed at each wait, and so what `aggregate` returns or raises, is the same on every
replay. Futures completing in the same wait are looked at in the mapping's insertion order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import restate
from restate import RestateDurableFuture, TerminalError

from rea._concurrency import _durable
from rea._invocation import checked
from rea.errors import ReaError, UsageTypeError, UsageValueError

__all__ = ["AggregateFailed", "Aggregated", "Quorum", "aggregate"]

ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Quorum:
    """The policy "succeed as soon as `n` futures succeeded; fail once `n` cannot succeed".

    Attributes:
        n: How many successes are enough; at least 1, at most the number of futures.
    """

    n: int

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise UsageValueError(f"rea.Quorum(n): n must be an int of at least 1, not {self.n!r}")


AggregatePolicy = Literal["all", "best_effort"] | Quorum


class Aggregated(Mapping[str, ResultT]):
    """What `aggregate` returns: a mapping of the values by name, plus the errors and the rest.

    As a mapping it holds the futures that succeeded (``result["price"]``, ``dict(result)``),
    in the input's insertion order.

    Attributes:
        errors: The terminal errors of the futures that failed, by name, in insertion order.
        pending: Names not waited for (a quorum reached before they completed); their calls
            go on running.
    """

    __slots__ = ("_values", "errors", "pending")

    def __init__(
        self,
        values: dict[str, ResultT],
        errors: dict[str, TerminalError],
        pending: tuple[str, ...] = (),
    ) -> None:
        self._values = values
        self.errors = errors
        self.pending = pending

    @property
    def ok(self) -> bool:
        """Whether no future failed."""
        return not self.errors

    def __getitem__(self, name: str) -> ResultT:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        errors = {name: error.message for name, error in self.errors.items()}
        return f"Aggregated(values={self._values!r}, errors={errors!r}, pending={self.pending!r})"


class AggregateFailed(ReaError, TerminalError):
    """The policy could not be met (terminal; the status of the first failure by name).

    Attributes:
        errors: The failures seen, by name, in insertion order.
        succeeded: The values that had arrived by then, by name.
    """

    def __init__(
        self, reason: str, errors: dict[str, TerminalError], succeeded: dict[str, Any]
    ) -> None:
        listed = "; ".join(
            f"{name!r}: [{error.status_code}] {error.message}" for name, error in errors.items()
        )
        first = next(iter(errors.values()))
        TerminalError.__init__(self, f"rea.aggregate(): {reason}: {listed}", first.status_code)
        self.errors = errors
        self.succeeded = succeeded

    def __str__(self) -> str:
        return self.message


def _policy_of(policy: object, total: int) -> AggregatePolicy:
    if policy in ("all", "best_effort"):
        return policy
    if isinstance(policy, Quorum):
        if policy.n > total:
            raise UsageValueError(
                f"rea.aggregate(): Quorum({policy.n}) can never be met by {total} futures"
            )
        return policy
    raise UsageValueError(
        f"rea.aggregate(): policy must be 'all', 'best_effort' or rea.Quorum(n), not {policy!r}"
    )


async def _settle(
    named: list[tuple[str, RestateDurableFuture[Any]]],
    done: set[int],
    values: dict[str, Any],
    errors: dict[str, TerminalError],
) -> None:
    """Move the futures in `done` (by id) into `values` or `errors`, in insertion order."""
    for name, future in named:
        if id(future) in done and name not in values and name not in errors:
            # Only terminal failures are results; the SDK's suspensions (BaseException) and
            # anything non-terminal pass through.
            try:
                values[name] = await future
            except TerminalError as error:
                errors[name] = error


async def aggregate(
    ctx: restate.Context,
    futures: Mapping[str, Awaitable[ResultT]],
    *,
    policy: AggregatePolicy = "all",
) -> Aggregated[ResultT]:
    """Wait for named durable futures under a partial-failure policy.

    Args:
        ctx: The handler's context.
        futures: The futures by name (calls, `rea.run_async` runs...), all of this context;
            create them in a fixed order, which is also the order of the result.
        policy: ``"all"`` (all-or-nothing: the first failure raises at once),
            ``"best_effort"`` (wait for all; values and errors by name), or ``rea.Quorum(n)``
            (return as soon as `n` succeeded; raise as soon as `n` can no longer succeed).

    Returns:
        The values by name in insertion order, with `errors` and `pending` (see `Aggregated`).
        Under ``"all"`` every future succeeded; under a quorum at least `n` did.

    Raises:
        AggregateFailed: ``"all"``: a future failed (the first by name among those failing
            together); a quorum: too many failed. Terminal, with the first failure's status.
        UsageValueError: An unknown policy, or a quorum above the number of futures.
        UsageTypeError: A name that is not a str, or a value that is not a durable future of
            the context.
    """
    checked(ctx, "rea.aggregate()")
    named = list(futures.items())
    for name, _ in named:
        if not isinstance(name, str):
            raise UsageTypeError(f"rea.aggregate(): names must be str, not {name!r}")
    chosen = _policy_of(policy, len(named))
    durable = _durable([future for _, future in named], "rea.aggregate()")
    pairs = [(name, future) for (name, _), future in zip(named, durable, strict=True)]
    values: dict[str, Any] = {}
    errors: dict[str, TerminalError] = {}
    if chosen == "best_effort" or not pairs:
        await restate.gather(*durable)
        await _settle(pairs, {id(future) for future in durable}, values, errors)
        return Aggregated(values, errors)
    need = chosen.n if isinstance(chosen, Quorum) else len(pairs)
    allowed_failures = len(pairs) - need
    waiting = list(durable)
    while waiting:
        completed, rest = await restate.wait_completed(*waiting)
        await _settle(pairs, {id(future) for future in completed}, values, errors)
        waiting = list(rest)
        if len(errors) > allowed_failures:
            reason = "a future failed" if chosen == "all" else f"Quorum({need}) cannot be met"
            raise AggregateFailed(reason, errors, _in_order(pairs, values))
        if len(values) >= need:
            break
    pending = tuple(name for name, _ in pairs if name not in values and name not in errors)
    return Aggregated(_in_order(pairs, values), _in_order(pairs, errors), pending)


def _in_order(pairs: list[tuple[str, Any]], found: dict[str, Any]) -> dict[str, Any]:
    """`found` re-keyed in the input's insertion order (completions arrive in any order)."""
    return {name: found[name] for name, _ in pairs if name in found}
