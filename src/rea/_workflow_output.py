"""The helper handlers `rea.app` adds to every workflow, for attach and output by workflow id.

The SDK can attach to an invocation only by its id, which a caller inside a handler does not
have for a workflow it did not submit. So rea keeps the run's result in a durable promise of the
workflow: the run handler resolves it (or rejects it with the run's terminal error) when it
ends, and two shared handlers wait for it (`attach`) or peek at it (`get_output`). Neither can
start a run.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import restate
from restate import TerminalError

from rea import _sdk
from rea._clients import ATTACH_HANDLER, OUTPUT_HANDLER, OUTPUT_PROMISE
from rea._invocation import base_method
from rea._sdk import BytesSerde, HandlerRef

_RAW = BytesSerde()

WorkflowAnyContext = restate.WorkflowContext | restate.WorkflowSharedContext


def _promise(ctx: WorkflowAnyContext) -> restate.DurablePromise[bytes]:
    # Internal bookkeeping, not user orchestration: skip the data-plane guard.
    promise: restate.DurablePromise[bytes] = base_method(ctx, "promise")(OUTPUT_PROMISE, serde=_RAW)
    return promise


def _keep_output(handler: HandlerRef) -> None:
    original: Callable[..., Awaitable[Any]] = handler.fn

    @functools.wraps(original)
    async def fn(ctx: restate.WorkflowContext, *args: Any) -> Any:
        # Not awaited: the completion is journaled when it is called, and its promise name is
        # reserved for rea (nothing else can complete it first), so waiting for the server's
        # acknowledgement would only add a round trip to every workflow run.
        try:
            result = await original(ctx, *args)
        except TerminalError as exc:
            _promise(ctx).reject(exc.message, exc.status_code)
            raise
        # Read at call time: rea.app installs the typed output serde after this wrapper.
        _promise(ctx).resolve(handler.output_serde.serialize(result))
        return result

    handler.fn = fn


async def _attach(ctx: restate.WorkflowSharedContext) -> bytes:
    """Wait for the workflow run's result (never starts the run)."""
    raw: bytes = await _promise(ctx).value()
    return raw


async def _output(ctx: restate.WorkflowSharedContext) -> bytes:
    """The workflow run's result if it finished, as {"ready", "output"}."""
    raw: bytes | None = await _promise(ctx).peek()
    if raw is None:
        return b'{"ready":false}'
    return b'{"ready":true,"output":' + (raw or b"null") + b"}"


def install_workflow_output(workflow: restate.Workflow) -> None:
    """Keep the run's result in a promise and add the attach / output helper handlers, once."""
    handlers = _sdk.handlers(workflow)
    if ATTACH_HANDLER in handlers:
        return
    for handler in handlers.values():
        if handler.kind == "workflow":
            _keep_output(handler)
    for name, fn in ((ATTACH_HANDLER, _attach), (OUTPUT_HANDLER, _output)):
        workflow.handler(name=name, output_serde=_RAW, ingress_private=True)(_copy(fn))


def _copy(fn: Any) -> Any:
    # The SDK stores the handler on the function object: each workflow needs its own function.
    async def handler(ctx: restate.WorkflowSharedContext) -> bytes:
        result: bytes = await fn(ctx)
        return result

    handler.__name__ = handler.__qualname__ = fn.__name__
    handler.__doc__ = "rea: " + (fn.__doc__ or "workflow output helper")
    return handler
