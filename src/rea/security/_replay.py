"""`ReplayGuard`: an invocation request is accepted once while its identity token is valid."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from rea._loader import ASGIApp
from rea._observe import Hooks
from rea.errors import UsageValueError
from rea.security._config import DEFAULT_MAX_START_MESSAGE
from rea.security._identity import EXP_SCOPE_KEY
from rea.security._paths import INVOKE, route
from rea.security._rejections import Rejector, count_eviction

__all__ = ["ReplayCache", "ReplayGuard"]

_TOKEN = b"x-restate-jwt-v1"
_HEADER = 8  # u16 type, u16 flags, u32 big-endian length
#: When the token's expiry cannot be read (the guard used without IdentityGuard): Restate's
#: default token lifetime (worker.invoker.request-identity-expiration) with a margin.
_FALLBACK_TTL = 120.0


class ReplayCache:
    """Keys seen recently, each until its expiry, at most `max_entries` (oldest dropped first).

    Args:
        max_entries: The bound on remembered keys.
    """

    __slots__ = ("_entries", "_lock", "evictions", "max_entries")

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise UsageValueError(f"max_entries must be at least 1, not {max_entries}")
        self.max_entries = max_entries
        self.evictions = 0
        self._entries: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def seen(self, key: bytes, expires: float, now: float) -> bool:
        """Whether `key` is remembered and not expired; if not, remember it until `expires`."""
        entries = self._entries
        with self._lock:
            # Tokens expire in about the order they arrive (Restate signs with the current
            # second), so expired entries gather at the front: dropping them there is cheap.
            while entries:
                first = next(iter(entries.values()))
                if first > now:
                    break
                entries.popitem(last=False)
            known = entries.get(key)
            if known is not None and known > now:
                return True
            entries[key] = expires
            if len(entries) > self.max_entries:
                entries.popitem(last=False)
                self.evictions += 1
                count_eviction()
            return False


class ReplayGuard:
    """Refuses an invocation request that was already received: same token, same start message.

    Measured on restate-server 1.7: a token is shared by every request to one path within a
    second (signing is deterministic), including the retries and resumptions of one invocation,
    so neither the token nor the token and invocation id identify a request. The first
    protocol message does: the StartMessage carries the invocation id and per-attempt fields
    (known entries, retry count, time since the last entry), and no two requests of a run of
    thousands shared one. The guard reads the body up to the end of that message (at most
    `max_start_message_bytes`), keys the request by a hash of the token and that message, and
    hands the app the same bytes. Only ``/invoke/...`` requests are checked: discovery is
    read-only and Restate may send it twice with one token.

    Limits: entries live until the token expires (about 60 s) within `cache_size`; an entry
    evicted early (counted) can be replayed. Each process has its own cache, so a replay sent
    to another replica or worker is not caught. The token does not sign the body, so a replay
    with an altered start message is not caught either. TLS, which keeps tokens from being
    observed, is the defence for all three.

    Args:
        app: The ASGI app to protect (behind an `IdentityGuard`).
        cache_size: Requests remembered.
        max_start_message_bytes: Largest first message accepted (Restate's own limit: 32 MiB).
        permissive: Log and count failures, then let the request through.

    Raises:
        UsageValueError: a size below 1.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        cache_size: int = 100_000,
        max_start_message_bytes: int = DEFAULT_MAX_START_MESSAGE,
        permissive: bool = False,
        hooks: Sequence[Hooks] = (),
    ) -> None:
        if max_start_message_bytes < 1:
            raise UsageValueError("max_start_message_bytes must be at least 1")
        self.app = app
        self.cache = ReplayCache(cache_size)
        self._limit = max_start_message_bytes
        self._rejector = Rejector(permissive=permissive, hooks=hooks)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or route(scope["path"])[0] != INVOKE:
            await self.app(scope, receive, send)
            return
        token = None
        for name, value in scope["headers"]:
            if name == _TOKEN:
                token = value
                break
        if token is None:
            # Nothing to key on: the identity guard refused it, or let it through permissively.
            await self.app(scope, receive, send)
            return
        message = await receive()
        if message["type"] != "http.request":
            await self.app(scope, _replaying(message, receive), send)
            return
        body: bytes = message.get("body", b"")
        if len(body) < _HEADER or len(body) < _HEADER + _length(body):
            read = await self._read_start(message, body, receive)
            if read is None:
                return  # the caller went away before its first message was complete
            message, body = read
        failure = self._check(scope, token, body)
        if failure is not None and await self._rejector.reject(failure[0], scope, send, failure[1]):
            return
        await self.app(scope, _replaying(message, receive), send)

    async def _read_start(
        self, message: dict[str, Any], body: bytes, receive: Any
    ) -> tuple[dict[str, Any], bytes] | None:
        # The start message spans several chunks: gather them, up to the limit, into one
        # message (the SDK reads bytes, not chunk boundaries).
        buffer = bytearray(body)
        more = message.get("more_body", False)
        while more:
            if len(buffer) >= _HEADER:
                needed = _HEADER + _length(buffer)
                if len(buffer) >= needed or needed > self._limit:
                    break
            chunk = await receive()
            if chunk["type"] != "http.request":
                return None
            buffer += chunk.get("body", b"")
            more = chunk.get("more_body", False)
        body = bytes(buffer)
        return {"type": "http.request", "body": body, "more_body": more}, body

    def _check(self, scope: Any, token: bytes, body: bytes) -> tuple[str, str] | None:
        if len(body) < _HEADER:
            return "replay.malformed", f"body of {len(body)} bytes"
        length = _length(body)
        if length + _HEADER > self._limit:
            return "replay.too_large", f"first message of {length} bytes"
        if len(body) < _HEADER + length:
            return "replay.malformed", f"first message of {length} bytes, body ends earlier"
        digest = hashlib.blake2b(token, digest_size=16)
        digest.update(memoryview(body)[: _HEADER + length])
        now = time.time()
        expires = scope.get(EXP_SCOPE_KEY) or _unverified_exp(token) or now + _FALLBACK_TTL
        if self.cache.seen(digest.digest(), expires, now):
            return "replay.seen", ""
        return None


def _length(body: bytes | bytearray) -> int:
    return int.from_bytes(body[4:8], "big")


def _replaying(first: dict[str, Any], receive: Any) -> Any:
    pending: dict[str, Any] | None = first

    async def replay() -> Any:
        nonlocal pending
        if pending is not None:
            message, pending = pending, None
            return message
        return await receive()

    return replay


def _unverified_exp(token: bytes) -> float | None:
    try:
        payload = token.split(b".")[1]
        exp = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))["exp"]
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error):
        return None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
