"""The SDK boundary: the one module that touches the Restate SDK beyond its documented API.

What counts as documented, so that the rest of rea may use it directly (``import restate``):

- ``restate.__all__``: the service types, the context types (`restate.Context` and friends)
  with the methods they declare, `restate.RunOptions`, `restate.TerminalError`, the futures
  and combinators, `restate.app`. The Python docs (docs.restate.dev/develop/python: services,
  durable steps, state, service communication, error handling) use exactly these.
- The keyword arguments of `Service` / `VirtualObject` / `Workflow` and of their ``handler`` /
  ``main`` decorators (``name``, ``kind``, ``input_serde``, ``output_serde``,
  ``ingress_private``...): the services and configuration pages show them.
- ``restate.serde.Serde`` ("implement the Serde interface", develop/python/serialization) and
  ``restate.exceptions.TerminalError`` (develop/python/error-handling; the same class as
  ``restate.TerminalError``). rea still takes `Serde` from here, so that the rule for every
  other module is simply "``import restate``, nothing deeper" (ruff's TID251 enforces it).

Everything else rea needs is undocumented and lives here, behind small typed helpers:
``restate.handler`` (`Handler` and its attributes, `handler_from_callable`, `TypeHint`),
``restate.server_context`` (the runtime context class rea guards, its ``handler`` and
``do_raw_call``, `ServerDurableFuture`, `current_context`, the replay flag),
``restate.extensions`` (its docstring says "internal extensions apis"; its `current_context`
is the one in ``restate.server_context``),
``restate.server.install_shutdown_hook``, ``restate.exceptions.RetryableError`` (in no Python
docs page), `DefaultSerde` / `BytesSerde` / `PydanticJsonSerde` (the current serialization
page only shows ``type_hint=``), a service's ``name`` / ``handlers`` / ``service_tag``, and the
attributes where a service and a handler keep their options after construction (discovery
reads them from there: ``inactivity_timeout``, ``abort_timeout``, ``journal_retention``,
``idempotency_retention``, and a workflow run handler's ``workflow_retention``).

How an incompatible SDK fails: a module missing here fails ``import rea`` with
`SdkIncompatible`; anything else (an attribute, a method, a parameter) fails `check()`, which
`rea.app` calls, with `SdkIncompatible` naming the SDK version and every missing piece. A guard
never goes missing silently: `context_method` hands out only methods `check()` verifies.
tests/test_sdk_contract.py pins all of it; docs/sdk.md says how to move the version pin.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib.metadata
import inspect
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any, Final, cast

import restate

from rea._version import __version__
from rea.errors import SdkIncompatible

try:
    from restate.exceptions import RetryableError
    from restate.handler import Handler, HandlerIO, ServiceTag, TypeHint, handler_from_callable
    from restate.serde import BytesSerde, DefaultSerde, PydanticJsonSerde, Serde
    from restate.server_context import (
        ServerDurableFuture,
        ServerInvocationContext,
        current_context,
        restate_context_is_replaying,
    )
except ImportError as exc:  # pragma: no cover - only with an SDK rea was not tested with
    raise SdkIncompatible(f"restate-sdk cannot be used by rea: {exc}. See docs/sdk.md") from exc

__all__ = [
    "CONTEXT_METHODS",
    "SERVICE_OPTIONS",
    "TESTED_RANGE",
    "AnyService",
    "BytesSerde",
    "DefaultSerde",
    "HandlerRef",
    "IOType",
    "InvocationContext",
    "RetryableError",
    "Serde",
    "check",
    "clone",
    "context_method",
    "current_context",
    "future_context",
    "handler_from_callable",
    "handler_of",
    "handlers",
    "in_handler",
    "install_shutdown_hook",
    "is_replaying",
    "raw_call",
    "running_handler",
    "sdk_chose_serde",
    "sdk_version",
    "service_metadata",
    "service_name",
    "service_options",
    "set_service_metadata",
    "set_service_options",
]

#: The restate-sdk versions rea is tested with (pyproject.toml pins the same range).
TESTED_RANGE: Final = ">=1.3,<1.4"

AnyService = restate.Service | restate.VirtualObject | restate.Workflow

#: The runtime class of every handler's ``ctx``, whatever the handler kind; rea subclasses it.
InvocationContext = ServerInvocationContext

#: The context methods rea calls, overrides or guards, with the leading parameters it relies on
#: (after self, in order): ``name`` positional-or-keyword, ``name/`` positional-only, ``*args``
#: and ``**kwargs`` variadic. Parameters after these must have defaults.
CONTEXT_METHODS: Final[Mapping[str, str]] = {
    "request": "",
    "key": "",
    "get": "name, serde",
    "state_keys": "",
    "set": "name, value, serde",
    "clear": "name",
    "clear_all": "",
    "run": "name, action, serde, max_attempts",
    "run_typed": "name/, action/, options/, *args, **kwargs",
    "uuid": "",
    "random": "",
    "time": "",
    "sleep": "delta",
    "promise": "name, serde",
    "awakeable": "",
    "resolve_awakeable": "name, value",
    "reject_awakeable": "name, failure_message",
    "signal": "name",
    "resolve_signal": "invocation_id, name, value",
    "reject_signal": "invocation_id, name, failure_message",
    "service_call": "tpe, arg",
    "service_send": "tpe, arg",
    "object_call": "tpe, key, arg",
    "object_send": "tpe, key, arg",
    "workflow_call": "tpe, key, arg",
    "workflow_send": "tpe, key, arg",
    "generic_call": "service, handler, arg",
    "generic_send": "service, handler, arg",
    "cancel_invocation": "invocation_id",
    "attach_invocation": "invocation_id",
    "do_raw_call": "service, handler, input_param, input_serde, output_serde, key, send_delay, "
    "send, idempotency_key, headers",
}

#: The options a service object keeps as attributes of the same name, which discovery sends
#: to the server (``rea.WorkflowConfig`` sets them on rea's copy of a workflow).
SERVICE_OPTIONS: Final = (
    "inactivity_timeout",
    "abort_timeout",
    "journal_retention",
    "idempotency_retention",
)

#: Dataclass fields rea reads or writes, per SDK class.
_FIELDS: Final[Mapping[type, str]] = {
    Handler: "service_tag handler_io kind name fn arity context_managers workflow_retention",
    HandlerIO: "input_serde output_serde input_type output_type",
    TypeHint: "annotation is_void generate_json_schema",
    ServiceTag: "kind name metadata",
    restate.RunOptions: "serde max_attempts max_duration initial_retry_interval "
    "max_retry_interval retry_interval_factor",
}

#: Constructor parameters whose attributes rea reads (``ctx.handler``, ``future.context``...).
_INIT_PARAMETERS: Final[Mapping[type, str]] = {
    ServerInvocationContext: "handler",
    ServerDurableFuture: "context",
    RetryableError: "message status_code retry_after",
    PydanticJsonSerde: "model",
}

#: The keywords rea passes to ``Workflow.handler`` (for the workflow output helpers).
_WORKFLOW_KEYWORDS: Final = ("name", "output_serde", "ingress_private")


def sdk_version() -> str:
    """The installed restate-sdk version, from its distribution metadata."""
    try:
        return importlib.metadata.version("restate-sdk")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - vendored SDK
        return "unknown"


def _incompatible(problems: Iterable[str]) -> SdkIncompatible:
    listed = "; ".join(problems)
    return SdkIncompatible(
        f"restate-sdk {sdk_version()} is not compatible with rea {__version__} (tested with "
        f"restate-sdk{TESTED_RANGE}): {listed}. See docs/sdk.md"
    )


def _render(parameter: inspect.Parameter) -> str:
    kind = parameter.kind
    if kind is inspect.Parameter.VAR_POSITIONAL:
        return f"*{parameter.name}"
    if kind is inspect.Parameter.VAR_KEYWORD:
        return f"**{parameter.name}"
    suffix = "/" if kind is inspect.Parameter.POSITIONAL_ONLY else ""
    return parameter.name + suffix


def _signature_problem(where: str, fn: object, spec: str) -> str | None:
    expected = tuple(spec.split(", ")) if spec else ()
    try:
        parameters = list(inspect.signature(cast(Callable[..., Any], fn)).parameters.values())
    except (TypeError, ValueError):
        return f"{where} has no readable signature"
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    actual = tuple(_render(p) for p in parameters[: len(expected)])
    if actual != expected:
        return f"{where} takes ({', '.join(actual)}), rea expects ({', '.join(expected)})"
    for extra in parameters[len(expected) :]:
        variadic = extra.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        if extra.default is inspect.Parameter.empty and not variadic:
            return f"{where} has a new required parameter {extra.name!r}"
    return None


def _implementation(name: str) -> Callable[..., Any] | None:
    # The SDK's context declares every method abstract in restate.Context and friends: only
    # a concrete one on the runtime class counts.
    method = getattr(ServerInvocationContext, name, None)
    if not callable(method) or getattr(method, "__isabstractmethod__", False):
        return None
    return cast(Callable[..., Any], method)


def _check_context(problems: list[str]) -> None:
    for name, expected in CONTEXT_METHODS.items():
        method = _implementation(name)
        if method is None:
            problems.append(f"the context has no method {name}()")
            continue
        problem = _signature_problem(f"ctx.{name}()", method, expected)
        if problem is not None:
            problems.append(problem)


def _check_classes(problems: list[str]) -> None:
    for cls, wanted in _FIELDS.items():
        fields = (
            {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        )
        problems.extend(
            f"{cls.__qualname__} has no field {f!r}" for f in wanted.split() if f not in fields
        )
    for cls, wanted in _INIT_PARAMETERS.items():
        parameters = inspect.signature(cls).parameters
        problems.extend(
            f"{cls.__qualname__}() takes no {p!r}" for p in wanted.split() if p not in parameters
        )


def _check_services(problems: list[str]) -> None:
    for cls in (restate.Service, restate.VirtualObject, restate.Workflow):
        label = cls.__name__
        # rea's per-attempt hook: the Handler field, entered by the SDK around each attempt.
        if "invocation_context_managers" not in inspect.signature(cls).parameters:
            problems.append(f"{label}() takes no invocation_context_managers")
        probe = cls("rea-sdk-check")
        if getattr(probe, "name", None) != "rea-sdk-check":
            problems.append(f"{label} has no name")
        if not isinstance(getattr(probe, "handlers", None), dict):
            problems.append(f"{label} has no handlers dict")
        if not isinstance(getattr(probe, "service_tag", None), ServiceTag):
            problems.append(f"{label} has no service_tag")
        problems.extend(
            f"{label} keeps no {option} attribute"
            for option in SERVICE_OPTIONS
            if not hasattr(probe, option)
        )
    parameters = inspect.signature(restate.Workflow.handler).parameters
    problems.extend(
        f"Workflow.handler() takes no {k}" for k in _WORKFLOW_KEYWORDS if k not in parameters
    )


def _check_functions(problems: list[str]) -> None:
    from restate import server

    hook = getattr(server, "install_shutdown_hook", None)
    problem = _signature_problem(
        "restate.server.install_shutdown_hook()", hook, "loop, hook, signum"
    )
    if hook is None or problem is not None:
        problems.append(problem or "restate.server has no install_shutdown_hook()")
    if not callable(getattr(restate_context_is_replaying, "get", None)):
        problems.append("restate_context_is_replaying is not a context variable")


def check() -> None:
    """Verify every SDK attribute, method and signature rea relies on; `rea.app` calls it.

    Raises:
        SdkIncompatible: Something is missing or changed; the message names the installed SDK
            version and every problem found.
    """
    problems: list[str] = []
    _check_context(problems)
    _check_classes(problems)
    _check_services(problems)
    _check_functions(problems)
    if problems:
        raise _incompatible(problems)


def context_method(name: str) -> Callable[..., Any]:
    """The SDK context's own method `name`, for rea's guards to wrap.

    A method the SDK lacks becomes a stub raising `SdkIncompatible`, and `check()` (so
    `rea.app`) fails for it first: the guard is never skipped.

    Raises:
        ValueError: `name` is not in `CONTEXT_METHODS`, so `check()` would not cover it.
    """
    if name not in CONTEXT_METHODS:
        raise ValueError(f"ctx.{name}() is not in rea._sdk.CONTEXT_METHODS; add it there first")
    method = _implementation(name)
    if method is not None:
        return method

    def missing(*args: Any, **kwargs: Any) -> Any:
        raise _incompatible([f"the context has no method {name}()"])

    missing.__name__ = missing.__qualname__ = name
    return missing


@dataclasses.dataclass(frozen=True, slots=True)
class IOType:
    """A handler's input or output type as the SDK read it from the annotations."""

    annotation: Any
    """The annotation without ``Optional`` (the SDK strips it)."""
    is_void: bool
    """Whether there is no input (a handler without one) or no output (``-> None``)."""


class HandlerRef:
    """One handler of a service: what rea reads from it and changes on it.

    Attributes:
        service: The name of the handler's service.
        service_kind: ``service``, ``object`` or ``workflow``.
        name: The handler's name.
        kind: ``exclusive``, ``shared``, ``workflow``, or None for a plain service handler.
        arity: 1 for ``fn(ctx)``, 2 for ``fn(ctx, input)``: how the SDK calls `fn`.
    """

    __slots__ = ("_handler", "arity", "kind", "name", "service", "service_kind")

    def __init__(self, handler: Handler[Any, Any]) -> None:
        self._handler = handler
        tag = handler.service_tag
        self.service: str = tag.name
        self.service_kind: str = tag.kind
        self.name: str = handler.name
        self.kind: str | None = handler.kind
        self.arity: int = handler.arity

    @property
    def service_metadata(self) -> Mapping[str, str]:
        """The service's metadata (read when the handler runs: tags may come late)."""
        return self._handler.service_tag.metadata or {}

    @property
    def fn(self) -> Callable[..., Any]:
        """The function the SDK calls for each attempt."""
        return self._handler.fn

    @fn.setter
    def fn(self, fn: Callable[..., Any]) -> None:
        self._handler.fn = fn

    @property
    def input_serde(self) -> Serde[Any]:
        """The serde for the handler's input."""
        return self._handler.handler_io.input_serde

    @input_serde.setter
    def input_serde(self, serde: Serde[Any]) -> None:
        self._handler.handler_io.input_serde = serde

    @property
    def output_serde(self) -> Serde[Any]:
        """The serde for the handler's output."""
        return self._handler.handler_io.output_serde

    @output_serde.setter
    def output_serde(self, serde: Serde[Any]) -> None:
        self._handler.handler_io.output_serde = serde

    @property
    def input_type(self) -> IOType | None:
        """The input type as the SDK read it, if it did."""
        hint = self._handler.handler_io.input_type
        return None if hint is None else IOType(hint.annotation, hint.is_void)

    @property
    def output_type(self) -> IOType | None:
        """The output type as the SDK read it, if it did."""
        hint = self._handler.handler_io.output_type
        return None if hint is None else IOType(hint.annotation, hint.is_void)

    def set_schemas(
        self,
        input_schema: Callable[[], dict[str, Any]] | None = None,
        output_schema: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """Make discovery show these JSON schemas for the input and output (None: keep)."""
        io = self._handler.handler_io
        if input_schema is not None and io.input_type is not None:
            io.input_type.generate_json_schema = input_schema
        if output_schema is not None and io.output_type is not None:
            io.output_type.generate_json_schema = output_schema

    @property
    def workflow_retention(self) -> timedelta | None:
        """How long a workflow run's result and state outlive it (run handlers only)."""
        retention: timedelta | None = self._handler.workflow_retention
        return retention

    @workflow_retention.setter
    def workflow_retention(self, retention: timedelta | None) -> None:
        self._handler.workflow_retention = retention

    def prepend_context_manager(
        self, factory: Callable[[], AbstractAsyncContextManager[None]]
    ) -> None:
        """Enter `factory()` around every attempt, before the handler's own context managers."""
        self._handler.context_managers = [factory, *(self._handler.context_managers or [])]


def _clone_handler(handler: Handler[Any, Any]) -> Handler[Any, Any]:
    io = handler.handler_io
    return dataclasses.replace(
        handler,
        handler_io=dataclasses.replace(
            io,
            input_type=None if io.input_type is None else dataclasses.replace(io.input_type),
            output_type=None if io.output_type is None else dataclasses.replace(io.output_type),
        ),
        context_managers=list(handler.context_managers or []) or None,
    )


def clone(service: AnyService) -> AnyService:
    """A copy of `service` whose handlers rea may change without touching the user's objects.

    The copy shares the service's settings and tag (rea only reads them), and has its own
    handler records, serdes, schema generators and context-manager lists, so `rea.app` can
    wrap and add handlers while a `restate.app` built from the original serves it as written.
    The functions themselves stay the user's (the SDK finds a handler's target by its function,
    for calls made with ``ctx.service_call(fn, ...)``).
    """
    copied = copy.copy(service)
    copied.handlers = {name: _clone_handler(h) for name, h in service.handlers.items()}
    return copied


def handlers(service: AnyService) -> dict[str, HandlerRef]:
    """The handlers of `service` by name, in declaration order."""
    return {name: HandlerRef(h) for name, h in service.handlers.items()}


def service_name(service: AnyService) -> str:
    """The name of `service`."""
    return service.service_tag.name


def service_metadata(service: AnyService) -> dict[str, str]:
    """A copy of the metadata of `service` (shown by the admin API)."""
    return dict(service.service_tag.metadata or {})


def set_service_metadata(service: AnyService, metadata: Mapping[str, str]) -> None:
    """Replace the metadata of `service`; discovery sends it to the server."""
    service.service_tag.metadata = dict(metadata)


def service_options(service: AnyService) -> dict[str, timedelta | None]:
    """The `SERVICE_OPTIONS` of `service` as discovery will send them (None: server default)."""
    return {option: getattr(service, option) for option in SERVICE_OPTIONS}


def set_service_options(service: AnyService, options: Mapping[str, timedelta]) -> None:
    """Set `SERVICE_OPTIONS` on `service` (a copy rea serves); discovery sends them.

    Raises:
        ValueError: an option that is not one of `SERVICE_OPTIONS`.
    """
    unknown = set(options) - set(SERVICE_OPTIONS)
    if unknown:
        raise ValueError(f"not a service option: {', '.join(sorted(unknown))}")
    for option, value in options.items():
        setattr(service, option, value)


def handler_of(fn: Callable[..., Any]) -> HandlerRef:
    """The handler behind a decorated function.

    Raises:
        TypeError: `fn` was not decorated as a Restate handler.
    """
    try:
        return HandlerRef(handler_from_callable(fn))
    except Exception as exc:  # the SDK raises a bare ValueError (or TypeError for non-functions)
        raise TypeError(f"{fn!r} is not a Restate handler (decorate it with .handler())") from exc


def running_handler(ctx: object) -> HandlerRef | None:
    """The handler `ctx` belongs to, or None for an object that is no SDK context."""
    handler = getattr(ctx, "handler", None)
    return HandlerRef(handler) if isinstance(handler, Handler) else None


def in_handler() -> bool:
    """Whether a Restate handler (rea's or the bare SDK's) is running in this context."""
    try:
        current_context()
    except LookupError:
        return False
    return True


def is_replaying() -> bool:
    """Whether the running invocation is replaying its journal (log nothing twice)."""
    return bool(restate_context_is_replaying.get())


def future_context(future: object) -> object | None:
    """The context that created the SDK durable `future`; None for anything else."""
    if isinstance(future, ServerDurableFuture):
        return cast(object, future.context)
    return None


def sdk_chose_serde(serde: Serde[Any], annotation: Any) -> bool:
    """Whether `serde` is the one the SDK picks by itself for `annotation`, not the user's."""
    if type(serde) is DefaultSerde:
        return True
    # The SDK swaps DefaultSerde for PydanticJsonSerde(core type) itself; an explicit one for
    # the very same model is indistinguishable and equivalent, so replacing it is harmless.
    return type(serde) is PydanticJsonSerde and serde.model is annotation


def raw_call(
    ctx: restate.Context,
    service: str,
    handler: str,
    value: Any,
    input_serde: Serde[Any],
    output_serde: Serde[Any],
    *,
    key: str | None,
    delay: timedelta | None,
    send: bool,
    idempotency_key: str | None,
    headers: dict[str, str] | None,
) -> Any:
    """Call or send to a handler by name with rea's serdes, journaled like ``ctx.service_call``.

    Returns:
        A `restate.RestateDurableCallFuture` for a call, a `restate.SendHandle` for a send.
    """
    # Positional: this runs for every outgoing call.
    return cast(ServerInvocationContext, ctx).do_raw_call(
        service,
        handler,
        value,
        input_serde,
        output_serde,
        key,
        delay,
        send,
        idempotency_key,
        headers,
    )


def install_shutdown_hook(
    loop: asyncio.AbstractEventLoop, hook: Callable[[], None], signum: int
) -> None:
    """Run `hook` on signal `signum`, beside the Restate app's own handler for it.

    The Restate app takes over the loop's SIGTERM handler on its first request; its hook
    registry is the one way to share that signal with it.
    """
    from restate import server

    server.install_shutdown_hook(loop, hook, signum)
