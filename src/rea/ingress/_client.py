"""`IngressClient` (async) and `SyncIngressClient`: the same API over one shared base.

Everything but the I/O loop lives in `_IngressBase` and the sans-IO core: the facades, the
request builders and the parsers are shared, and each client only sends requests (with or
without ``await``) in ``_perform``, which is `rea._http`'s (the admin clients' too).
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Generic, TypeVar, overload

import httpx
from typing_extensions import TypeVar as DefaultTypeVar

from rea._clients import Kind
from rea._http import AsyncClient, Client, Options, Request, SyncClient, Transport, check_url
from rea._serde import serde_for
from rea.admin._core import DEFAULT_ADMIN_URL as ADMIN
from rea.ingress import _protocol as proto
from rea.ingress._core import (
    Async,
    Output,
    Sync,
    api,
    http_options,
    pool_options,
    with_trace_context,
)
from rea.ingress._facades import Co, IngressObject, IngressService
from rea.ingress._workflow import IngressWorkflow

__all__ = ["IngressClient", "SyncIngressClient"]

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
T = TypeVar("T")
ModeT = TypeVar("ModeT", Async, Sync)
#: Defaults to Any, so ``client.attach(id)`` without an output type gives Any (not Never).
ValueT = DefaultTypeVar("ValueT", default=Any)

_UNSET: Any = object()
_ANY: Any = Any


class _IngressBase(Client, Generic[ModeT]):
    """What both clients share: configuration, facades and client-level operations."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth_token: str | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        admin_url: str | None = None,
        retries: int = 2,
        http2: bool | None = None,
        verify: ssl.SSLContext | bool = True,
        transport: Transport | None = None,
    ) -> None:
        options = http_options(
            url,
            headers=headers,
            auth_token=auth_token,
            timeout=timeout,
            http2=http2,
            verify=verify,
        )
        self.admin_url = (
            None if admin_url is None else check_url(admin_url, what="admin API", example=ADMIN)
        )
        self.retries = retries
        pool = pool_options(options)
        connection = Options(options["headers"], options["timeout"], transport, pool)
        self._connect(api(options["base_url"], retries), connection)

    def _target(
        self, target: Any, handler: Any, kind: Kind, types: tuple[Any, ...]
    ) -> proto.Target:
        if isinstance(target, str):
            if handler is None or (_UNSET in types and types != (_UNSET, _UNSET)):
                raise TypeError("by name, give the handler name, and both types or neither")
            return proto.target_by_name(target, handler, kind, () if _UNSET in types else types)
        if handler is not None or types != (_UNSET, _UNSET):
            raise TypeError("give either a handler reference or names, not both")
        return proto.target_from_handler(target, kind)

    # -- facades -----------------------------------------------------------------------------
    @overload
    def service(
        self, handler: Callable[[Any, InputT], Awaitable[OutputT]], /
    ) -> IngressService[InputT, OutputT, ModeT]: ...
    @overload
    def service(
        self, handler: Callable[[Any], Awaitable[OutputT]], /
    ) -> IngressService[None, OutputT, ModeT]: ...
    @overload
    def service(
        self, name: str, handler: str, input_type: type[InputT], output_type: type[OutputT], /
    ) -> IngressService[InputT, OutputT, ModeT]: ...
    @overload
    def service(
        self, name: str, handler: str, input_type: None, output_type: type[OutputT], /
    ) -> IngressService[None, OutputT, ModeT]: ...
    @overload
    def service(self, name: str, handler: str, /) -> IngressService[Any, Any, ModeT]: ...
    def service(
        self, target: Any, handler: Any = None, input_type: Any = _UNSET, output: Any = _UNSET, /
    ) -> Any:
        """A typed facade on one service handler: ``call``, ``send``, ``attach``, ``output``.

        Args:
            target: The decorated handler (types from its annotations), or the service name.
            handler: By name: the handler's name.
            input_type: By name: the input type (None for no input); with `output`, or neither.
            output: By name: the output type.

        Raises:
            TypeError: not a service handler, or names and types that do not go together.
        """
        return IngressService(
            self._perform, self._target(target, handler, "service", (input_type, output))
        )

    @overload
    def object(
        self, handler: Callable[[Any, InputT], Awaitable[OutputT]], /
    ) -> IngressObject[InputT, OutputT, ModeT]: ...
    @overload
    def object(
        self, handler: Callable[[Any], Awaitable[OutputT]], /
    ) -> IngressObject[None, OutputT, ModeT]: ...
    @overload
    def object(
        self, name: str, handler: str, input_type: type[InputT], output_type: type[OutputT], /
    ) -> IngressObject[InputT, OutputT, ModeT]: ...
    @overload
    def object(
        self, name: str, handler: str, input_type: None, output_type: type[OutputT], /
    ) -> IngressObject[None, OutputT, ModeT]: ...
    @overload
    def object(self, name: str, handler: str, /) -> IngressObject[Any, Any, ModeT]: ...
    def object(
        self, target: Any, handler: Any = None, input_type: Any = _UNSET, output: Any = _UNSET, /
    ) -> Any:
        """A typed facade on one virtual object handler (methods take the key first).

        Args and Raises as for `service`, for virtual objects.
        """
        return IngressObject(
            self._perform, self._target(target, handler, "object", (input_type, output))
        )

    @overload
    def workflow(
        self, run: Callable[[Any, InputT], Awaitable[OutputT]], /
    ) -> IngressWorkflow[InputT, OutputT, ModeT]: ...
    @overload
    def workflow(
        self, run: Callable[[Any], Awaitable[OutputT]], /
    ) -> IngressWorkflow[None, OutputT, ModeT]: ...
    @overload
    def workflow(
        self, name: str, input_type: type[InputT], output_type: type[OutputT], /, *, run: str = ...
    ) -> IngressWorkflow[InputT, OutputT, ModeT]: ...
    @overload
    def workflow(
        self, name: str, input_type: None, output_type: type[OutputT], /, *, run: str = ...
    ) -> IngressWorkflow[None, OutputT, ModeT]: ...
    @overload
    def workflow(self, name: str, /, *, run: str = ...) -> IngressWorkflow[Any, Any, ModeT]: ...
    def workflow(
        self, target: Any, input_type: Any = _UNSET, output: Any = _UNSET, /, *, run: str = "run"
    ) -> Any:
        """A typed facade on a workflow: ``submit``, ``call``, ``attach``, ``output``, ``signal``.

        Args:
            target: The workflow's decorated run handler, or the workflow's name.
            input_type: By name: the run's input type (None for no input), with `output`.
            output: By name: the run's output type.
            run: By name: the run handler's name.

        Raises:
            TypeError: not a workflow run handler, or names and types that do not go together.
        """
        handler = run if isinstance(target, str) else None
        return IngressWorkflow(
            self._perform, self._target(target, handler, "workflow", (input_type, output))
        )

    # -- invocations and awakeables ----------------------------------------------------------
    @overload
    def attach(
        self: _IngressBase[Async], invocation_id: str, output_type: type[ValueT] = ...
    ) -> Co[ValueT]: ...
    @overload
    def attach(
        self: _IngressBase[Sync], invocation_id: str, output_type: type[ValueT] = ...
    ) -> ValueT: ...
    def attach(self, invocation_id: str, output_type: Any = _ANY) -> Any:
        """Wait for the result of the invocation `invocation_id` (``inv_...``).

        Args:
            invocation_id: From a `SendResult` or the ``x-restate-id`` response header.
            output_type: Validate and convert the result to this type (default: plain JSON).

        Raises:
            InvocationFailed: the invocation ended with a terminal error.
            BadRequest: a malformed id. UnknownTarget: no such invocation (any more).
        """
        path = proto.invocation_id_path(invocation_id)
        return self._perform(proto.attach(path, serde_for(output_type), invocation_id))

    @overload
    def output(
        self: _IngressBase[Async], invocation_id: str, output_type: type[ValueT] = ...
    ) -> Co[Output[ValueT]]: ...
    @overload
    def output(
        self: _IngressBase[Sync], invocation_id: str, output_type: type[ValueT] = ...
    ) -> Output[ValueT]: ...
    def output(self, invocation_id: str, output_type: Any = _ANY) -> Any:
        """The result of `invocation_id` if it finished (``Output(ready=False)`` if not)."""
        path = proto.invocation_id_path(invocation_id)
        return self._perform(proto.output(path, serde_for(output_type), invocation_id))

    @overload
    def resolve_awakeable(self: _IngressBase[Async], awakeable_id: str, value: Any) -> Co[None]: ...
    @overload
    def resolve_awakeable(self: _IngressBase[Sync], awakeable_id: str, value: Any) -> None: ...
    def resolve_awakeable(self, awakeable_id: str, value: Any) -> Any:
        """Complete the awakeable `awakeable_id` (``sign_...``) with `value`, sent as JSON."""
        return self._perform(proto.complete_awakeable(awakeable_id, value, reject=False))

    @overload
    def reject_awakeable(
        self: _IngressBase[Async], awakeable_id: str, message: str
    ) -> Co[None]: ...
    @overload
    def reject_awakeable(self: _IngressBase[Sync], awakeable_id: str, message: str) -> None: ...
    def reject_awakeable(self, awakeable_id: str, message: str) -> Any:
        """Fail the awakeable: the handler awaiting it gets a TerminalError(500, `message`)."""
        return self._perform(proto.complete_awakeable(awakeable_id, message, reject=True))

    @overload
    def cancel(self: _IngressBase[Async], invocation_id: str) -> Co[bool]: ...
    @overload
    def cancel(self: _IngressBase[Sync], invocation_id: str) -> bool: ...
    def cancel(self, invocation_id: str) -> Any:
        """Cancel an invocation (admin API); it ends with TerminalError 409 "cancelled".

        The same operation as `rea.AdminClient.cancel`, with this client's errors.

        Returns:
            True if the cancellation was accepted, False if the invocation had already
            completed (nothing to cancel). Repeating it is harmless.

        Raises:
            ValueError: the client was created without ``admin_url``.
            UnknownTarget: no such invocation. BadRequest: a malformed id.
        """
        return self._perform(proto.cancel(self.admin_url, invocation_id))


class IngressClient(AsyncClient, _IngressBase[Async]):
    """An async client of a Restate ingress, for code outside handlers.

    ``async with rea.IngressClient("http://localhost:8080") as client:`` then
    ``await client.service(greet).call("world")``. Connections are pooled; close the client
    (or use it as a context manager) when done.

    Args:
        url: The ingress URL.
        headers: Headers sent with every request.
        auth_token: Sent as ``Authorization: Bearer <token>``.
        timeout: Seconds per request (connect, read, write and pool each); None: no limit.
        admin_url: The admin API URL, needed by `cancel`.
        retries: How often a request that got no answer is repeated: always when no
            connection could be made (nothing reached Restate), and after any other failure
            when repeating it is safe (reads, awakeables, cancels, workflow submits, anything
            with an idempotency key). A call or send without a key that may have reached
            Restate is never repeated.
        http2: None: HTTP/2 over TLS when the `h2` package is installed (ALPN settles it),
            a pool of HTTP/1.1 connections over cleartext; True: HTTP/2 (needs `h2`; prior
            knowledge over cleartext, which Restate's ingress speaks); False: HTTP/1.1.
        verify: How to check the ingress's TLS certificate: True (certifi's CAs, or the bundle
            named by ``SSL_CERT_FILE``), an ``ssl.SSLContext`` (a private CA:
            ``ssl.create_default_context(cafile=...)``), or False (no check; tests only).
        transport: An httpx transport to use (tests: ``httpx.MockTransport``).

    Every request carries the current OpenTelemetry context (``traceparent``) when a span is
    current, so an invocation's trace starts at its caller.
    """

    def _perform(self, request: Request[T]) -> Coroutine[Any, Any, T]:
        # Not async: the trace context is read here, in the caller's context.
        return super()._perform(with_trace_context(request))


class SyncIngressClient(SyncClient, _IngressBase[Sync]):
    """The blocking twin of `IngressClient`: same arguments, same methods, no ``await``."""

    def _perform(self, request: Request[T]) -> T:
        return super()._perform(with_trace_context(request))
