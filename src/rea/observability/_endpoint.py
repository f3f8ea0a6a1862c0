"""`MetricsEndpoint`: the app's own ``GET /metrics``, answered before Restate's routes."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from rea._loader import ASGIApp

__all__ = ["MetricsEndpoint"]


class MetricsEndpoint:
    """Serves `registry` in Prometheus' text format at `path`; passes everything else on.

    It sits outside the security guards, as ``/health`` does: Prometheus does not sign its
    scrapes. The page holds counts and durations by service, handler and rule, never inputs,
    keys or ids; keep the port off public networks as you would any metrics endpoint.
    """

    def __init__(self, app: ASGIApp, registry: CollectorRegistry, *, path: str = "/metrics"):
        self.app = app
        self.registry = registry
        self.path = path

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            await _answer(send, 405, b"GET only\n", b"text/plain; charset=utf-8")
            return
        body = generate_latest(self.registry)
        await _answer(send, 200, body if scope["method"] == "GET" else b"", CONTENT_TYPE_LATEST)


async def _answer(send: Any, status: int, body: bytes, content_type: str | bytes) -> None:
    kind = content_type.encode() if isinstance(content_type, str) else content_type
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
