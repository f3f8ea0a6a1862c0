"""hypercorn is configured so that Restate's long-lived HTTP/2 connections never stall."""

from __future__ import annotations

import asyncio
from typing import Any

from rea.testing._serve import KEEP_ALIVE_MAX_REQUESTS, hypercorn_config, with_lifespan


def test_keep_alive_never_closes_busy_connections() -> None:
    """keep_alive_max_requests is far above hypercorn's default of 1000."""
    config = hypercorn_config(3)
    assert config.keep_alive_max_requests == KEEP_ALIVE_MAX_REQUESTS >= 10**9
    assert config.bind == ["fd://3"]


def test_lifespan_is_answered_for_apps_without_it() -> None:
    """Lifespan startup and shutdown are acknowledged without reaching the app."""
    reached: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope)

    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, str]] = []

    async def receive() -> dict[str, str]:
        return incoming.pop(0)

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    asyncio.run(with_lifespan(app)({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert reached == []
