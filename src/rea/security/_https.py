"""`HttpsGuard`: requests must have come over TLS, directly or through a trusted proxy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rea._loader import ASGIApp
from rea._observe import Hooks
from rea.security._networks import NetworkSet, header_value, parse_networks
from rea.security._paths import HEALTH, route
from rea.security._rejections import Rejector

__all__ = ["HttpsGuard"]

_PROTO = b"x-forwarded-proto"


class HttpsGuard:
    """Refuses plain-HTTP requests, unless a trusted proxy says the client used HTTPS.

    A request passes when the ASGI scheme is ``https`` (TLS ended at the app server), or when
    its peer is in `trusted_proxies` and the last ``X-Forwarded-Proto`` value is ``https``: a
    proxy that ends TLS appends (or sets) that value, so the last one is the proxy's own and a
    client cannot forge it. The header is ignored from any other peer. ``/health`` is never
    checked.

    Args:
        app: The ASGI app to protect.
        trusted_proxies: CIDRs of the proxies whose ``X-Forwarded-Proto`` is believed.
        permissive: Log and count failures, then let the request through.

    Raises:
        UsageValueError: a malformed CIDR.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: Sequence[str] = (),
        permissive: bool = False,
        hooks: Sequence[Hooks] = (),
    ) -> None:
        if isinstance(trusted_proxies, str):
            trusted_proxies = trusted_proxies.split(",")
        self.app = app
        self._trusted = NetworkSet(
            parse_networks(
                (cidr.strip() for cidr in trusted_proxies if cidr.strip()),
                setting="trusted_proxies",
            )
        )
        self._rejector = Rejector(permissive=permissive, hooks=hooks)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope.get("scheme") == "https"
            or route(scope["path"])[0] == HEALTH
            or self._forwarded_https(scope)
        ):
            await self.app(scope, receive, send)
            return
        if await self._rejector.reject("https.required", scope, send):
            return
        await self.app(scope, receive, send)

    def _forwarded_https(self, scope: Any) -> bool:
        client = scope.get("client")
        if not self._trusted or not client or client[0] not in self._trusted:
            return False
        proto = header_value(scope["headers"], _PROTO)
        return proto is not None and proto.rsplit(b",", 1)[-1].strip().lower() == b"https"
