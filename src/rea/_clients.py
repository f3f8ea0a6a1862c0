"""Typed in-handler clients for services, virtual objects and workflows.

Build a client from a handler reference (``rea.ServiceClient(greet)``: input and output types
come from its annotations) or by name with explicit types
(``rea.ServiceClient[Order, Receipt]("Orders", "create")``) for services in other deployments or
languages. Values go through the same pydantic serdes as `rea.app`. Every outgoing call passes
through `_invoke`, the one place where guards and idempotency checks apply; it journals exactly
what ``ctx.service_call`` and friends journal (a test compares the two journals).
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Literal, TypeVar, cast, overload

import restate
from restate import RestateDurableCallFuture, SendHandle

from rea import _observe, _sdk
from rea._idempotency import check_key
from rea._invocation import RESERVED_PROMISE_PREFIX, checked, current_state
from rea._observe import CallSent
from rea._sdk import Serde
from rea._serde import serde_for
from rea.errors import UsageTypeError, UsageValueError

__all__ = ["ObjectClient", "ServiceClient", "WorkflowClient"]

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
SignalInputT = TypeVar("SignalInputT")
SignalOutputT = TypeVar("SignalOutputT")

Kind = Literal["service", "object", "workflow"]

#: Shared handlers and promise that `rea.app` adds to every workflow, so that `attach` and
#: `get_output` can wait for (or peek at) the run's result without ever starting a run.
ATTACH_HANDLER = "_rea_attach"
OUTPUT_HANDLER = "_rea_output"
OUTPUT_PROMISE = RESERVED_PROMISE_PREFIX + "output"

_NO_INPUT: Any = object()
_CLIENT_NAMES = {"service": "ServiceClient", "object": "ObjectClient", "workflow": "WorkflowClient"}


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """A resolved call target: names, kind, and the serdes for its input and output."""

    service: str
    handler: str
    kind: Kind
    takes_input: bool
    input_serde: Serde[Any]
    output_serde: Serde[Any]
    input_optional: bool = False

    @property
    def target(self) -> str:
        return f"{self.service}/{self.handler}"


def _endpoint_from_handler(fn: Callable[..., Any], kind: Kind) -> _Endpoint:
    handler = _sdk.handler_of(fn)
    actual = handler.service_kind
    if actual != kind:
        name = f"{handler.service}/{handler.name}"
        raise UsageTypeError(f"{name} is a {actual} handler: use rea.{_CLIENT_NAMES[actual]}")
    signature = inspect.signature(fn, eval_str=True)
    params = list(signature.parameters.values())
    takes_input = len(params) >= 2
    input_type = params[1].annotation if takes_input else None
    output_type = signature.return_annotation
    return _Endpoint(
        service=handler.service,
        handler=handler.name,
        kind=kind,
        takes_input=takes_input,
        input_serde=serde_for(Any if input_type is inspect.Parameter.empty else input_type),
        output_serde=serde_for(Any if output_type is inspect.Signature.empty else output_type),
    )


def _endpoint_by_name(service: str, handler: str, kind: Kind, types: tuple[Any, ...]) -> _Endpoint:
    if not service or not handler:
        raise UsageValueError("a client by name needs a service name and a handler name")
    input_type, output_type = types if len(types) == 2 else (Any, Any)
    return _Endpoint(
        service=service,
        handler=handler,
        kind=kind,
        takes_input=input_type is not type(None),
        input_serde=serde_for(input_type),
        output_serde=serde_for(output_type),
        # Untyped, the input is optional: leaving it out sends no body, as a handler without
        # an input needs (the ingress client does the same).
        input_optional=not types,
    )


def _invoke(
    ctx: restate.Context,
    endpoint: _Endpoint,
    key: str | None,
    value: Any,
    *,
    send: bool = False,
    delay: timedelta | None = None,
    idempotency_key: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """Every outgoing call of every client goes through here."""
    checked(ctx, f"{'send to' if send else 'call to'} {endpoint.target}")
    if endpoint.kind != "service" and not isinstance(key, str):
        # Checked first: `ObjectClient(h).call(ctx, 3)` forgot the key, it has no extra input.
        what = "object key" if endpoint.kind == "object" else "workflow id"
        raise UsageTypeError(
            f"{endpoint.target} needs the {what} (a str) right after the context: "
            f"client.call(ctx, key, input); got {key!r}"
        )
    if value is _NO_INPUT:
        if endpoint.takes_input and not endpoint.input_optional:
            where = "the context" if endpoint.kind == "service" else "the key"
            raise UsageTypeError(f"{endpoint.target} takes an input: pass it after {where}")
        value = None
    elif not endpoint.takes_input and value is not None:
        raise UsageTypeError(f"{endpoint.target} takes no input: call it without one")
    if endpoint.kind != "service" and not key:
        raise UsageValueError(f"{endpoint.target} needs a non-empty key (Restate refuses '')")
    if delay is not None and delay < timedelta(0):
        raise UsageValueError(f"delay must not be negative, got {delay}")
    state = current_state()
    # Before the call: the replay flag then says whether this call's entry is in the journal.
    if _observe.wanted(state) and not _sdk.is_replaying():
        caller = ("?", "?") if state is None else (state.service_name, state.handler_name)
        event = CallSent(*caller, endpoint.service, endpoint.handler, "send" if send else "call")
        _observe.emit(state, "call_sent", event)
    if state is not None and state.trace is not None:
        # Journaled with the call, so the same in every attempt (the SDK compares it on replay).
        headers = state.trace.call_headers(
            target=endpoint.target, send=send, replaying=_sdk.is_replaying(), headers=headers
        )
    return _sdk.raw_call(
        ctx,
        endpoint.service,
        endpoint.handler,
        value,
        endpoint.input_serde,
        endpoint.output_serde,
        key=key if endpoint.kind != "service" else None,
        delay=delay,
        send=send,
        idempotency_key=check_key(idempotency_key, ctx=ctx, target=endpoint.target),
        headers=dict(headers) if headers else None,
    )


class _Client(Generic[InputT, OutputT]):
    _kind: typing.ClassVar[Kind]
    __slots__ = ("_endpoint", "_names", "_reference")

    def __init__(self, target: Callable[..., Any] | str, handler: str | None = None, /) -> None:
        self._endpoint: _Endpoint | None = None
        if isinstance(target, str):
            if handler is None:
                raise UsageTypeError("a client by name needs the handler name too")
            self._names = (target, handler)
            self._reference: Callable[..., Any] | None = None
        else:
            if handler is not None:
                raise UsageTypeError("give either a handler reference or service and handler names")
            self._reference = target
            self._names = ("", "")
            self._endpoint = _endpoint_from_handler(target, self._kind)

    @property
    def endpoint(self) -> _Endpoint:
        """The resolved target (types from ``Client[In, Out](...)`` are read on first use)."""
        if self._endpoint is None:
            # typing sets __orig_class__ after __init__, so the type arguments arrive late.
            types = typing.get_args(getattr(self, "__orig_class__", None))
            self._endpoint = _endpoint_by_name(*self._names, self._kind, types)
        return self._endpoint

    def __repr__(self) -> str:
        return f"rea.{type(self).__name__}({self.endpoint.target})"


class ServiceClient(_Client[InputT, OutputT]):
    """Calls one handler of a Restate service from inside a handler."""

    _kind = "service"
    __slots__ = ("__orig_class__",)

    @overload
    def __init__(
        self: ServiceClient[InputT, OutputT],
        target: Callable[[Any, InputT], Awaitable[OutputT]],
        /,
    ) -> None: ...
    @overload
    def __init__(
        self: ServiceClient[None, OutputT], target: Callable[[Any], Awaitable[OutputT]], /
    ) -> None: ...
    @overload
    def __init__(self, target: str, handler: str, /) -> None: ...
    def __init__(self, target: Any, handler: str | None = None, /) -> None:
        super().__init__(target, handler)

    def request_future(
        self,
        ctx: restate.Context,
        input: InputT = _NO_INPUT,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RestateDurableCallFuture[OutputT]:
        """Start the call now (it is journaled now) and return its durable future."""
        future: RestateDurableCallFuture[OutputT] = _invoke(
            ctx, self.endpoint, None, input, idempotency_key=idempotency_key, headers=headers
        )
        return future

    async def call(
        self,
        ctx: restate.Context,
        input: InputT = _NO_INPUT,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> OutputT:
        """Call the handler and wait for its result (its terminal error is raised here)."""
        return await self.request_future(
            ctx, input, idempotency_key=idempotency_key, headers=headers
        )

    def send(
        self,
        ctx: restate.Context,
        input: InputT = _NO_INPUT,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle:
        """Send without waiting (optionally after `delay`); the handle gives the invocation id."""
        handle: SendHandle = _invoke(
            ctx,
            self.endpoint,
            None,
            input,
            send=True,
            delay=delay,
            idempotency_key=idempotency_key,
            headers=headers,
        )
        return handle


class ObjectClient(_Client[InputT, OutputT]):
    """Calls one handler of a virtual object, for the object with a given key."""

    _kind = "object"
    __slots__ = ("__orig_class__",)

    @overload
    def __init__(
        self: ObjectClient[InputT, OutputT],
        target: Callable[[Any, InputT], Awaitable[OutputT]],
        /,
    ) -> None: ...
    @overload
    def __init__(
        self: ObjectClient[None, OutputT], target: Callable[[Any], Awaitable[OutputT]], /
    ) -> None: ...
    @overload
    def __init__(self, target: str, handler: str, /) -> None: ...
    def __init__(self, target: Any, handler: str | None = None, /) -> None:
        super().__init__(target, handler)

    def request_future(
        self,
        ctx: restate.Context,
        key: str,
        input: InputT = _NO_INPUT,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> RestateDurableCallFuture[OutputT]:
        """Start the call on object `key` now and return its durable future."""
        future: RestateDurableCallFuture[OutputT] = _invoke(
            ctx, self.endpoint, key, input, idempotency_key=idempotency_key, headers=headers
        )
        return future

    async def call(
        self,
        ctx: restate.Context,
        key: str,
        input: InputT = _NO_INPUT,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> OutputT:
        """Call the handler of object `key` and wait for its result."""
        return await self.request_future(
            ctx, key, input, idempotency_key=idempotency_key, headers=headers
        )

    def send(
        self,
        ctx: restate.Context,
        key: str,
        input: InputT = _NO_INPUT,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle:
        """Send to object `key` without waiting (optionally after `delay`)."""
        handle: SendHandle = _invoke(
            ctx,
            self.endpoint,
            key,
            input,
            send=True,
            delay=delay,
            idempotency_key=idempotency_key,
            headers=headers,
        )
        return handle


class WorkflowClient(_Client[InputT, OutputT]):
    """Submits, attaches to, signals and reads the output of a workflow, by workflow id.

    Build it from the workflow's run handler (``rea.WorkflowClient(run)``) or by name
    (``rea.WorkflowClient[Input, Output]("Signup", "run")``). `attach` and `get_output` rely on
    the helper handlers `rea.app` adds to workflows: the target must be served by `rea.app`.
    """

    _kind = "workflow"
    __slots__ = ("__orig_class__",)

    @overload
    def __init__(
        self: WorkflowClient[InputT, OutputT],
        target: Callable[[Any, InputT], Awaitable[OutputT]],
        /,
    ) -> None: ...
    @overload
    def __init__(
        self: WorkflowClient[None, OutputT], target: Callable[[Any], Awaitable[OutputT]], /
    ) -> None: ...
    @overload
    def __init__(self, target: str, handler: str = "run", /) -> None: ...
    def __init__(self, target: Any, handler: str | None = None, /) -> None:
        if isinstance(target, str) and handler is None:
            handler = "run"
        super().__init__(target, handler)

    def submit(
        self,
        ctx: restate.Context,
        workflow_id: str,
        input: InputT = _NO_INPUT,
        *,
        delay: timedelta | None = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SendHandle:
        """Start the workflow `workflow_id` (once: a workflow id runs at most one time)."""
        handle: SendHandle = _invoke(
            ctx,
            self.endpoint,
            workflow_id,
            input,
            send=True,
            delay=delay,
            idempotency_key=idempotency_key,
            headers=headers,
        )
        return handle

    def _helper(self, name: str) -> _Endpoint:
        endpoint = self.endpoint
        raw = serde_for(bytes)
        return _Endpoint(endpoint.service, name, "workflow", False, raw, _RawBytes())

    def attach_future(
        self, ctx: restate.Context, workflow_id: str
    ) -> RestateDurableCallFuture[bytes]:
        """The durable future of `attach`, for combinators; its value is the raw output."""
        future: RestateDurableCallFuture[bytes] = _invoke(
            ctx, self._helper(ATTACH_HANDLER), workflow_id, _NO_INPUT
        )
        return future

    async def attach(self, ctx: restate.Context, workflow_id: str) -> OutputT:
        """Wait for the run's result of `workflow_id`; never starts the workflow.

        Waits for a workflow that was not submitted yet until it is submitted and finishes
        (race it with a timer for a deadline). A run that failed raises its terminal error.
        """
        raw = await self.attach_future(ctx, workflow_id)
        return cast(OutputT, self.endpoint.output_serde.deserialize(raw))

    async def get_output(self, ctx: restate.Context, workflow_id: str) -> OutputT | None:
        """The run's result if it finished, else None; never starts or waits for the workflow."""
        raw = await _invoke(ctx, self._helper(OUTPUT_HANDLER), workflow_id, _NO_INPUT)
        envelope = json.loads(raw)
        if not envelope.get("ready"):
            return None
        output = self.endpoint.output_serde.deserialize(json.dumps(envelope["output"]).encode())
        return cast(OutputT, output)

    @overload
    async def signal(
        self,
        ctx: restate.Context,
        workflow_id: str,
        handler: Callable[[Any, SignalInputT], Awaitable[SignalOutputT]],
        input: SignalInputT,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> SignalOutputT: ...
    @overload
    async def signal(
        self,
        ctx: restate.Context,
        workflow_id: str,
        handler: str,
        input: Any = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any: ...
    async def signal(
        self,
        ctx: restate.Context,
        workflow_id: str,
        handler: Any,
        input: Any = _NO_INPUT,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Call a shared handler of workflow `workflow_id` (say, to resolve one of its promises)."""
        if isinstance(handler, str):
            endpoint = _endpoint_by_name(self.endpoint.service, handler, "workflow", ())
        else:
            endpoint = _endpoint_from_handler(handler, "workflow")
            if endpoint.service != self.endpoint.service:
                raise UsageTypeError(
                    f"{endpoint.target} is not a handler of {self.endpoint.service}"
                )
        return await _invoke(
            ctx, endpoint, workflow_id, input, idempotency_key=idempotency_key, headers=headers
        )


class _RawBytes(Serde[bytes]):
    """Passes bytes through untouched (the helper handlers carry serialized outputs)."""

    def serialize(self, obj: bytes | None) -> bytes:
        return obj or b""

    def deserialize(self, buf: bytes) -> bytes:
        return buf
