"""Rejection reasons, their counters, their log lines and the answers sent for them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Final

from rea import _observe
from rea._observe import Hooks, SecurityRejected

__all__ = [
    "REASONS",
    "Rejector",
    "client_address",
    "count_eviction",
    "rejection_counts",
    "replay_evictions",
    "reset_rejection_counts",
]

logger = logging.getLogger("rea.security")

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: Every reason a guard refuses a request for: its HTTP status and what it means.
REASONS: Final[dict[str, tuple[int, str]]] = {
    "identity.missing": (
        401,
        "no x-restate-signature-scheme header: the caller does not sign its requests (give the "
        "Restate server worker.invoker.request-identity-private-key-pem-file)",
    ),
    "identity.unsigned": (401, "x-restate-signature-scheme is 'unsigned'; signed requests only"),
    "identity.bad_scheme": (401, "x-restate-signature-scheme is not 'v1'"),
    "identity.malformed": (401, "x-restate-jwt-v1 is missing or not a valid Restate v1 JWT"),
    "identity.unknown_key": (
        401,
        "the token is not signed by any configured identity key (is the Restate server's "
        "public key among identity_keys?)",
    ),
    "identity.expired": (401, "the token has expired"),
    "identity.not_yet_valid": (401, "the token is not valid yet (nbf in the future)"),
    "identity.wrong_path": (401, "the token was issued for another path"),
    "replay.seen": (401, "this exact request (token and start message) was already received"),
    "replay.malformed": (400, "the body ends before its first protocol message is complete"),
    "replay.too_large": (413, "the first protocol message exceeds the configured limit"),
    "https.required": (
        403,
        "HTTPS required: plain HTTP, and not from a trusted proxy saying X-Forwarded-Proto: https",
    ),
    "allowlist.outside": (403, "the client address is outside the allowed networks"),
}

_lock = threading.Lock()
_counts: dict[str, int] = {}
_evictions = 0


def rejection_counts() -> dict[str, int]:
    """How many requests each reason refused (or flagged, in permissive mode) in this process.

    Returns:
        A copy: reason id -> count, only reasons seen at least once.
    """
    with _lock:
        return dict(_counts)


def replay_evictions() -> int:
    """How many replay-cache entries were dropped before their token expired (cache full)."""
    with _lock:
        return _evictions


def reset_rejection_counts() -> None:
    """Forget every count (rejections and replay-cache evictions); for tests."""
    global _evictions
    with _lock:
        _counts.clear()
        _evictions = 0


def count_eviction(n: int = 1) -> None:
    """Count `n` replay-cache entries evicted before expiry."""
    global _evictions
    with _lock:
        _evictions += n


def client_address(scope: MutableMapping[str, Any]) -> str:
    """The peer of an ASGI scope as ``host:port`` ("unknown" without one), for logs."""
    client = scope.get("client")
    if not client:
        return "unknown"
    return f"{client[0]}:{client[1]}"


def _body(reason: str) -> bytes:
    status, meaning = REASONS[reason]
    return f"rea.security refused this request ({status}): {reason}: {meaning}\n".encode()


# Built once: a refusal under attack must stay cheap.
_RESPONSES: Final[dict[str, tuple[int, bytes, list[tuple[bytes, bytes]]]]] = {}
for _reason, (_status, _) in REASONS.items():
    _text = _body(_reason)
    _RESPONSES[_reason] = (
        _status,
        _text,
        [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(_text)).encode()),
        ],
    )


class Rejector:
    """What a guard does with a failed check: refuse (strict) or log and let through.

    Args:
        permissive: Log and count, then let the request through; otherwise refuse it.
    """

    __slots__ = ("hooks", "permissive")

    def __init__(self, *, permissive: bool, hooks: Sequence[Hooks] = ()) -> None:
        self.permissive = permissive
        self.hooks = tuple(hooks)

    async def reject(
        self, reason: str, scope: MutableMapping[str, Any], send: Send, detail: str = ""
    ) -> bool:
        """Count and log `reason` for this request, and answer it unless permissive.

        Args:
            reason: A key of `REASONS`.
            scope: The request's ASGI scope (for its path and client address).
            send: The ASGI send callable, used to answer in strict mode.
            detail: More about this request (never a token).

        Returns:
            True when the request was answered (the guard must not run the app).
        """
        with _lock:
            _counts[reason] = _counts.get(reason, 0) + 1
        path = scope.get("path", "?")
        event = SecurityRejected(reason, path, self.permissive)
        _observe.emit_global(self.hooks, "security_rejected", event)
        status, body, headers = _RESPONSES[reason]
        outcome = "let through: permissive mode" if self.permissive else f"refused with {status}"
        logger.warning(
            "[%s] %s from %s: %s; %s",
            reason,
            path,
            client_address(scope),
            detail or REASONS[reason][1],
            outcome,
        )
        if self.permissive:
            return False
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return True
