"""`AdminClient` (blocking) and `AsyncAdminClient`: the operations of `_core`, sent with httpx.

The operations are declared once, on `_Operations`, as descriptors over the builders in `_core`;
each client only says how to send a `Call` (blocking or awaited).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx

from rea._transport import async_transport, sync_transport
from rea.admin import _core
from rea.admin._core import DEFAULT_ADMIN_URL, DEFAULT_TIMEOUT, Call

__all__ = ["AdminClient", "AsyncAdminClient"]

P = ParamSpec("P")
T = TypeVar("T")
_TransportT = TypeVar("_TransportT")


def _signature(build: Callable[..., Any]) -> inspect.Signature:
    """The builder's signature, returning what its `Call` holds (``Call[X]`` becomes ``X``)."""
    signature = inspect.signature(build)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Call[") and returns.endswith("]"):
        returns = returns[len("Call[") : -1]
    return signature.replace(return_annotation=returns)


class _Operation(Generic[P, T]):
    """An admin operation: the builder's call, sent by whichever client it is read from."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.__name__ = build.__name__
        self.__doc__ = build.__doc__
        self.__signature__ = _signature(build)

    def __repr__(self) -> str:
        return f"<admin operation {self.__name__}{self.__signature__}>"

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: AdminClient, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, client: AsyncAdminClient, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, client: Any, owner: type[Any]) -> Any:
        if client is None:
            return self
        method = client._bind(self.build)
        method.__name__ = method.__qualname__ = self.__name__
        method.__doc__ = self.__doc__
        method.__module__ = "rea.admin"
        method.__signature__ = self.__signature__
        return method


class _Operations(Generic[_TransportT]):
    """Connection settings and the operations both clients share."""

    def __init__(
        self,
        url: str = DEFAULT_ADMIN_URL,
        *,
        auth_token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        transport: _TransportT | None = None,
    ) -> None:
        options = _core.client_options(url, auth_token=auth_token, headers=headers, timeout=timeout)
        self.url: str = options["base_url"]
        self._connect(options, transport)

    def _connect(self, options: dict[str, Any], transport: _TransportT | None) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    register = _Operation(_core.register)
    services = _Operation(_core.services)
    service = _Operation(_core.service)
    patch_service = _Operation(_core.patch_service)
    query = _Operation(_core.query)
    invocations = _Operation(_core.invocations)
    invocation = _Operation(_core.invocation)
    cancel = _Operation(_core.cancel)
    kill = _Operation(_core.kill)
    pause = _Operation(_core.pause)
    resume = _Operation(_core.resume)
    purge = _Operation(_core.purge)
    restart_as_new = _Operation(_core.restart_as_new)
    version = _Operation(_core.version)
    supports = _Operation(_core.supports)


class AdminClient(_Operations[httpx.BaseTransport]):
    """A blocking client for the Restate admin API, for scripts, the CLI and tests.

    ``with AdminClient("http://127.0.0.1:9070") as admin: admin.services()``

    Args:
        url: The admin API's base URL.
        auth_token: Sent as ``Authorization: Bearer <token>``.
        headers: Extra headers for every request.
        timeout: Seconds to wait (or an ``httpx.Timeout``; None: wait forever).
        transport: An httpx transport (``httpx.MockTransport`` in tests).

    Raises:
        ValueError: `url` is not an http(s) URL.

    Every operation raises `AdminError` when the server answers with an error, and
    `AdminUnavailable` when it cannot be reached.
    """

    def _connect(self, options: dict[str, Any], transport: httpx.BaseTransport | None) -> None:
        if transport is None:
            transport = sync_transport(options["base_url"])
        self._http = httpx.Client(**options, transport=transport)

    def _send(self, call: Call[T]) -> T:
        try:
            response = self._http.request(**call.request)
        except httpx.RequestError as exc:
            raise _core.unavailable(self.url, exc) from exc
        return call.result(response)

    def _bind(self, build: Callable[P, Call[T]]) -> Callable[P, T]:
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return self._send(build(*args, **kwargs))

        return method

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncAdminClient(_Operations[httpx.AsyncBaseTransport]):
    """The asyncio twin of `AdminClient`: the same operations, awaited.

    ``async with AsyncAdminClient(url) as admin: await admin.services()``

    Never use it (or any client of Restate's APIs) inside a handler: use the ``ctx``.
    """

    def _connect(self, options: dict[str, Any], transport: httpx.AsyncBaseTransport | None) -> None:
        if transport is None:
            transport = async_transport(options["base_url"])
        self._http = httpx.AsyncClient(**options, transport=transport)

    async def _send(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(**call.request)
        except httpx.RequestError as exc:
            raise _core.unavailable(self.url, exc) from exc
        return call.result(response)

    def _bind(self, build: Callable[P, Call[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await self._send(build(*args, **kwargs))

        return method

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
