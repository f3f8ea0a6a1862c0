"""The contract between rea and restate-sdk: every SDK piece rea relies on, pinned (no server).

When the SDK moves (see docs/sdk.md), this file says what changed. `rea._sdk.check()` is the
tolerant runtime twin that `rea.app` runs; the pins here are exact, so that any change in the
SDK's surface is looked at by a person, not only the ones that break rea today.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import restate
from restate.handler import Handler, HandlerIO, ServiceTag, TypeHint, handler_from_callable
from restate.server_context import ServerInvocationContext

import rea
from rea import _invocation, _sdk
from rea._app import prepare
from rea.errors import ReaError, SdkIncompatible

ROOT = Path(__file__).resolve().parent.parent
VERSION = importlib.metadata.version("restate-sdk")


def _shape(fn: Callable[..., Any]) -> str:
    """A signature's parameter names and kinds: ``x`` positional, ``x=`` with a default,
    ``x/`` positional-only, ``*x`` / ``**x`` variadic (annotations left out)."""
    rendered = []
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            rendered.append(f"*{parameter.name}")
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            rendered.append(f"**{parameter.name}")
        else:
            text = parameter.name + ("=" if parameter.default is not parameter.empty else "")
            rendered.append(text + ("/" if parameter.kind is parameter.POSITIONAL_ONLY else ""))
    return ", ".join(rendered)


# -- the installed SDK ---------------------------------------------------------------------------
def test_the_check_passes_on_the_installed_sdk() -> None:
    """`rea._sdk.check()` (run by `rea.app`) finds everything it needs."""
    _sdk.check()


def test_the_installed_sdk_is_the_pinned_minor() -> None:
    """pyproject.toml pins the tested minor range, the same one `_sdk` reports."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"restate-sdk[serde]{_sdk.TESTED_RANGE}" in project["dependencies"]
    low, high = re.fullmatch(r">=(\d+\.\d+),<(\d+\.\d+)", _sdk.TESTED_RANGE).groups()  # type: ignore[union-attr]
    installed = tuple(int(part) for part in VERSION.split(".")[:2])
    assert tuple(map(int, low.split("."))) <= installed < tuple(map(int, high.split(".")))
    assert _sdk.sdk_version() == VERSION


# -- the context ---------------------------------------------------------------------------------
#: The exact signatures of every context method rea calls, overrides or guards.
CONTEXT_SIGNATURES = {
    "request": "",
    "key": "",
    "get": "name, serde=, type_hint=, entry_name=",
    "state_keys": "entry_name=",
    "set": "name, value, serde=, entry_name=",
    "clear": "name, entry_name=",
    "clear_all": "entry_name=",
    "run": "name, action, serde=, max_attempts=, max_retry_duration=, type_hint=, args=",
    "run_typed": "name/, action/, options=/, *args, **kwargs",
    "uuid": "",
    "random": "",
    "time": "",
    "sleep": "delta, name=",
    "promise": "name, serde=, type_hint=",
    "awakeable": "serde=, type_hint=",
    "resolve_awakeable": "name, value, serde=",
    "reject_awakeable": "name, failure_message, failure_code=",
    "signal": "name, serde=, type_hint=",
    "resolve_signal": "invocation_id, name, value, serde=",
    "reject_signal": "invocation_id, name, failure_message, failure_code=",
    "service_call": "tpe, arg, idempotency_key=, headers=",
    "service_send": "tpe, arg, send_delay=, idempotency_key=, headers=",
    "object_call": "tpe, key, arg, idempotency_key=, headers=",
    "object_send": "tpe, key, arg, send_delay=, idempotency_key=, headers=",
    "workflow_call": "tpe, key, arg, idempotency_key=, headers=",
    "workflow_send": "tpe, key, arg, send_delay=, idempotency_key=, headers=",
    "generic_call": "service, handler, arg, key=, idempotency_key=, headers=, scope=, limit_key=",
    "generic_send": (
        "service, handler, arg, key=, send_delay=, idempotency_key=, headers=, scope=, limit_key="
    ),
    "cancel_invocation": "invocation_id",
    "attach_invocation": "invocation_id, serde=, type_hint=",
    "do_raw_call": (
        "service, handler, input_param, input_serde, output_serde, key=, send_delay=, send=, "
        "idempotency_key=, headers=, scope=, limit_key="
    ),
}

#: Public context methods rea leaves unguarded, and why.
UNGUARDED = {
    "request": "a pure read",
    "key": "a pure read",
    "scope": "preview (protocol v7): its calls are not guarded yet",
}


@pytest.mark.parametrize("name", sorted(CONTEXT_SIGNATURES))
def test_context_method_signatures(name: str) -> None:
    """Each context method rea relies on has exactly the parameters pinned here."""
    assert _shape(getattr(ServerInvocationContext, name)) == CONTEXT_SIGNATURES[name]


def test_the_boundary_lists_exactly_the_pinned_methods() -> None:
    """`_sdk.CONTEXT_METHODS` (what `check()` verifies) is the pinned list."""
    assert set(_sdk.CONTEXT_METHODS) == set(CONTEXT_SIGNATURES)


def test_every_guarded_method_is_verified_and_installed() -> None:
    """Each method rea guards is checked by `check()` and guarded on `GuardedContext` itself."""
    guarded = {*_invocation.PLAIN_GUARDED_METHODS, *_invocation.OVERRIDDEN_METHODS}
    assert guarded <= set(_sdk.CONTEXT_METHODS)
    for name in guarded:
        assert name in vars(_invocation.GuardedContext), name


def test_every_public_context_method_is_guarded_or_known() -> None:
    """A context method the SDK adds shows up here: guard it, or say why not."""
    public = {
        name
        for cls in (
            restate.Context,
            restate.ObjectContext,
            restate.ObjectSharedContext,
            restate.WorkflowContext,
            restate.WorkflowSharedContext,
        )
        for name, _ in inspect.getmembers(cls, callable)
        if not name.startswith("_")
    }
    guarded = {*_invocation.PLAIN_GUARDED_METHODS, *_invocation.OVERRIDDEN_METHODS}
    assert public == guarded | set(UNGUARDED)


def test_rea_calls_only_listed_methods_through_base_method() -> None:
    """Every ``base_method(ctx, "name")`` in rea names a method `check()` verifies."""
    pattern = re.compile(r"base_method\([^,]+,\s*\"(\w+)\"\)")
    used = {
        name
        for path in (ROOT / "src" / "rea").rglob("*.py")
        for name in pattern.findall(path.read_text())
    }
    assert used
    assert used <= set(_sdk.CONTEXT_METHODS)


def test_context_attributes_rea_reads() -> None:
    """``ctx.handler`` and ``future.context`` come from constructor parameters."""
    assert _shape(ServerInvocationContext) == (
        "vm, handler, invocation, attempt_headers, send, receive, journal_codec="
    )
    assert "context" in inspect.signature(_sdk_durable_future()).parameters


def _sdk_durable_future() -> type:
    from restate.server_context import ServerDurableFuture

    return ServerDurableFuture


# -- handlers, services, options -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (
            Handler,
            {
                "service_tag",
                "handler_io",
                "kind",
                "name",
                "fn",
                "arity",
                "context_managers",
                "workflow_retention",
            },
        ),
        (HandlerIO, {"input_serde", "output_serde", "input_type", "output_type"}),
        (TypeHint, {"annotation", "is_void", "generate_json_schema"}),
        (ServiceTag, {"kind", "name", "metadata"}),
    ],
)
def test_handler_dataclass_fields(cls: type, fields: set[str]) -> None:
    """The SDK's handler records have the fields rea reads and writes."""
    assert fields <= {f.name for f in dataclasses.fields(cls)}


def test_run_options_fields() -> None:
    """`RetryPolicy.run_options` fills exactly these `RunOptions` fields."""
    assert [f.name for f in dataclasses.fields(restate.RunOptions)] == [
        "serde",
        "type_hint",
        "max_attempts",
        "max_duration",
        "initial_retry_interval",
        "max_retry_interval",
        "retry_interval_factor",
        "max_retry_duration",
    ]


@pytest.mark.parametrize("cls", [restate.Service, restate.VirtualObject, restate.Workflow])
def test_services_take_invocation_context_managers(cls: type) -> None:
    """Services and their decorators take per-attempt context managers; rea adds its own."""
    assert "invocation_context_managers" in inspect.signature(cls).parameters
    decorators = [cls.handler, *([cls.main] if cls is restate.Workflow else [])]
    for decorator in decorators:
        parameters = inspect.signature(decorator).parameters
        assert {"name", "input_serde", "output_serde", "ingress_private"} <= set(parameters)
        assert "invocation_context_managers" in parameters
    service = cls("ContractProbe")
    assert service.name == "ContractProbe"
    assert service.handlers == {}
    assert isinstance(service.service_tag, ServiceTag)


def test_discovery_reads_the_options_from_the_service_and_handler_attributes() -> None:
    """`rea.WorkflowConfig` sets options after construction: discovery must read them there."""
    from datetime import timedelta

    from restate.discovery import compute_discovery_json
    from restate.endpoint import Endpoint

    flow = restate.Workflow("ContractOptions")

    @flow.main()
    async def run(ctx: restate.WorkflowContext) -> None:
        return None

    assert _sdk.SERVICE_OPTIONS == (
        "inactivity_timeout",
        "abort_timeout",
        "journal_retention",
        "idempotency_retention",
    )
    assert _sdk.service_options(flow) == dict.fromkeys(_sdk.SERVICE_OPTIONS)
    _sdk.set_service_options(
        flow, {o: timedelta(seconds=i + 1) for i, o in enumerate(_sdk.SERVICE_OPTIONS)}
    )
    _sdk.handlers(flow)["run"].workflow_retention = timedelta(seconds=5)
    assert _sdk.handlers(flow)["run"].workflow_retention == timedelta(seconds=5)
    endpoint = Endpoint()
    endpoint.bind(flow)
    (service,) = json.loads(compute_discovery_json(endpoint, 4, "bidi"))["services"]
    assert [service[k] for k in ("inactivityTimeout", "abortTimeout", "journalRetention")] == [
        1000,
        2000,
        3000,
    ]
    assert service["idempotencyRetention"] == 4000
    assert service["handlers"][0]["workflowCompletionRetention"] == 5000
    with pytest.raises(ValueError, match="not a service option: retry"):
        _sdk.set_service_options(flow, {"retry": timedelta(1)})


def test_a_missing_service_option_attribute_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service that no longer keeps ``abort_timeout`` as an attribute is reported."""
    original = restate.Workflow.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        del self.abort_timeout

    monkeypatch.setattr(restate.Workflow, "__init__", init)
    with pytest.raises(SdkIncompatible, match="Workflow keeps no abort_timeout attribute"):
        _sdk.check()


def test_handler_from_callable_reads_the_decorated_function() -> None:
    """A decorator returns the function itself; `handler_from_callable` finds its handler."""
    svc = restate.Service("ContractLookup")

    @svc.handler()
    async def greet(ctx: restate.Context, name: str) -> str:
        return name

    handler = handler_from_callable(greet)
    assert handler is svc.handlers["greet"]
    assert (handler.arity, handler.kind, handler.service_tag.kind) == (2, None, "service")
    with pytest.raises(ValueError, match="Handler not found"):
        handler_from_callable(lambda: None)


def test_shutdown_hook_and_exceptions() -> None:
    """The shutdown-hook registry, `RetryableError` and the replay flag keep their shapes."""
    from restate.server import install_shutdown_hook

    assert _shape(install_shutdown_hook) == "loop, hook, signum="
    error = _sdk.RetryableError("slow down")
    assert (error.message, error.status_code, error.retry_after) == ("slow down", 500, None)
    assert _sdk.is_replaying() is False
    assert _sdk.in_handler() is False


# -- the SDK runs rea's per-attempt hook ---------------------------------------------------------
class _FakeVM:
    """Just enough of the SDK's VM for one attempt that journals nothing."""

    def __init__(self) -> None:
        self.output: bytes | None = None

    def is_replaying(self) -> bool:
        return False

    def sys_write_output_success(self, output: bytes) -> None:
        self.output = output

    def sys_end(self) -> None:
        pass

    def notify_error(self, message: str, stacktrace: str, delay: Any = None) -> None:
        raise AssertionError(f"the attempt failed: {message}\n{stacktrace}")


async def _attempt(fn: Callable[..., Any], handler: Any = None) -> bytes | None:
    vm = _FakeVM()
    invocation = SimpleNamespace(input_buffer=b"", random_seed=7, key="")
    handler = handler or handler_from_callable(fn)
    ctx = ServerInvocationContext(vm, handler, invocation, {}, None, None)  # type: ignore[arg-type]
    await ctx.enter()
    return vm.output


async def test_the_sdk_enters_handler_context_managers_around_each_attempt() -> None:
    """Context managers on a handler run around its attempt, with `current_context()` set."""
    svc = restate.Service("ContractHooks")
    seen: list[str] = []

    @contextlib.asynccontextmanager
    async def hook() -> AsyncIterator[None]:
        handler = _sdk.running_handler(_sdk.current_context())
        seen.append(f"enter {handler.name if handler else None}")
        yield
        seen.append("exit")

    @svc.handler()
    async def hello(ctx: restate.Context) -> str:
        seen.append("handler")
        return "hi"

    _sdk.handlers(svc)["hello"].prepend_context_manager(hook)
    assert await _attempt(hello) == b'"hi"'
    assert seen == ["enter hello", "handler", "exit"]


async def test_rea_app_guards_the_context_of_every_attempt() -> None:
    """After `rea.app`, a handler's ctx is rea's guarded context, and a write is guarded."""
    obj = restate.VirtualObject("ContractGuarded")
    seen: list[str] = []

    @obj.handler(kind="shared")
    async def peek(ctx: restate.ObjectSharedContext) -> str:
        seen.append(type(ctx).__name__)
        with rea.policy_override(rea.Policy.WARN):
            ctx.set("k", 1)  # type: ignore[attr-defined]  # skipped under WARN: shared handler
        return "ok"

    (served,) = [s for s in prepare([obj]) if s.name == "ContractGuarded"]
    assert await _attempt(peek, served.handlers["peek"]) == b'"ok"'
    assert seen == ["GuardedContext"]
    # The user's own handler is left as written: no guard, so the write reaches the SDK.
    with pytest.raises(AssertionError, match="sys_set_state"):
        await _attempt(peek)
    assert seen == ["GuardedContext", "ServerInvocationContext"]


# -- failing loudly ------------------------------------------------------------------------------
def test_a_missing_method_fails_the_check_naming_version_and_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SDK without ``state_keys``: `check()` names the SDK version and the method."""
    monkeypatch.delattr(ServerInvocationContext, "state_keys")
    with pytest.raises(SdkIncompatible) as caught:
        _sdk.check()
    message = str(caught.value)
    assert f"restate-sdk {VERSION} is not compatible with rea" in message
    assert "the context has no method state_keys()" in message
    assert "docs/sdk.md" in message
    assert isinstance(caught.value, ReaError)


def test_rea_app_fails_before_serving_without_a_guarded_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`rea.app` refuses to build rather than serve with a guard missing."""
    monkeypatch.delattr(ServerInvocationContext, "attach_invocation")
    with pytest.raises(SdkIncompatible, match=r"no method attach_invocation\(\)"):
        rea.app([restate.Service("ContractRefused")])


def test_a_missing_method_is_never_a_silently_skipped_guard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard for a method the SDK lacks raises `SdkIncompatible` instead of vanishing."""
    monkeypatch.delattr(ServerInvocationContext, "signal")
    stub = _sdk.context_method("signal")
    with pytest.raises(SdkIncompatible, match=r"no method signal\(\)"):
        stub(object(), "name")
    with pytest.raises(ValueError, match="CONTEXT_METHODS"):
        _sdk.context_method("not_a_method")


def test_a_changed_signature_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ctx.run`` without ``serde`` before ``max_attempts`` breaks rea's guard: reported."""

    def run(self: Any, name: str, action: Any, max_attempts: int | None = None) -> None: ...

    monkeypatch.setattr(ServerInvocationContext, "run", run)
    with pytest.raises(SdkIncompatible, match=r"ctx\.run\(\) takes \(name, action, max_attempts\)"):
        _sdk.check()


def test_a_missing_handler_field_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `Handler` without ``context_managers`` (rea's per-attempt hook) is reported."""
    monkeypatch.delitem(Handler.__dataclass_fields__, "context_managers")  # type: ignore[attr-defined]
    with pytest.raises(SdkIncompatible, match="Handler has no field 'context_managers'"):
        _sdk.check()


def test_a_missing_decorator_keyword_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A `Service` without ``invocation_context_managers`` is reported."""
    original = restate.Service.__init__

    def init(self: Any, name: str) -> None:
        original(self, name)

    monkeypatch.setattr(restate.Service, "__init__", init)
    with pytest.raises(SdkIncompatible, match="Service\\(\\) takes no invocation_context_managers"):
        _sdk.check()


# -- ruff keeps every other module off the SDK's internals ---------------------------------------
SNIPPET = (
    "from restate.server_context import ServerInvocationContext\n\nprint(ServerInvocationContext)\n"
)


def _ruff(filename: str, source: str = SNIPPET) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "TID251", "--stdin-filename", filename],
        input=source,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ruff_bans_sdk_internals_outside_the_boundary() -> None:
    """TID251: a rea module importing an SDK internal fails ruff."""
    result = _ruff("src/rea/_example.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "TID251 `restate.server_context` is banned" in result.stdout


def test_ruff_accepts_sdk_internals_in_the_boundary() -> None:
    """The same import is fine in ``src/rea/_sdk.py``."""
    result = _ruff("src/rea/_sdk.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_bans_attribute_paths_too() -> None:
    """``restate.serde.Serde`` after ``import restate`` is caught like an import."""
    result = _ruff("src/rea/_example.py", "import restate\n\nprint(restate.serde.Serde)\n")
    assert "TID251 `restate.serde` is banned" in result.stdout


def test_every_sdk_submodule_is_banned() -> None:
    """A module the SDK adds is banned too (only its public ones are left out)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    banned = set(config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"])
    submodules = {f"restate.{m.name}" for m in pkgutil.iter_modules(restate.__path__)}
    public = {"restate.logging", "restate.ext", "restate.__main__"}
    assert submodules - public == banned
