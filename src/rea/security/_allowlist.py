"""`AllowlistGuard`: only clients in the allowed networks (the Restate cluster) get through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rea._loader import ASGIApp
from rea._observe import Hooks
from rea.errors import UsageValueError
from rea.security._networks import NetworkSet, header_value, parse_networks
from rea.security._paths import HEALTH, route
from rea.security._rejections import Rejector

__all__ = ["AllowlistGuard"]

_FORWARDED_FOR = b"x-forwarded-for"


def _cidrs(values: Sequence[str], setting: str) -> NetworkSet:
    if isinstance(values, str):
        values = values.split(",")
    return NetworkSet(parse_networks((v.strip() for v in values if v.strip()), setting=setting))


class AllowlistGuard:
    """Refuses requests whose client address is outside `allowed_networks`.

    The client is the ASGI peer (``scope["client"]``). When the peer is a trusted proxy that
    sends ``X-Forwarded-For``, the client is the address that proxy chain received the request
    from: the right-most entry that is not itself a trusted proxy (each proxy appends its peer,
    so entries to its left may be forged by the caller, entries it added may not). That keeps
    the allowlist meaningful behind a load balancer, whose own address every request would
    otherwise carry. A trusted proxy that sends no ``X-Forwarded-For`` is checked itself. No
    address, or an unreadable one, is outside. ``/health`` is never checked.

    Args:
        app: The ASGI app to protect.
        allowed_networks: CIDRs allowed to call the app.
        trusted_proxies: CIDRs of proxies whose ``X-Forwarded-For`` is believed.
        permissive: Log and count failures, then let the request through.

    Raises:
        UsageValueError: no allowed network, or a malformed CIDR.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_networks: Sequence[str],
        trusted_proxies: Sequence[str] = (),
        permissive: bool = False,
        hooks: Sequence[Hooks] = (),
    ) -> None:
        self.app = app
        self._allowed = _cidrs(allowed_networks, "allowed_networks")
        if not self._allowed:
            raise UsageValueError("AllowlistGuard needs at least one allowed network")
        self._trusted = _cidrs(trusted_proxies, "trusted_proxies")
        self._rejector = Rejector(permissive=permissive, hooks=hooks)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or route(scope["path"])[0] == HEALTH:
            await self.app(scope, receive, send)
            return
        client = self.client_host(scope)
        if client in self._allowed or not await self._rejector.reject(
            "allowlist.outside", scope, send, f"client {client or 'unknown'} is not allowed"
        ):
            await self.app(scope, receive, send)

    def client_host(self, scope: Any) -> str | None:
        """The address the allowlist checks for this request (see the class docstring)."""
        peer = scope.get("client")
        if not peer:
            return None
        host: str = peer[0]
        if not self._trusted or host not in self._trusted:
            return host
        forwarded = header_value(scope["headers"], _FORWARDED_FOR)
        if forwarded is None:
            return host
        hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",")]
        for hop in reversed(hops):
            if hop not in self._trusted:
                return hop
        return hops[0] if hops else host
