"""Compensations: their two forms, and the names under which an app declares them.

A compensation undoes one saga step. It comes in two forms, told apart by its signature:

- ``undo(payload, key)``, sync or async: a plain function, run as a durable run (`rea.run`).
  It must not use the context: a run's action is skipped on replay.
- ``async undo(ctx, payload, key)``: handler-level code that gets the context, run inline in
  the saga's handler, so that it can call other handlers (release a reservation held in a
  virtual object) and journal exactly what the hand-written Restate saga journals.

A dead letter can be retried later, by another invocation and maybe another process, so it
must find its compensation again without trusting anything stored with it. Compensations are
declared under a stable name when their module is imported (`compensation`); a dead letter
stores only that name, and a retry runs what the running app declared under it, or nothing.
No module or function name is ever taken from stored data.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rea.errors import UsageTypeError, UsageValueError

__all__ = [
    "Declared",
    "Form",
    "compensation",
    "declared_for_step",
    "form_of",
    "lookup",
    "name_of",
]

FnT = TypeVar("FnT", bound=Callable[..., Any])

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True, slots=True)
class Form:
    """How a compensation is called.

    Attributes:
        takes_context: ``undo(ctx, payload, key)`` (run inline) rather than ``undo(payload, key)``
            (run as a durable run).
        payload_type: The payload parameter's annotation (Any when there is none), to rebuild
            a dead letter's stored JSON payload.
    """

    takes_context: bool
    payload_type: Any


@dataclass(frozen=True, slots=True)
class Declared:
    """A compensation declared under a stable name when its module was imported."""

    name: str
    fn: Callable[..., Any]
    form: Form


_by_name: dict[str, Declared] = {}
_by_step: dict[tuple[str, str], Declared] = {}
_forms: dict[Any, Form] = {}
_names: dict[Callable[..., Any], str] = {}
_by_source: dict[tuple[str, int, str], str] = {}


def form_of(fn: Callable[..., Any]) -> Form:
    """The form of compensation `fn`, from its signature.

    Raises:
        TypeError: `fn` is not callable, or does not take ``(payload, key)`` or
            ``(ctx, payload, key)``.
    """
    if not callable(fn):
        raise UsageTypeError(f"a compensation must be callable, not {fn!r}")
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    cache_key = code if code is not None and not inspect.ismethod(fn) else None
    if cache_key is not None and cache_key in _forms:
        return _forms[cache_key]
    try:
        signature = inspect.signature(fn, eval_str=True)
    except (NameError, TypeError):  # unresolvable annotations: the shape is still readable
        signature = inspect.signature(fn)
    except ValueError as exc:  # no signature at all (some builtins)
        raise UsageTypeError(_shape_error(fn)) from exc
    params = list(signature.parameters.values())
    required = [p for p in params if p.kind in _POSITIONAL and p.default is p.empty]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    payload: inspect.Parameter | None
    if len(required) == 3:
        takes_context, payload = True, required[1]
    elif len(required) == 2 or (variadic and len(required) < 2):
        takes_context, payload = False, required[0] if required else None
    else:
        raise UsageTypeError(_shape_error(fn))
    if takes_context and not inspect.iscoroutinefunction(fn):
        raise UsageTypeError(
            f"the compensation {_describe(fn)} takes the context, so it must be `async def` "
            "(it awaits the calls it makes through the context)"
        )
    annotation = payload.annotation if payload is not None else inspect.Parameter.empty
    form = Form(takes_context, Any if annotation is inspect.Parameter.empty else annotation)
    if cache_key is not None:
        _forms[cache_key] = form
    return form


def _describe(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def _shape_error(fn: Callable[..., Any]) -> str:
    return (
        f"the compensation {_describe(fn)} must take (payload, key) and run as a durable run, "
        "or take (ctx, payload, key) and be `async def` to call handlers through the context"
    )


def compensation(
    saga: str | None = None, step: str | None = None, /, *, name: str | None = None
) -> Callable[[FnT], FnT]:
    """Declare a compensation under a stable name, so that its dead letters can be retried.

    ``@rea.compensation("checkout", "charge")`` declares the compensation of step ``charge`` of
    every saga named ``checkout``: ``saga.add("charge", payload)`` needs no ``register``.
    ``@rea.compensation(name="refund-card")`` declares it under an explicit name, for a
    compensation passed to ``saga.register`` (or ``saga.step(..., compensation=...)``) in
    several sagas. Declare at module level: a dead letter is retried by whatever the app
    declared under its name when its modules were imported, also after a restart.

    Args:
        saga: The saga's name, with `step`.
        step: The step's name, with `saga`.
        name: An explicit name instead of `saga` and `step`.

    Returns:
        A decorator that returns the function unchanged.

    Raises:
        TypeError: neither or both of (`saga`, `step`) and `name`; a function of neither form.
        ValueError: an empty name, or a name already declared for another function.
    """
    by_step = saga is not None or step is not None
    if by_step == (name is not None):
        raise UsageTypeError(
            "declare a compensation by saga and step, @rea.compensation('checkout', 'charge'), "
            "or by name, @rea.compensation(name='refund-card'), not both"
        )
    if by_step and not (saga and step):
        raise UsageValueError("@rea.compensation(saga, step) needs a saga name and a step name")
    if name is not None and not name.strip():
        raise UsageValueError("a compensation's name must not be empty")
    key = (saga or "", step or "")
    declared_name = name if name is not None else f"{saga}/{step}"

    def declare(fn: FnT) -> FnT:
        entry = Declared(declared_name, fn, form_of(fn))
        previous = _by_name.get(declared_name)
        if previous is not None and not _same_source(previous.fn, fn):
            raise UsageValueError(
                f"the compensation name {declared_name!r} is already declared for "
                f"{_describe(previous.fn)}; give each compensation its own name"
            )
        _by_name[declared_name] = entry
        if by_step:
            _by_step[key] = entry
        _names[fn] = declared_name
        source = _source(fn)
        if source is not None:
            _by_source[source] = declared_name
        return fn

    return declare


def _source(fn: Callable[..., Any]) -> tuple[str, int, str] | None:
    """Where `fn` is defined: the same function imported twice (``__main__``) has one source."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return code.co_filename, code.co_firstlineno, getattr(fn, "__qualname__", "")


def _same_source(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """Whether `b` is `a` again: the same function, or the same source imported twice."""
    return a is b or (_source(a) is not None and _source(a) == _source(b))


def lookup(name: str) -> Declared | None:
    """The compensation declared under `name` in this process, if any."""
    return _by_name.get(name) if name else None


def declared_for_step(saga: str, step: str) -> Declared | None:
    """The compensation declared for `step` of sagas named `saga`, if any."""
    return _by_step.get((saga, step))


def name_of(fn: Callable[..., Any]) -> str:
    """The name `fn` was declared under, or "" if it was not declared.

    An undeclared function (a lambda, a closure over one invocation's data) cannot be found
    again by a retry in another process, so its dead letters cannot be retried.
    """
    name = _names.get(fn)
    if name is None:
        source = _source(fn)
        name = _by_source.get(source, "") if source is not None else ""
    return name
