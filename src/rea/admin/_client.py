"""`AdminClient` (blocking) and `AsyncAdminClient`: the operations of `_core`, sent with httpx.

The operations are declared once, on `_Operations`, as descriptors over the builders in `_core`;
how a `Request` is sent (blocking or awaited) is `rea._http`'s, as for the ingress clients.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx

from rea._http import AsyncClient, Client, Options, Request, SyncClient, check_url, client_headers
from rea.admin import _core
from rea.admin._core import DEFAULT_ADMIN_URL, DEFAULT_TIMEOUT

__all__ = ["AdminClient", "AsyncAdminClient"]

P = ParamSpec("P")
T = TypeVar("T")
_TransportT = TypeVar("_TransportT", bound=httpx.BaseTransport | httpx.AsyncBaseTransport)


def _signature(build: Callable[..., Any]) -> inspect.Signature:
    """The builder's signature, returning what its request gives (``Request[X]`` becomes ``X``)."""
    signature = inspect.signature(build)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Request[") and returns.endswith("]"):
        returns = returns[len("Request[") : -1]
    return signature.replace(return_annotation=returns)


class _Operation(Generic[P, T]):
    """An admin operation: the builder's call, sent by whichever client it is read from."""

    def __init__(self, build: Callable[P, Request[T]]) -> None:
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


class _Operations(Client, Generic[_TransportT]):
    """Connection settings and the operations both clients share."""

    def __init__(
        self,
        url: str = DEFAULT_ADMIN_URL,
        *,
        auth_token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retries: int = 2,
        transport: _TransportT | None = None,
    ) -> None:
        base = check_url(url, what="admin API", example=DEFAULT_ADMIN_URL)
        defaults = {"accept": "application/json"}
        sent = client_headers(headers, auth_token=auth_token, defaults=defaults)
        self._connect(_core.api(base, retries), Options(sent, timeout, transport))

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


class AdminClient(SyncClient, _Operations[httpx.BaseTransport]):
    """A blocking client for the Restate admin API, for scripts, the CLI and tests.

    ``with AdminClient("http://127.0.0.1:9070") as admin: admin.services()``

    Args:
        url: The admin API's base URL.
        auth_token: Sent as ``Authorization: Bearer <token>``.
        headers: Extra headers for every request.
        timeout: Seconds to wait (or an ``httpx.Timeout``; None: wait forever).
        retries: How often a request that got no answer is sent again: always when no
            connection could be made, otherwise only for reads (GETs, SQL queries) and for
            `cancel` / `kill`, which are safe to repeat.
        transport: An httpx transport (``httpx.MockTransport`` in tests).

    Raises:
        ValueError: `url` is not an http(s) URL, negative `retries`, or an empty `auth_token`.

    Every operation raises `AdminError` when the server answers with an error, and
    `AdminUnavailable` (a `rea.RestateUnavailable`) when it cannot be reached.
    """


class AsyncAdminClient(AsyncClient, _Operations[httpx.AsyncBaseTransport]):
    """The asyncio twin of `AdminClient`: the same arguments and operations, awaited.

    ``async with AsyncAdminClient(url) as admin: await admin.services()``

    Never use it (or any client of Restate's APIs) inside a handler: use the ``ctx``.
    """
