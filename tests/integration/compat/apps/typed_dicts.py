"""TypedDict inputs with keys that callers omit: ``Optional[...]`` keys and ``NotRequired`` keys.

`Greeting` is a ``typing.TypedDict``, as the SDK's test services write them (pydantic cannot
validate those on Python 3.11); `ExtGreeting` is the same shape from ``typing_extensions``.
The handlers read optional keys with ``.get()``, as SDK code does.
"""

from __future__ import annotations

from typing import Any, NotRequired, Optional, TypedDict

import restate
import typing_extensions


class Greeting(TypedDict):
    name: str
    title: Optional[str]  # noqa: UP045 - spelled as the SDK's services spell it
    tags: NotRequired[list[str]]


class ExtGreeting(typing_extensions.TypedDict):
    name: str
    title: Optional[str]  # noqa: UP045
    tags: NotRequired[list[str]]


class Reply(TypedDict):
    text: str
    keys: list[str]


def reply(req: Any) -> Reply:
    """What every handler here answers: the greeting, and the keys it was given."""
    if req is None:
        return {"text": "no greeting", "keys": []}
    title = req.get("title")
    text = f"{title} {req['name']}" if title else str(req["name"])
    text += "".join(f" #{tag}" for tag in req.get("tags", []))
    return {"text": text, "keys": sorted(req)}


def build() -> list[restate.Service | restate.VirtualObject]:
    """The `CompatTypedDicts` service and the `CompatInbox` object (the target of messages)."""
    svc = restate.Service("CompatTypedDicts")

    @svc.handler()
    async def greet(ctx: restate.Context, req: Greeting) -> Reply:
        return reply(req)

    @svc.handler(name="greetExt")
    async def greet_ext(ctx: restate.Context, req: ExtGreeting) -> Reply:
        return reply(req)

    @svc.handler(name="greetMany")
    async def greet_many(ctx: restate.Context, reqs: list[Greeting]) -> list[Reply]:
        return [reply(req) for req in reqs]

    inbox = restate.VirtualObject("CompatInbox")

    @inbox.handler()
    async def record(ctx: restate.ObjectContext, req: Greeting) -> None:
        texts: list[str] = await ctx.get("texts") or []
        ctx.set("texts", [*texts, reply(req)["text"]])

    @inbox.handler(name="recordExt")
    async def record_ext(ctx: restate.ObjectContext, req: ExtGreeting) -> None:
        texts: list[str] = await ctx.get("texts") or []
        ctx.set("texts", [*texts, reply(req)["text"]])

    @inbox.handler(kind="shared")
    async def read(ctx: restate.ObjectSharedContext) -> list[str]:
        return await ctx.get("texts") or []

    return [svc, inbox]
