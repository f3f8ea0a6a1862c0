"""An app for `rea invoke`'s diagnosis tests, broken on demand with a SyntaxError.

The tests write a Python file with a syntax error and name it in the app's environment:

- ``REA_TEST_BROKEN_AT_START``: while that file exists, importing this module fails with its
  error, as an app edited into a broken state does on its next (re)start;
- ``REA_TEST_BROKEN_IMPORT``: `Diagnosed/lazy` and `DiagnosedQueue/stuck` import that file on
  every call, as a handler with a broken import inside does.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import restate

import rea


def _import(path: str) -> None:
    """Import the Python file at `path` (raises its SyntaxError)."""
    spec = importlib.util.spec_from_file_location("rea_test_broken", path)
    assert spec is not None
    assert spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


_AT_START = os.environ.get("REA_TEST_BROKEN_AT_START")
if _AT_START and Path(_AT_START).exists():
    _import(_AT_START)

diagnosed = restate.Service("Diagnosed")


@diagnosed.handler()
async def greet(ctx: restate.Context, name: str) -> str:
    return f"Hello, {name}"


@diagnosed.handler()
async def lazy(ctx: restate.Context, name: str) -> str:
    _import(os.environ["REA_TEST_BROKEN_IMPORT"])
    return f"Hello, {name}"


queue = restate.VirtualObject("DiagnosedQueue")


@queue.handler()
async def stuck(ctx: restate.ObjectContext) -> None:
    _import(os.environ["REA_TEST_BROKEN_IMPORT"])


@queue.handler()
async def after(ctx: restate.ObjectContext) -> str:
    return "after"


app = rea.app([diagnosed, queue])
