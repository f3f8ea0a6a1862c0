"""Virtual objects with state: a counter, a list and a map, as the SDK's test services have them."""

from __future__ import annotations

from typing import TypedDict

import restate


class CounterUpdate(TypedDict):
    oldValue: int
    newValue: int


class Entry(TypedDict):
    key: str
    value: str


def build() -> list[restate.VirtualObject]:
    """The `CompatCounter`, `CompatList` and `CompatMap` objects."""
    counter = restate.VirtualObject("CompatCounter")

    @counter.handler()
    async def add(ctx: restate.ObjectContext, addend: int) -> CounterUpdate:
        old: int = await ctx.get("counter") or 0
        ctx.set("counter", old + addend)
        return {"oldValue": old, "newValue": old + addend}

    @counter.handler(name="addThenFail")
    async def add_then_fail(ctx: restate.ObjectContext, addend: int) -> None:
        old: int = await ctx.get("counter") or 0
        ctx.set("counter", old + addend)
        raise restate.TerminalError(ctx.key())

    @counter.handler()
    async def get(ctx: restate.ObjectContext) -> int:
        return await ctx.get("counter") or 0

    @counter.handler()
    async def reset(ctx: restate.ObjectContext) -> None:
        ctx.clear("counter")

    lists = restate.VirtualObject("CompatList")

    @lists.handler()
    async def append(ctx: restate.ObjectContext, value: str) -> None:
        ctx.set("list", [*(await ctx.get("list") or []), value])

    @lists.handler(name="get", kind="shared")
    async def get_list(ctx: restate.ObjectSharedContext) -> list[str]:
        return await ctx.get("list") or []

    @lists.handler()
    async def clear(ctx: restate.ObjectContext) -> list[str]:
        result: list[str] = await ctx.get("list") or []
        ctx.clear("list")
        return result

    maps = restate.VirtualObject("CompatMap")

    @maps.handler(name="set")
    async def map_set(ctx: restate.ObjectContext, entry: Entry) -> None:
        ctx.set(entry["key"], entry["value"])

    @maps.handler(name="get")
    async def map_get(ctx: restate.ObjectContext, key: str) -> str:
        return await ctx.get(key) or ""

    @maps.handler(name="clearAll")
    async def map_clear_all(ctx: restate.ObjectContext) -> list[Entry]:
        entries: list[Entry] = []
        for key in sorted(await ctx.state_keys()):
            entries.append({"key": key, "value": await ctx.get(key)})
            ctx.clear(key)
        return entries

    return [counter, lists, maps]
