"""Test keys, tokens, Restate start messages and a raw ASGI client for the guard tests."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

from rea.security._keys import generate_key_pair


class Signer:
    """A request-identity key pair that makes tokens the way restate-server does."""

    def __init__(self) -> None:
        pair = generate_key_pair()
        self.private_pem = pair.private_pem
        self.public_key = pair.public_key

    def token(
        self,
        aud: str | list[str] = "/invoke/Svc/greet",
        *,
        now: float | None = None,
        lifetime: int = 60,
        omit: Sequence[str] = (),
        algorithm: str = "EdDSA",
        key: Any = None,
        **claims: Any,
    ) -> str:
        """A v1 token for `aud`: iat now, nbf a lifetime earlier, exp a lifetime later."""
        issued = int(time.time() if now is None else now)
        payload: dict[str, Any] = {
            "aud": aud,
            "exp": issued + lifetime,
            "iat": issued,
            "nbf": issued - lifetime,
        }
        payload.update(claims)
        for name in omit:
            payload.pop(name)
        headers = {"typ": "JWT", "kid": self.public_key}
        return jwt.encode(
            payload, self.private_pem if key is None else key, algorithm, headers=headers
        )

    def headers(self, aud: str = "/invoke/Svc/greet", **kwargs: Any) -> list[tuple[bytes, bytes]]:
        """Signature headers carrying a fresh token for `aud`."""
        return signed(self.token(aud, **kwargs))


def signed(token: str) -> list[tuple[bytes, bytes]]:
    """The two headers restate-server signs a request with."""
    return [(b"x-restate-signature-scheme", b"v1"), (b"x-restate-jwt-v1", token.encode())]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def frame(kind: int, payload: bytes) -> bytes:
    """One protocol message: u16 type, u16 flags, u32 big-endian length, payload."""
    return kind.to_bytes(2, "big") + b"\0\0" + len(payload).to_bytes(4, "big") + payload


def start_message(invocation: str = "inv_1", *, known_entries: int = 1, retry: int = 0) -> bytes:
    """A StartMessage frame (id, debug id, known entries, retry count), as Restate sends it."""
    ident = invocation.encode()
    payload = b"\x0a" + _varint(len(ident)) + ident  # 1: id
    payload += b"\x12" + _varint(len(ident)) + ident  # 2: debug_id
    payload += b"\x18" + _varint(known_entries)  # 3: known_entries
    if retry:
        payload += b"\x38" + _varint(retry)  # 7: retry_count_since_last_stored_entry
    return frame(0, payload)


def invocation_body(invocation: str = "inv_1", *, retry: int = 0, known_entries: int = 1) -> bytes:
    """A start message followed by an input command, the start of a real invocation body."""
    return start_message(invocation, known_entries=known_entries, retry=retry) + frame(
        0x0400, b"\x72\x04\x0a\x02{}"
    )


@dataclass
class Echo:
    """An ASGI app that reads the whole body and answers 200; it records what it saw."""

    calls: int = 0
    bodies: list[bytes] = field(default_factory=list)
    scopes: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        self.scopes.append(scope)
        if scope["type"] == "lifespan":
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            assert isinstance(message.get("body", b""), bytes)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@dataclass
class Result:
    """What a raw ASGI call produced."""

    status: int | None
    body: bytes
    headers: list[tuple[bytes, bytes]]

    @property
    def text(self) -> str:
        return self.body.decode()


async def call(
    app: Any,
    *,
    path: str = "/invoke/Svc/greet",
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes | Sequence[bytes] = b"",
    client: tuple[str, int] | None = ("127.0.0.1", 40000),
    scheme: str = "http",
    disconnect_after: int | None = None,
) -> Result:
    """Send one HTTP request through `app`; `body` as a list is sent in those chunks."""
    chunks = [body] if isinstance(body, bytes) else list(body)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    if disconnect_after is not None:
        messages = [*messages[:disconnect_after], {"type": "http.disconnect"}]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "2",
        "method": "POST",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": client,
        "server": ("127.0.0.1", 9080),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next((m for m in sent if m["type"] == "http.response.start"), None)
    return Result(
        status=start["status"] if start else None,
        body=b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
        headers=list(start["headers"]) if start else [],
    )
