"""Typed state: `State` binds a name, a type and a default to a handler's context.

The SDK takes a name and a type hint on every call and gives back `None` for a missing key or
a `dict` when the hint is forgotten. `State` declares the three once; values go through rea's
pydantic serde (ints, strings, models, dataclasses, `list[Model]`...). Writes run the
``state.write_in_shared`` guard first, using the running handler's kind, so a write from a shared
or stateless handler is caught before it reaches the server.

The context's type says what a handler may do, so mypy says it too: `State` is generic in the
context it was built from, reads take any keyed context (exclusive or shared, objects and
workflows), and `set`, `clear` and `update` need an exclusive one (`restate.ObjectContext`, so
also `restate.WorkflowContext`).

Writes are also measured when the running handler has a state-size threshold
(``rea.WorkflowConfig(state_size_warning=...)``): a value above it is the ``state.too_large``
violation, reported once per service and key.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar, Token
from typing import Any, Generic, cast, overload

import restate
from typing_extensions import TypeVar

from rea import _sdk
from rea._invocation import base_method, checked, may_write_state
from rea._policy import Policy, get_policy, violation
from rea._sdk import BytesSerde, Serde
from rea._serde import serde_for
from rea.errors import UsageValueError

__all__ = [
    "KeyedContext",
    "State",
    "StateKey",
    "check_state_size",
    "measuring_state_size",
    "state_size_limit",
]

#: The contexts of handlers that have state: virtual objects and workflows, exclusive or shared.
KeyedContext = restate.ObjectContext | restate.ObjectSharedContext

ValueT = TypeVar("ValueT")
#: The context a `State` was bound to; covariant, so that a `State` of a workflow's context is
#: also one of an object's. The default keeps ``State[int]`` a valid annotation (any context).
ContextT = TypeVar("ContextT", bound=KeyedContext, default=KeyedContext, covariant=True)
BoundT = TypeVar("BoundT", bound=KeyedContext)

_MISSING: Any = object()
_RAW = BytesSerde()

#: The running handler's state-size threshold: (service name, bytes); None: not measured.
_size_limit: ContextVar[tuple[str, int] | None] = ContextVar("rea_state_size", default=None)
_oversized: set[tuple[str, str]] = set()
_oversized_lock = threading.Lock()


class _SizeLimitScope:
    """Sets the state-size threshold for one attempt of a handler."""

    __slots__ = ("_limit", "_token")

    def __init__(self, limit: tuple[str, int]) -> None:
        self._limit = limit

    async def __aenter__(self) -> None:
        self._token: Token[tuple[str, int] | None] = _size_limit.set(self._limit)

    async def __aexit__(self, *exc_info: object) -> None:
        _size_limit.reset(self._token)


def state_size_limit(service: str, limit: int) -> Callable[[], AbstractAsyncContextManager[None]]:
    """A per-attempt context manager factory: measure rea's state writes against `limit` bytes.

    Args:
        service: The service whose handler it wraps (named in the report).
        limit: The threshold in bytes; a serialized value longer than this is reported.

    Returns:
        A factory for the SDK's ``invocation_context_managers``.
    """
    pair = (service, limit)
    return lambda: _SizeLimitScope(pair)


def measuring_state_size() -> bool:
    """Whether the running handler has a state-size threshold (then writers pass bytes)."""
    return _size_limit.get() is not None


def check_state_size(name: str, data: bytes) -> None:
    """Report `data`, about to be stored as state `name`, if it is above the threshold.

    Under WARN the report is one log line per service and key (never on replay) and the write
    goes ahead: Restate stores it, the threshold is advice. Under STRICT every such write
    raises, before anything is written.

    Raises:
        PolicyViolation: the value is above the threshold and the policy is STRICT.
    """
    limit = _size_limit.get()
    if limit is None or len(data) <= limit[1]:
        return
    service, threshold = limit
    seen = (service, name)
    policy = get_policy()
    if policy is Policy.DISABLED:
        return
    if policy is Policy.WARN:
        with _oversized_lock:
            if seen in _oversized:
                return
            # Not on replay: the first report must be one that is logged.
            if not _sdk.is_replaying():
                _oversized.add(seen)
    violation(
        "state.too_large",
        f"state {name!r} of {service} is {len(data):,} bytes, above the state-size warning "
        f"of {threshold:,} bytes; Restate loads a workflow's or object's state with every "
        "invocation, so large values slow down each one",
        fix="keep large data outside Restate state and store a reference to it, keep less "
        "(rea.WorkflowStatus(..., max_steps=N) bounds a step history), or raise "
        "rea.WorkflowConfig(state_size_warning=...)",
        policy=policy,
    )


class State(Generic[ValueT, ContextT]):
    """One state entry of the running virtual object or workflow.

    ``State(ctx, "count", int, default=0)`` is a `State[int]`; without a default, a
    `State[int | None]` whose `get` returns None for a missing key. Its second type parameter
    is the context's type: `set`, `clear` and `update` need a `restate.ObjectContext` (or a
    `restate.WorkflowContext`), so mypy reports writes from shared handlers.
    """

    __slots__ = ("_ctx", "_default", "_serde", "name", "type")

    @overload
    def __init__(
        self: State[ValueT, ContextT],
        ctx: ContextT,
        name: str,
        type_: type[ValueT],
        *,
        default: ValueT,
    ) -> None: ...
    @overload
    def __init__(
        self: State[ValueT | None, ContextT], ctx: ContextT, name: str, type_: type[ValueT]
    ) -> None: ...
    def __init__(self, ctx: Any, name: str, type_: Any, *, default: Any = _MISSING) -> None:
        if not name:
            raise UsageValueError("a state name cannot be empty")
        self._ctx = ctx
        self.name = name
        self.type = type_
        self._default = None if default is _MISSING else default
        self._serde: Serde[Any] = serde_for(type_)

    async def get(self) -> ValueT:
        """The stored value, or (a copy of) the default when the key is missing."""
        checked(self._ctx, f"State({self.name!r}).get()")
        value = await base_method(self._ctx, "get")(self.name, serde=self._serde)
        if value is None:
            # A copy, so that mutating a returned default never changes the declared one.
            return cast(ValueT, copy.deepcopy(self._default))
        return cast(ValueT, value)

    def set(self: State[ValueT, restate.ObjectContext], value: ValueT) -> None:
        """Store `value` (journaled, applied when the invocation's journal is)."""
        if not may_write_state(self._ctx, f"State({self.name!r}).set()"):
            return
        if not measuring_state_size():
            base_method(self._ctx, "set")(self.name, value, serde=self._serde)
            return
        # Serialized once, here, to be measured: the SDK stores exactly these bytes.
        data = self._serde.serialize(value)
        check_state_size(self.name, data)
        base_method(self._ctx, "set")(self.name, data, serde=_RAW)

    def clear(self: State[ValueT, restate.ObjectContext]) -> None:
        """Remove the entry; `get` returns the default afterwards."""
        if may_write_state(self._ctx, f"State({self.name!r}).clear()"):
            base_method(self._ctx, "clear")(self.name)

    async def update(
        self: State[ValueT, restate.ObjectContext],
        fn: Callable[[ValueT], ValueT | Awaitable[ValueT]],
    ) -> ValueT:
        """Read, apply `fn`, write back; return the new value.

        Atomic in an exclusive handler, which holds the object's lock for the whole invocation.
        `fn` may be sync or async; it must be deterministic (it runs again on replay).
        """
        new = fn(await self.get())
        if isinstance(new, Awaitable):
            new = await new
        self.set(new)
        return new

    def __repr__(self) -> str:
        return f"State({self.name!r}, {getattr(self.type, '__name__', self.type)!r})"


class StateKey(Generic[ValueT]):
    """A state entry declared once (at module level), bound to a context per handler call.

    ``COUNT = StateKey("count", int, default=0)`` then ``await COUNT.bind(ctx).get()``.
    """

    __slots__ = ("_default", "name", "type")

    @overload
    def __init__(
        self: StateKey[ValueT], name: str, type_: type[ValueT], *, default: ValueT
    ) -> None: ...
    @overload
    def __init__(self: StateKey[ValueT | None], name: str, type_: type[ValueT]) -> None: ...
    def __init__(self, name: str, type_: Any, *, default: Any = _MISSING) -> None:
        if not name:
            raise UsageValueError("a state name cannot be empty")
        self.name = name
        self.type = type_
        self._default = default
        serde_for(type_)  # fail at import time, not in the first invocation

    def bind(self, ctx: BoundT) -> State[ValueT, BoundT]:
        """The `State` for this key in the handler whose context is `ctx`.

        Args:
            ctx: The context of a virtual object or workflow handler; a shared one can read.

        Returns:
            The bound state entry, typed by the context (writes need an exclusive one).
        """
        if self._default is _MISSING:
            return cast(State[ValueT, BoundT], State(ctx, self.name, self.type))
        return State(ctx, self.name, self.type, default=self._default)

    def __repr__(self) -> str:
        return f"StateKey({self.name!r}, {getattr(self.type, '__name__', self.type)!r})"
