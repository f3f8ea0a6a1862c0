"""Dicts, lists and primitives in and out, non-ASCII strings and floats, no-input handlers."""

from __future__ import annotations

from typing import Any

import restate


def build() -> list[restate.Service]:
    """The `CompatValues` service."""
    values = restate.Service("CompatValues")

    @values.handler()
    async def ping(ctx: restate.Context) -> str:
        return "pong"

    @values.handler()
    async def nothing(ctx: restate.Context) -> None:
        return None

    @values.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        # Called with an empty body, the SDK hands the handler None.
        return f"hello {name}"

    @values.handler(name="echoStr")
    async def echo_str(ctx: restate.Context, text: str) -> str:
        return text

    @values.handler(name="echoInt")
    async def echo_int(ctx: restate.Context, number: int) -> int:
        return number

    @values.handler(name="echoFloat")
    async def echo_float(ctx: restate.Context, number: float) -> float:
        return number

    @values.handler(name="echoBool")
    async def echo_bool(ctx: restate.Context, flag: bool) -> bool:
        return flag

    @values.handler(name="echoDict")
    async def echo_dict(ctx: restate.Context, data: dict[str, Any]) -> dict[str, Any]:
        return data

    @values.handler(name="echoList")
    async def echo_list(ctx: restate.Context, items: list[Any]) -> list[Any]:
        return items

    @values.handler()
    async def untyped(ctx, value):  # type: ignore[no-untyped-def]
        return value

    @values.handler()
    async def stats(ctx: restate.Context, numbers: list[float]) -> dict[str, float]:
        total = sum(numbers)
        return {"sum": total, "mean": total / len(numbers), "max": max(numbers)}

    @values.handler()
    async def nested(ctx: restate.Context) -> dict[str, list[dict[str, int | None]]]:
        return {"rows": [{"a": 1, "b": None}, {"a": -2, "b": 3}], "empty": []}

    @values.handler()
    async def pair(ctx: restate.Context) -> tuple[int, str]:
        return 7, "sieben"

    @values.handler(name="numberKeys")
    async def number_keys(ctx: restate.Context) -> dict[int, str]:
        return {1: "one", 2: "zwei", 3: "trois"}

    @values.handler()
    async def maybe(ctx: restate.Context, flag: bool) -> str | None:
        return "yes" if flag else None

    @values.handler()
    async def fail(ctx: restate.Context, message: str) -> str:
        raise restate.TerminalError(message, status_code=418)

    @values.handler()
    async def crash(ctx: restate.Context, message: str) -> str:
        # Not terminal: retried until the test server's policy (3 attempts, then kill) ends it.
        raise ValueError(message)

    @values.handler(name="crashNoInput")
    async def crash_no_input(ctx: restate.Context) -> str:
        raise ValueError("boom")

    return [values]
