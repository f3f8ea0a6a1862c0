"""Typed state: `State` binds a name, a type and a default to a handler's context.

The SDK takes a name and a type hint on every call and gives back `None` for a missing key or
a `dict` when the hint is forgotten. `State` declares the three once; values go through rea's
pydantic serde (ints, strings, models, dataclasses, `list[Model]`...). Writes run the
``state.write_in_shared`` guard first, using the running handler's kind, so a write from a shared
or stateless handler is caught before it reaches the server.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, cast, overload

from restate.serde import Serde

from rea._invocation import base_method, checked, may_write_state
from rea._serde import serde_for

__all__ = ["State", "StateKey"]

ValueT = TypeVar("ValueT")

_MISSING: Any = object()


class State(Generic[ValueT]):
    """One state entry of the running virtual object or workflow.

    ``State(ctx, "count", int, default=0)`` is a `State[int]`; without a default, a
    `State[int | None]` whose `get` returns None for a missing key.
    """

    __slots__ = ("_ctx", "_default", "_serde", "name", "type")

    @overload
    def __init__(
        self: State[ValueT], ctx: Any, name: str, type_: type[ValueT], *, default: ValueT
    ) -> None: ...
    @overload
    def __init__(self: State[ValueT | None], ctx: Any, name: str, type_: type[ValueT]) -> None: ...
    def __init__(self, ctx: Any, name: str, type_: Any, *, default: Any = _MISSING) -> None:
        if not name:
            raise ValueError("a state name cannot be empty")
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

    def set(self, value: ValueT) -> None:
        """Store `value` (journaled, applied when the invocation's journal is)."""
        if may_write_state(self._ctx, f"State({self.name!r}).set()"):
            base_method(self._ctx, "set")(self.name, value, serde=self._serde)

    def clear(self) -> None:
        """Remove the entry; `get` returns the default afterwards."""
        if may_write_state(self._ctx, f"State({self.name!r}).clear()"):
            base_method(self._ctx, "clear")(self.name)

    async def update(self, fn: Callable[[ValueT], ValueT | Awaitable[ValueT]]) -> ValueT:
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
            raise ValueError("a state name cannot be empty")
        self.name = name
        self.type = type_
        self._default = default
        serde_for(type_)  # fail at import time, not in the first invocation

    def bind(self, ctx: Any) -> State[ValueT]:
        """The `State` for this key in the handler whose context is `ctx`."""
        if self._default is _MISSING:
            return cast(State[ValueT], State(ctx, self.name, self.type))
        return State(ctx, self.name, self.type, default=self._default)

    def __repr__(self) -> str:
        return f"StateKey({self.name!r}, {getattr(self.type, '__name__', self.type)!r})"
