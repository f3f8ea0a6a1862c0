"""Run every unit scenario through both clients over one mocked transport.

`Driver.run(x)` returns `x` for the sync client and drives the coroutine for the async one, so
a test reads ``d.run(d.client.service(charge).call(order))`` whichever client it exercises.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from rea.ingress import IngressClient, SyncIngressClient

Responder = Callable[[httpx.Request], httpx.Response]
INGRESS = "http://ingress.test:8080"
ADMIN = "http://admin.test:9070"


def reply(status: int = 200, body: Any = None, **headers: str) -> httpx.Response:
    """A response with a JSON body (a bytes body is sent as it is)."""
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=headers)
    content = b"" if body is None else json.dumps(body).encode()
    headers.setdefault("content-type", "application/json")
    return httpx.Response(status, content=content, headers=headers)


def restate_error(status: int, message: str, source: str = "ingress", **extra: Any) -> Responder:
    """A responder answering Restate's JSON error body."""
    body = {"code": status, "message": message, "source": source, **extra}
    return lambda request: reply(status, body, **{"x-restate-error-source": source})


class Driver:
    """A client (sync or async) on a mock transport that records every request."""

    def __init__(self, mode: str, responder: Responder, **options: Any) -> None:
        self.mode = mode
        self.requests: list[httpx.Request] = []
        self.responder = responder
        self.loop = asyncio.new_event_loop()
        transport = httpx.MockTransport(self._handle)
        options.setdefault("admin_url", ADMIN)
        cls = SyncIngressClient if mode == "sync" else IngressClient
        self.client: Any = cls(INGRESS, transport=transport, **options)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.responder(request)

    def run(self, result: Any) -> Any:
        """The value of a client method's result (awaited for the async client)."""
        if inspect.iscoroutine(result):
            return self.loop.run_until_complete(result)
        return result

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def close(self) -> None:
        self.run(self.client.aclose() if self.mode == "async" else self.client.close())
        self.loop.close()


DriverFactory = Callable[..., Driver]


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest) -> Iterator[DriverFactory]:
    """``make(responder, **client_options)``: a Driver for the parametrized client."""
    made: list[Driver] = []

    def factory(responder: Responder = lambda r: reply(200, None), **options: Any) -> Driver:
        driver = Driver(request.param, responder, **options)
        made.append(driver)
        return driver

    yield factory
    for driver in made:
        driver.close()
