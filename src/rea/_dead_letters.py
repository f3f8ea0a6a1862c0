"""`rea.SagaDeadLetters`: compensations that could not be completed, kept for an operator.

A virtual object keyed by saga name, added to every app by `rea.app`. Its state outlives the
saga's invocation and the workflow's retention. An entry can be listed, inspected, retried (the
compensation runs again, durably, with the same idempotency key) or discarded; the CLI's
`rea dlq` commands call these handlers through the ingress.

Who can do what (everything rea adds to an app is reachable by whoever reaches the ingress):
- ``add`` is private to the ingress: only handlers (rea's sagas) can leave a letter.
- ``retry`` runs only a compensation that the running app declared under the letter's name
  (``@rea.compensation``), with the payload and key the saga stored: it can do no more than the
  saga itself was going to do. No module or function name is ever taken from the letter.
- ``list``, ``show``, ``retry`` and ``discard`` are public, for operators; docs/saga.md says how
  to restrict them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import restate
from pydantic import BaseModel
from restate import TerminalError

from rea import _sdk
from rea._clients import ObjectClient
from rea._compensations import Declared, lookup, name_of
from rea._run import RetryPolicy
from rea._serde import serde_for
from rea._state import StateKey

__all__ = ["DeadLetter", "SagaDeadLetters", "dead_letter"]


class DeadLetter(BaseModel):
    """A saga step whose compensation did not complete."""

    id: str
    """The compensation's idempotency key: one per saga invocation, step and occurrence."""
    saga: str
    step: str
    occurrence: int = 1
    """Which add of `step` in its saga (1 for the first)."""
    compensation: str
    """The name the compensation was declared under (``@rea.compensation``), or "" when it was
    not declared (a lambda, a closure): such a letter can be shown and discarded, not retried."""
    payload: Any = None
    idempotency_key: str
    error: str | None = None
    """Why the compensation failed; None when it was parked behind an earlier failure."""
    cause: str
    """The error that made the saga compensate."""
    origin: str
    """The invocation id of the saga."""
    retries: int = 0


SagaDeadLetters = restate.VirtualObject(
    "SagaDeadLetters",
    description="rea: saga compensations that could not be completed (key: saga name)",
)

LETTERS = StateKey("letters", dict[str, DeadLetter], default={})

logger = logging.getLogger("rea.saga")
_served = False


def served() -> None:
    """Note that an app of this process serves `SagaDeadLetters` (`rea.app` calls it)."""
    global _served
    _served = True


@SagaDeadLetters.handler(ingress_private=True)
async def add(ctx: restate.ObjectContext, letter: DeadLetter) -> None:
    """Keep `letter` (the same id twice is kept once); private: only handlers can add."""
    letters = LETTERS.bind(ctx)
    await letters.update(lambda current: {**current, letter.id: letter})


@SagaDeadLetters.handler(name="list", kind="shared")
async def list_letters(ctx: restate.ObjectSharedContext) -> list[DeadLetter]:
    """Every dead letter of this saga, oldest first."""
    return list((await LETTERS.bind(ctx).get()).values())


@SagaDeadLetters.handler(kind="shared")
async def show(ctx: restate.ObjectSharedContext, letter_id: str) -> DeadLetter | None:
    """One dead letter, or None."""
    return (await LETTERS.bind(ctx).get()).get(letter_id)


@SagaDeadLetters.handler()
async def retry(ctx: restate.ObjectContext, letter_id: str) -> str:
    """Run the compensation again; on success the dead letter is removed.

    Only a compensation the running app declared under the letter's name can run; the letter
    names no code. Unknown name: 409 and nothing runs.
    """
    letters = LETTERS.bind(ctx)
    current = await letters.get()
    letter = current.get(letter_id)
    if letter is None:
        raise TerminalError(f"no dead letter {letter_id!r} in saga {ctx.key()!r}", status_code=404)
    declared = lookup(letter.compensation)
    if declared is None:
        raise TerminalError(_not_declared(letter), status_code=409)
    from rea._saga import run_compensation

    try:
        await run_compensation(
            ctx,
            f"retry {letter.id} #{letter.retries + 1}",
            declared.fn,
            _payload_for(declared, letter.payload),
            letter.idempotency_key,
            RetryPolicy(max_attempts=3),
        )
    except TerminalError as exc:
        failed = letter.model_copy(update={"retries": letter.retries + 1, "error": exc.message})
        letters.set({**current, letter.id: failed})
        return f"failed: {exc.message}"
    letters.set({k: v for k, v in current.items() if k != letter.id})
    return "compensated"


def _not_declared(letter: DeadLetter) -> str:
    if not letter.compensation:
        return (
            f"the compensation of step {letter.step!r} was not declared, so it cannot be found "
            "again: declare compensations with @rea.compensation(saga, step) (or name=...) at "
            "module level; discard this letter once it is handled by hand"
        )
    return (
        f"this app declares no compensation named {letter.compensation!r}: serve the app that "
        "declares it (@rea.compensation), or discard the letter once it is handled by hand"
    )


@SagaDeadLetters.handler()
async def discard(ctx: restate.ObjectContext, letter_id: str) -> bool:
    """Forget a dead letter; whether it existed."""
    letters = LETTERS.bind(ctx)
    current = await letters.get()
    if letter_id not in current:
        return False
    letters.set({k: v for k, v in current.items() if k != letter_id})
    return True


def _payload_for(declared: Declared, raw: Any) -> Any:
    """The stored JSON payload rebuilt as the compensation's payload parameter type."""
    if raw is None or declared.form.payload_type is Any:
        return raw
    serde = serde_for(declared.form.payload_type)
    return serde.deserialize(serde_for(Any).serialize(raw))


_ADD = ObjectClient(add)


def dead_letter(
    ctx: restate.Context,
    *,
    saga: str,
    step: str,
    occurrence: int,
    compensation: Callable[..., Any] | None,
    payload: Any,
    key: str,
    failure: TerminalError | None,
    cause: TerminalError,
) -> None:
    """Send a dead letter for one occurrence of `step` (a journaled one-way call)."""
    letter = DeadLetter(
        id=key,
        saga=saga,
        step=step,
        occurrence=occurrence,
        compensation=name_of(compensation) if compensation is not None else "",
        payload=serde_for(Any).adapter.dump_python(payload, mode="json")  # type: ignore[attr-defined]
        if payload is not None
        else None,
        idempotency_key=key,
        error=failure.message if failure is not None else None,
        cause=f"[{cause.status_code}] {cause.message}",
        origin=ctx.request().id,
    )
    if not _served:
        # rea.app(..., dead_letters=False): nowhere to keep it, so never drop it silently.
        if not _sdk.is_replaying():
            logger.error(
                "saga %r: compensation of step %r did not complete and the app serves no "
                "SagaDeadLetters (rea.app(..., dead_letters=False)); handle it by hand: %s",
                saga,
                step,
                letter.model_dump_json(),
            )
        return
    _ADD.send(ctx, saga, letter)
