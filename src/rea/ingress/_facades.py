"""Typed facades on one handler: ``client.service(...)``, ``.object(...)``, ``.workflow(...)``.

One class per kind serves both clients. The mode parameter (`Async` or `Sync`) picks each
method's overload: on `rea.IngressClient` it returns a coroutine, on `rea.SyncIngressClient` the
value itself. Every method builds its request with `_protocol` and hands it to the client's
``_perform``, so the facades hold no I/O and no logic of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from typing import Any, Generic, TypeAlias, TypedDict, TypeVar, Unpack, overload

from rea._http import Request
from rea.ingress import _protocol as proto
from rea.ingress._core import Async, Output, SendResult, Sync

__all__ = [
    "CallOptions",
    "Co",
    "HeaderOptions",
    "IngressObject",
    "IngressService",
    "SendOptions",
    "SubmitOptions",
]

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
ModeT = TypeVar("ModeT", Async, Sync)
T = TypeVar("T")

Co: TypeAlias = Coroutine[Any, Any, T]
Perform: TypeAlias = Callable[[Request[Any]], Any]


class HeaderOptions(TypedDict, total=False):
    """Options of every request that runs a handler."""

    headers: Mapping[str, str] | None
    """Extra headers, passed on to the handler (``ctx.request().headers``)."""


class CallOptions(HeaderOptions, total=False):
    """Options of calls."""

    idempotency_key: str | None
    """Deduplicates the invocation (for a day by default); makes retries safe."""


class SendOptions(CallOptions, total=False):
    """Options of sends."""

    delay: timedelta | str | None
    """Run it this much later: a timedelta, or ``"10s"``, ``"500ms"``, ``"PT1M"``."""


class SubmitOptions(HeaderOptions, total=False):
    """Options of workflow submits (the workflow id already deduplicates them)."""

    delay: timedelta | str | None
    """Start the run this much later."""


class _Facade(Generic[InputT, OutputT, ModeT]):
    __slots__ = ("_perform", "_target")

    def __init__(self, perform: Perform, target: proto.Target) -> None:
        self._perform = perform
        self._target = target

    @property
    def target(self) -> str:
        """``"Service/handler"``."""
        return self._target.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._target.name}>"


class IngressService(_Facade[InputT, OutputT, ModeT]):
    """One handler of a service, called from outside Restate."""

    __slots__ = ()

    @overload
    def call(
        self: IngressService[InputT, OutputT, Async],
        input: InputT = ...,
        **options: Unpack[CallOptions],
    ) -> Co[OutputT]: ...
    @overload
    def call(
        self: IngressService[InputT, OutputT, Sync],
        input: InputT = ...,
        **options: Unpack[CallOptions],
    ) -> OutputT: ...
    def call(self, input: Any = proto.NO_INPUT, **options: Unpack[CallOptions]) -> Any:
        """Call the handler and wait for its result.

        Args:
            input: The handler's input (leave it out for handlers without one).
            options: ``idempotency_key``, ``headers``.

        Returns:
            The handler's result.

        Raises:
            InvocationFailed: the handler ended with a terminal error.
            IngressRejected: Restate refused the call (`UnknownTarget`, `BadRequest`...).
            IngressUnavailable: no answer (retried only with an idempotency key).
        """
        return self._perform(proto.invoke(self._target, None, input, **options))

    @overload
    def send(
        self: IngressService[InputT, OutputT, Async],
        input: InputT = ...,
        **options: Unpack[SendOptions],
    ) -> Co[SendResult]: ...
    @overload
    def send(
        self: IngressService[InputT, OutputT, Sync],
        input: InputT = ...,
        **options: Unpack[SendOptions],
    ) -> SendResult: ...
    def send(self, input: Any = proto.NO_INPUT, **options: Unpack[SendOptions]) -> Any:
        """Start the handler without waiting (optionally after ``delay``).

        Returns:
            The invocation id, and whether it was new or found by its idempotency key.
        """
        return self._perform(proto.invoke(self._target, None, input, send=True, **options))

    @overload
    def attach(
        self: IngressService[InputT, OutputT, Async], *, idempotency_key: str
    ) -> Co[OutputT]: ...
    @overload
    def attach(self: IngressService[InputT, OutputT, Sync], *, idempotency_key: str) -> OutputT: ...
    def attach(self, *, idempotency_key: str) -> Any:
        """Wait for the result of the invocation started with `idempotency_key`.

        Raises:
            UnknownTarget: no invocation of this handler has that key (any more).
        """
        path, what = proto.invocation_path(self._target, None, idempotency_key)
        return self._perform(proto.attach(path, self._target.endpoint.output_serde, what))

    @overload
    def output(
        self: IngressService[InputT, OutputT, Async], *, idempotency_key: str
    ) -> Co[Output[OutputT]]: ...
    @overload
    def output(
        self: IngressService[InputT, OutputT, Sync], *, idempotency_key: str
    ) -> Output[OutputT]: ...
    def output(self, *, idempotency_key: str) -> Any:
        """The result of the invocation started with `idempotency_key`, if it finished.

        Returns:
            ``Output(ready=False)`` while it runs, else ``Output(ready=True, value=...)``.
        """
        path, what = proto.invocation_path(self._target, None, idempotency_key)
        return self._perform(proto.output(path, self._target.endpoint.output_serde, what))


class IngressObject(_Facade[InputT, OutputT, ModeT]):
    """One handler of a virtual object; every method takes the object's key first."""

    __slots__ = ()

    @overload
    def call(
        self: IngressObject[InputT, OutputT, Async],
        key: str,
        input: InputT = ...,
        **options: Unpack[CallOptions],
    ) -> Co[OutputT]: ...
    @overload
    def call(
        self: IngressObject[InputT, OutputT, Sync],
        key: str,
        input: InputT = ...,
        **options: Unpack[CallOptions],
    ) -> OutputT: ...
    def call(self, key: str, input: Any = proto.NO_INPUT, **options: Unpack[CallOptions]) -> Any:
        """Call the handler of object `key` and wait for its result (see `IngressService.call`)."""
        return self._perform(proto.invoke(self._target, key, input, **options))

    @overload
    def send(
        self: IngressObject[InputT, OutputT, Async],
        key: str,
        input: InputT = ...,
        **options: Unpack[SendOptions],
    ) -> Co[SendResult]: ...
    @overload
    def send(
        self: IngressObject[InputT, OutputT, Sync],
        key: str,
        input: InputT = ...,
        **options: Unpack[SendOptions],
    ) -> SendResult: ...
    def send(self, key: str, input: Any = proto.NO_INPUT, **options: Unpack[SendOptions]) -> Any:
        """Start the handler of object `key` without waiting (see `IngressService.send`)."""
        return self._perform(proto.invoke(self._target, key, input, send=True, **options))

    @overload
    def attach(
        self: IngressObject[InputT, OutputT, Async], key: str, *, idempotency_key: str
    ) -> Co[OutputT]: ...
    @overload
    def attach(
        self: IngressObject[InputT, OutputT, Sync], key: str, *, idempotency_key: str
    ) -> OutputT: ...
    def attach(self, key: str, *, idempotency_key: str) -> Any:
        """Wait for the result of the invocation on object `key` started with `idempotency_key`."""
        path, what = proto.invocation_path(self._target, key, idempotency_key)
        return self._perform(proto.attach(path, self._target.endpoint.output_serde, what))

    @overload
    def output(
        self: IngressObject[InputT, OutputT, Async], key: str, *, idempotency_key: str
    ) -> Co[Output[OutputT]]: ...
    @overload
    def output(
        self: IngressObject[InputT, OutputT, Sync], key: str, *, idempotency_key: str
    ) -> Output[OutputT]: ...
    def output(self, key: str, *, idempotency_key: str) -> Any:
        """The result of that invocation on object `key` if it finished, as an `Output`."""
        path, what = proto.invocation_path(self._target, key, idempotency_key)
        return self._perform(proto.output(path, self._target.endpoint.output_serde, what))
