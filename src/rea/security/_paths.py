"""Which Restate endpoint route a request path is, the way the SDK decides it."""

from __future__ import annotations

from typing import Final

__all__ = ["DISCOVER", "HEALTH", "INVOKE", "OTHER", "route"]

HEALTH: Final = 0
DISCOVER: Final = 1
INVOKE: Final = 2
OTHER: Final = 3

_CACHE_LIMIT = 1024
_cache: dict[str, tuple[int, str]] = {}


def _classify(path: str) -> tuple[int, str]:
    # The kind follows the SDK's server.parse_path (routes matched by suffix, so the app can be
    # mounted under a prefix); the audience follows shared-core's normalise_path, which is what
    # the SDK compares the token's aud with. The two agree on every invoke and discover path.
    fragments = path.rsplit("/", 4)
    if len(fragments) >= 3 and fragments[-3] == "invoke":
        slashes = [i for i, char in enumerate(path) if char == "/"]
        return INVOKE, path[slashes[-3] :] if len(slashes) >= 3 else path
    if fragments[-1] == "health":
        return HEALTH, path
    if fragments[-1] == "discover":
        return DISCOVER, "/discover" if "/" in path else path
    return OTHER, path


def route(path: str) -> tuple[int, str]:
    """The route of `path` and the audience a Restate token for it carries.

    Args:
        path: The ASGI scope's ``path``.

    Returns:
        ``(kind, audience)``: kind is `HEALTH`, `DISCOVER`, `INVOKE` or `OTHER`; audience is
        ``/invoke/{service}/{handler}`` or ``/discover`` without any mount prefix, else `path`.
    """
    found = _cache.get(path)
    if found is None:
        found = _classify(path)
        if len(_cache) >= _CACHE_LIMIT:
            # Paths come from the network: keep the memo bounded, at the cost of a re-parse.
            _cache.clear()
        _cache[path] = found
    return found
