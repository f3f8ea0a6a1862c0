"""Restate's ingress HTTP API as `Request` builders and response parsers (no I/O here).

Facts this encodes, measured on restate-server 1.7.12:
- calls are ``POST /{service}[/{key}]/{handler}``, sends the same plus ``/send``, answering
  ``202 {"invocationId", "status", "executionTime"?}``;
- ``?delay=`` needs a unit (``1000ms``); a bare number is a 400;
- a handler without input must get no body *and* no content type, else 400; one with input
  needs ``content-type: application/json``;
- ``GET /restate/invocation/{id | service/[key/]handler/idempotency-key}/attach|output`` and
  ``/restate/workflow/{name}/{id}/attach|output``; ``output`` answers 470 until it finished;
- awakeables complete with ``POST /restate/awakeables/{id}/resolve|reject``; repeating it is
  harmless (the first completion wins, later ones still answer 202);
- cancel is the admin API's ``PATCH /invocations/{id}/cancel`` (202; 409 once completed),
  built by `rea.admin._core` for both clients.

Error answers never reach these parsers: `rea._http.Exchange` raises the client's typed error
for any answer a request does not say it reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from rea import _durations as durations
from rea._clients import Kind, _Endpoint, _endpoint_by_name, _endpoint_from_handler
from rea._http import Endpoint, Request, segment
from rea._idempotency import check_key
from rea._sdk import Serde, handler_of
from rea._serde import serde_for
from rea.admin import _core as admin
from rea.errors import InvalidInput, OutputSerializationError
from rea.ingress._core import Output, SendResult
from rea.ingress._errors import ERRORS

__all__ = [
    "NO_INPUT",
    "Target",
    "attach",
    "cancel",
    "complete_awakeable",
    "format_delay",
    "invocation_id_path",
    "invocation_path",
    "invoke",
    "output",
    "parse_duration",
    "target_by_name",
    "target_from_handler",
    "workflow_path",
]

#: Stands for "no input given": None is a value a handler may take.
NO_INPUT: Any = object()

_JSON = "application/json"
_NUMBER = r"\d+(?:\.\d+)?"


@dataclass(frozen=True, slots=True)
class Target:
    """A handler to call, and whether its types are known.

    Attributes:
        endpoint: Names, kind and serdes (shared with rea's in-handler clients).
        typed: From a handler reference or with explicit types: an input is required exactly
            when the handler takes one. Untyped (by name only): the input is optional, and
            omitting it sends no body, as handlers without input need.
    """

    endpoint: _Endpoint
    typed: bool

    @property
    def name(self) -> str:
        return self.endpoint.target


@functools.lru_cache(maxsize=512)
def target_from_handler(fn: Callable[..., Any], kind: Kind) -> Target:
    """The target of a decorated handler, with its annotated types.

    Cached: reading a handler's signature costs ~40 us, and ``client.service(fn).call(x)``
    inline on every request is a natural way to write it.

    Raises:
        TypeError: `fn` is not a Restate handler, or a handler of another kind.
    """
    try:
        actual = handler_of(fn).service_kind
    except TypeError:  # not a handler: let the shared helper say so
        actual = kind
    if actual != kind:
        raise TypeError(f"{fn.__qualname__} is a {actual} handler: use client.{actual}()")
    return Target(_endpoint_from_handler(fn, kind), typed=True)


def target_by_name(service: str, handler: str, kind: Kind, types: tuple[Any, ...]) -> Target:
    """A target by name; `types` is ``(input_type, output_type)`` or empty (both Any).

    Raises:
        ValueError: an empty name.
    """
    if types:
        # None as the input type means "no input", as in annotations.
        types = tuple(type(None) if t is None else t for t in types)
    return Target(_endpoint_by_name(service, handler, kind, types), typed=bool(types))


def parse_duration(text: str) -> timedelta:
    """A duration from friendly text (``"10s"``, ``"1h 30m"``, ``"500ms"``) or ISO 8601.

    Raises:
        ValueError: a bare number (no unit), years or months, or text that is no duration.
    """
    stripped = text.strip()
    if re.fullmatch(_NUMBER, stripped):
        raise ValueError(
            f"delay {text!r} has no unit; write {stripped + 'ms'!r}, {stripped + 's'!r} or "
            "pass a timedelta (Restate rejects a bare number)"
        )
    try:
        return durations.parse_duration(text)
    except ValueError as exc:
        raise ValueError(f"delay {text!r}: {exc}") from None


def format_delay(delay: timedelta | str) -> str:
    """The ``?delay=`` value for `delay`: whole milliseconds with their unit (``"1500ms"``).

    Raises:
        ValueError: a negative delay, or a string `parse_duration` rejects.
        TypeError: neither a timedelta nor a string (a number has no unit).
    """
    if isinstance(delay, str):
        delay = parse_duration(delay)
    elif not isinstance(delay, timedelta):
        raise TypeError(f"delay must be a timedelta or a string with a unit, not {delay!r}")
    if delay < timedelta(0):
        raise ValueError(f"delay must not be negative, got {delay}")
    return f"{round(delay / timedelta(milliseconds=1))}ms"


def _decode(serde: Serde[Any], response: httpx.Response, operation: str) -> Any:
    try:
        return serde.deserialize(response.content)
    except (InvalidInput, ValueError) as exc:
        detail = str(exc).removeprefix("invalid input: ")  # it is the output, not an input
        message = f"the response does not fit the output type: {detail}"
        raise ERRORS.unreadable(response, operation, message) from exc


def _value_parser(serde: Serde[Any], operation: str) -> Callable[[httpx.Response], Any]:
    def parse(response: httpx.Response) -> Any:
        return _decode(serde, response, operation)

    return parse


def _unfinished(response: httpx.Response) -> bool:
    return response.status_code == 470  # "the invocation exists but has not completed yet"


def _output_parser(serde: Serde[Any], operation: str) -> Callable[[httpx.Response], Any]:
    def parse(response: httpx.Response) -> Output[Any]:
        if _unfinished(response):
            return Output(ready=False)
        return Output(ready=True, value=_decode(serde, response, operation))

    return parse


def _sent(response: httpx.Response) -> SendResult:
    # A body that is not this shape raises; the exchange makes that an InvalidResponse.
    body = response.json()
    due = body.get("executionTime")
    return SendResult(
        invocation_id=body["invocationId"],
        status=body["status"],
        execution_time=datetime.fromisoformat(due) if due else None,
    )


def _body(target: Target, value: Any) -> bytes | None:
    """The request body for `value`: None for no input (then no content type is sent)."""
    endpoint = target.endpoint
    if value is NO_INPUT:
        if target.typed and endpoint.takes_input:
            raise TypeError(f"{target.name} takes an input: pass it")
        return None
    if target.typed and not endpoint.takes_input:
        if value is not None:
            raise TypeError(f"{target.name} takes no input")
        return None
    try:
        # A None input is JSON null: an empty body with a JSON content type is not an input.
        return endpoint.input_serde.serialize(value) or b"null"
    except OutputSerializationError as exc:
        raise TypeError(f"the input for {target.name} does not fit its type: {exc}") from exc


def invoke(
    target: Target,
    key: str | None,
    value: Any,
    *,
    send: bool = False,
    delay: timedelta | str | None = None,
    idempotency_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    idempotent: bool = False,
    retry_hint: str = "an idempotency key makes it safe",
) -> Request[Any]:
    """A call (or with `send`, a send) of `target`, for the object or workflow `key`.

    Args:
        target: The handler.
        key: The object key or workflow id (None for services).
        value: The input, or `NO_INPUT`.
        send: Do not wait for the result; answer with a `SendResult`.
        delay: For sends, when to run it.
        idempotency_key: Deduplicates the invocation; makes the request safe to retry.
        headers: Extra headers, passed to the handler.
        idempotent: Repeating it does nothing more even without a key (a workflow submit).
        retry_hint: What would make it safe to repeat, for the message when it is not.

    Raises:
        ValueError: a missing key, a bad delay, or a delay on a call.
        TypeError: an input where none is taken, or a missing or ill-typed one.
    """
    endpoint = target.endpoint
    verb = "send to" if send else "call to"
    operation = f"{verb} {target.name}"
    path = "/" + segment(endpoint.service, "the service name")
    if endpoint.kind != "service":
        path += "/" + segment(key or "", f"the key of {target.name}")
    path += "/" + segment(endpoint.handler, "the handler name") + ("/send" if send else "")
    request_headers = dict(headers or {})
    body = _body(target, value)
    if body is not None:
        request_headers["content-type"] = _JSON
    checked_key = check_key(idempotency_key, ctx=None, target=target.name)
    if checked_key is not None:
        request_headers["idempotency-key"] = checked_key
    params: dict[str, str] = {}
    if delay is not None:
        if not send:
            raise ValueError("delay is for sends only")
        params["delay"] = format_delay(delay)
    return Request(
        "POST",
        path,
        operation,
        _sent if send else _value_parser(endpoint.output_serde, operation),
        params=params,
        headers=request_headers,
        body=body,
        safe_to_retry=idempotent or checked_key is not None,
        retry_hint=retry_hint,
    )


def invocation_path(target: Target, key: str | None, idempotency_key: str) -> tuple[str, str]:
    """The ``/restate/...`` path of an invocation found by its idempotency key, and its name."""
    endpoint = target.endpoint
    parts = [endpoint.service] + ([key or ""] if endpoint.kind == "object" else [])
    parts += [endpoint.handler, idempotency_key]
    path = "/restate/invocation/" + "/".join(segment(p, "a path part") for p in parts)
    on = f" of {key!r}" if endpoint.kind == "object" else ""
    return path, f"{target.name}{on} with idempotency key {idempotency_key!r}"


def workflow_path(target: Target, workflow_id: str) -> str:
    """The ``/restate/workflow/...`` path of a workflow run."""
    name = segment(target.endpoint.service, "the workflow name")
    return f"/restate/workflow/{name}/{segment(workflow_id, 'the workflow id')}"


def invocation_id_path(invocation_id: str) -> str:
    """The ``/restate/invocation/...`` path of an invocation found by its id."""
    return "/restate/invocation/" + segment(invocation_id, "the invocation id")


def attach(path: str, serde: Serde[Any], what: str) -> Request[Any]:
    """Wait for the result of the invocation at `path` (a read: safe to retry)."""
    operation = f"attach to {what}"
    parse = _value_parser(serde, operation)
    return Request("GET", path + "/attach", operation, parse, safe_to_retry=True)


def output(path: str, serde: Serde[Any], what: str) -> Request[Output[Any]]:
    """Read the result of the invocation at `path` if it finished (a read: safe to retry)."""
    operation = f"output of {what}"
    parse = _output_parser(serde, operation)
    return Request(
        "GET",
        path + "/output",
        operation,
        parse,
        safe_to_retry=True,
        reads=lambda response: response.is_success or _unfinished(response),
    )


def _nothing(response: httpx.Response) -> None:
    return None


def complete_awakeable(awakeable_id: str, value: Any, *, reject: bool) -> Request[Any]:
    """Resolve the awakeable with `value` (JSON), or reject it with the message `value`.

    Safe to retry: the first completion wins and a repeated one is ignored.
    """
    verb = "reject" if reject else "resolve"
    operation = f"{verb} awakeable {awakeable_id}"
    path = f"/restate/awakeables/{segment(awakeable_id, 'the awakeable id')}/{verb}"
    if reject:
        body, content_type = str(value).encode(), "text/plain; charset=utf-8"
    else:
        body, content_type = serde_for(Any).serialize(value) or b"null", _JSON
    headers = {"content-type": content_type}
    return Request(
        "POST", path, operation, _nothing, headers=headers, body=body, safe_to_retry=True
    )


def cancel(admin_url: str | None, invocation_id: str) -> Request[bool]:
    """`rea.AdminClient.cancel`'s request, sent to the admin API at `admin_url`.

    Raises:
        ValueError: the client has no admin URL.
    """
    if not admin_url:
        raise ValueError(
            "cancel() uses Restate's admin API: create the client with admin_url=, e.g. "
            "IngressClient('http://localhost:8080', admin_url='http://localhost:9070')"
        )
    return replace(admin.cancel(invocation_id), endpoint=Endpoint("admin API", admin_url))
