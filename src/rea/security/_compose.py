"""`secure`: wrap an ASGI app in the guards a `SecurityConfig` asks for."""

from __future__ import annotations

from collections.abc import Sequence

from rea._loader import ASGIApp
from rea._observe import Hooks
from rea.security._allowlist import AllowlistGuard
from rea.security._config import SecurityConfig
from rea.security._https import HttpsGuard
from rea.security._identity import IdentityGuard
from rea.security._replay import ReplayGuard

__all__ = ["secure"]


def secure(app: ASGIApp, config: SecurityConfig | None, *, hooks: Sequence[Hooks] = ()) -> ASGIApp:
    """`app` behind the guards `config` asks for: allowlist, HTTPS, identity, replay.

    Outermost first: the cheap checks that need no token or body run first; replay protection
    keys on the verified token, so it sits behind the identity guard and is only added with
    identity keys. Every guard passes non-HTTP scopes (lifespan) through and never checks
    ``/health``.

    Args:
        app: The ASGI app (a ``restate.app(...)`` or ``rea.app(...)``).
        config: The guards to add; None or mode ``"disabled"``: none, `app` itself is returned.
        hooks: Told of every refusal (`rea.Hooks.security_rejected`), besides the log.

    Returns:
        The wrapped ASGI app.
    """
    if config is None or config.mode == "disabled":
        return app
    permissive = config.mode == "permissive"
    wrapped = app
    if config.identity_keys:
        if config.replay_protection:
            wrapped = ReplayGuard(
                wrapped,
                cache_size=config.replay_cache_size,
                max_start_message_bytes=config.max_start_message_bytes,
                permissive=permissive,
                hooks=hooks,
            )
        wrapped = IdentityGuard(
            wrapped, identity_keys=config.identity_keys, permissive=permissive, hooks=hooks
        )
    if config.require_https:
        wrapped = HttpsGuard(
            wrapped, trusted_proxies=config.trusted_proxies, permissive=permissive, hooks=hooks
        )
    if config.allowed_networks:
        wrapped = AllowlistGuard(
            wrapped,
            allowed_networks=config.allowed_networks,
            trusted_proxies=config.trusted_proxies,
            permissive=permissive,
            hooks=hooks,
        )
    return wrapped
