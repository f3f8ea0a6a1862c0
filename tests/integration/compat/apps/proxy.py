"""A proxy that forwards raw bytes with calls and one-way sends, and raw-bytes handlers."""

from __future__ import annotations

from datetime import timedelta
from typing import Optional, TypedDict

import restate
from restate.serde import BytesSerde


class ProxyRequest(TypedDict):
    serviceName: str
    virtualObjectKey: Optional[str]  # noqa: UP045 - spelled as the SDK's services spell it
    handlerName: str
    message: list[int]
    delayMillis: Optional[int]  # noqa: UP045
    idempotencyKey: Optional[str]  # noqa: UP045


class ManyCallRequest(TypedDict):
    proxyRequest: ProxyRequest
    oneWayCall: bool
    awaitAtTheEnd: bool


def _call(ctx: restate.Context, req: ProxyRequest) -> restate.RestateDurableCallFuture[bytes]:
    return ctx.generic_call(
        req["serviceName"],
        req["handlerName"],
        bytes(req["message"]),
        req.get("virtualObjectKey"),
        idempotency_key=req.get("idempotencyKey"),
    )


def _send(ctx: restate.Context, req: ProxyRequest) -> restate.SendHandle:
    delay = req.get("delayMillis")
    return ctx.generic_send(
        req["serviceName"],
        req["handlerName"],
        bytes(req["message"]),
        req.get("virtualObjectKey"),
        send_delay=None if delay is None else timedelta(milliseconds=delay),
        idempotency_key=req.get("idempotencyKey"),
    )


_RAW = {
    "accept": "*/*",
    "content_type": "application/octet-stream",
    "input_serde": BytesSerde(),
    "output_serde": BytesSerde(),
}


def build() -> list[restate.Service]:
    """The `CompatProxy` service."""
    proxy = restate.Service("CompatProxy")

    @proxy.handler()
    async def call(ctx: restate.Context, req: ProxyRequest) -> list[int]:
        return list(await _call(ctx, req))

    @proxy.handler(name="oneWayCall")
    async def one_way_call(ctx: restate.Context, req: ProxyRequest) -> str:
        return await _send(ctx, req).invocation_id()

    @proxy.handler(name="manyCalls")
    async def many_calls(ctx: restate.Context, reqs: list[ManyCallRequest]) -> None:
        pending = []
        for req in reqs:
            if req["oneWayCall"]:
                _send(ctx, req["proxyRequest"])
            else:
                future = _call(ctx, req["proxyRequest"])
                if req["awaitAtTheEnd"]:
                    pending.append(future)
        for future in pending:
            await future

    @proxy.handler(name="rawEcho", **_RAW)
    async def raw_echo(ctx: restate.Context, body: bytes) -> bytes:
        return body

    @proxy.handler(name="rawForward", **_RAW)
    async def raw_forward(ctx: restate.Context, body: bytes) -> bytes:
        # Whatever the JSON handler answers, byte for byte.
        return await ctx.generic_call("CompatValues", "echoDict", body)

    return [proxy]
