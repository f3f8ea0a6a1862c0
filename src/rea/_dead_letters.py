"""`rea.SagaDeadLetters`: compensations that could not be completed, kept for an operator.

A virtual object keyed by saga name, added to every app by `rea.app`. Its state outlives the
saga's invocation and the workflow's retention. An entry can be listed, inspected, retried (the
compensation runs again, durably, with the same idempotency key) or discarded; the CLI's
`rea dlq` commands call these handlers through the ingress.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import restate
from pydantic import BaseModel
from restate import TerminalError

from rea._clients import ObjectClient
from rea._run import RetryPolicy, run
from rea._serde import serde_for
from rea._state import StateKey

__all__ = ["DeadLetter", "SagaDeadLetters", "dead_letter"]


class DeadLetter(BaseModel):
    """A saga step whose compensation did not complete."""

    id: str
    saga: str
    step: str
    compensation: str
    """``module:qualname`` of the compensation, or "" if it cannot be imported (a lambda)."""
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
_registry: dict[str, Callable[..., Any]] = {}


def _reference(fn: Callable[..., Any]) -> str:
    qualname = getattr(fn, "__qualname__", "")
    module = getattr(fn, "__module__", None)
    if not module or not qualname or "<" in qualname:
        return ""
    reference = f"{module}:{qualname}"
    _registry[reference] = fn
    return reference


def _resolve(reference: str) -> Callable[..., Any] | None:
    if not reference:
        return None
    if reference in _registry:
        return _registry[reference]
    module_name, _, qualname = reference.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return None
    return target if callable(target) else None


@SagaDeadLetters.handler()
async def add(ctx: restate.ObjectContext, letter: DeadLetter) -> None:
    """Keep `letter` (the same id twice is kept once)."""
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
    """Run the compensation again; on success the dead letter is removed."""
    letters = LETTERS.bind(ctx)
    current = await letters.get()
    letter = current.get(letter_id)
    if letter is None:
        raise TerminalError(f"no dead letter {letter_id!r} in saga {ctx.key()!r}", status_code=404)
    compensation = _resolve(letter.compensation)
    if compensation is None:
        where = letter.compensation or "not importable: define compensations at module level"
        raise TerminalError(
            f"the compensation of {letter.step!r} cannot be found ({where}); "
            "discard the letter instead",
            status_code=409,
        )
    payload = _payload_for(compensation, letter.payload)
    from rea._saga import _as_action

    try:
        await run(
            ctx,
            f"retry {letter.id} #{letter.retries + 1}",
            _as_action(compensation),
            payload,
            letter.idempotency_key,
            retry=RetryPolicy(max_attempts=3),
        )
    except TerminalError as exc:
        failed = letter.model_copy(update={"retries": letter.retries + 1, "error": exc.message})
        letters.set({**current, letter.id: failed})
        return f"failed: {exc.message}"
    letters.set({k: v for k, v in current.items() if k != letter.id})
    return "compensated"


@SagaDeadLetters.handler()
async def discard(ctx: restate.ObjectContext, letter_id: str) -> bool:
    """Forget a dead letter; whether it existed."""
    letters = LETTERS.bind(ctx)
    current = await letters.get()
    if letter_id not in current:
        return False
    letters.set({k: v for k, v in current.items() if k != letter_id})
    return True


def _payload_for(compensation: Callable[..., Any], raw: Any) -> Any:
    """The stored JSON payload rebuilt as the compensation's first parameter type."""
    params = list(inspect.signature(compensation, eval_str=True).parameters.values())
    if not params or params[0].annotation is inspect.Parameter.empty:
        return raw
    serde = serde_for(params[0].annotation)
    return serde.deserialize(serde_for(Any).serialize(raw)) if raw is not None else None


_ADD = ObjectClient(add)


def dead_letter(
    ctx: Any,
    saga: str,
    step: str,
    compensation: Callable[..., Any],
    payload: Any,
    key: str,
    failure: TerminalError | None,
    cause: TerminalError,
) -> None:
    """Send a dead letter for `step` (a journaled one-way call; nothing is awaited)."""
    letter = DeadLetter(
        id=key,
        saga=saga,
        step=step,
        compensation=_reference(compensation),
        payload=serde_for(Any).adapter.dump_python(payload, mode="json")  # type: ignore[attr-defined]
        if payload is not None
        else None,
        idempotency_key=key,
        error=failure.message if failure is not None else None,
        cause=f"[{cause.status_code}] {cause.message}",
        origin=ctx.request().id,
    )
    _ADD.send(ctx, saga, letter)
