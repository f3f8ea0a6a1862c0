"""The sans-IO core of the admin clients: each operation as a `rea._http.Request`.

Every public operation of `AdminClient` and `AsyncAdminClient` is one builder function here; it
returns a `Request` (method, path, query parameters, JSON body, a parser, and whether repeating
it is safe). The clients only send it (`rea._http`, shared with the ingress clients).
Builders' docstrings and signatures are the clients' methods' docstrings and signatures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, TypeVar

import httpx

from rea._durations import format_duration
from rea._http import Api, Endpoint, Request, segment
from rea.admin._errors import ERRORS, AdminError
from rea.admin._models import Deployment, InvocationInfo, ServerVersion, ServiceInfo

T = TypeVar("T")

#: Where ``restate-server`` listens for admin requests by default.
DEFAULT_ADMIN_URL = "http://127.0.0.1:9070"
#: Seconds to wait for an answer (discovery and SQL queries can take a moment).
DEFAULT_TIMEOUT = 30.0
_JSON = {"content-type": "application/json"}


def api(url: str, retries: int) -> Api:
    """The admin API at `url` as `rea._http` sees it: its errors and retries."""
    return Api(Endpoint("admin API", url), ERRORS, retries)


def _call(
    method: str,
    path: str,
    operation: str,
    parse: Callable[[httpx.Response], T],
    *,
    body: Any = None,
    params: Mapping[str, str] | None = None,
    safe: bool | None = None,
) -> Request[T]:
    """A request with a JSON `body`; `safe` (to repeat) defaults to True for GETs only."""
    return Request(
        method,
        path,
        operation,
        parse,
        params=params,
        headers=None if body is None else _JSON,
        body=None if body is None else json.dumps(body).encode(),
        safe_to_retry=method == "GET" if safe is None else safe,
    )


# -- parsing helpers ----------------------------------------------------------------------------
def _none(response: httpx.Response) -> None:
    return None


def _deployment(response: httpx.Response) -> Deployment:
    return Deployment.from_json(response.json())


def _service(response: httpx.Response) -> ServiceInfo:
    return ServiceInfo.from_json(response.json())


def _rows(response: httpx.Response) -> list[dict[str, Any]]:
    rows = response.json()["rows"]
    if not isinstance(rows, list):
        raise TypeError(f"'rows' is a {type(rows).__name__}, not a list")
    return [dict(row) for row in rows]


def sql_string(value: str) -> str:
    """`value` as a SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _invocation_call(
    invocation_id: str,
    action: str,
    parse: Callable[[httpx.Response], T],
    **params: str | None,
) -> Request[T]:
    query = {k: v for k, v in params.items() if v is not None}
    path = f"/invocations/{segment(invocation_id, 'the invocation id')}/{action}"
    return _call("PATCH", path, f"{action} of {invocation_id}", parse, params=query or None)


def _already_completed(response: httpx.Response) -> bool:
    return response.status_code == 409 and b"completed" in response.content


def _stop(invocation_id: str, action: str) -> Request[bool]:
    """Cancel or kill: True when it was running, False when it had already completed.

    Safe to repeat: a second attempt finds it stopping or completed, and says so.
    """
    request = _invocation_call(invocation_id, action, lambda r: not _already_completed(r))
    return replace(
        request,
        safe_to_retry=True,
        reads=lambda response: response.is_success or _already_completed(response),
    )


# -- deployments and services -------------------------------------------------------------------
def register(
    uri: str,
    *,
    force: bool = True,
    use_http_11: bool = False,
    additional_headers: Mapping[str, str] | None = None,
    breaking: bool = False,
) -> Request[Deployment]:
    """Register the deployment at `uri` (discovery runs before this returns).

    Args:
        uri: The app's URL, as the Restate server reaches it.
        force: Replace a deployment already registered at the same URI (implies `breaking`).
        use_http_11: Talk HTTP/1.1 to the app (request-response mode) instead of HTTP/2.
        additional_headers: Headers the server adds to every request to the app.
        breaking: Accept schema changes that are incompatible with earlier revisions.

    Returns:
        The new `Deployment` with its services and handlers.

    Raises:
        AdminError: discovery failed (status 500, code ``META0003`` when the app is down) or
            the registration conflicts (4xx).
    """
    body: dict[str, Any] = {
        "uri": uri,
        "force": force,
        "use_http_11": use_http_11,
        "breaking": breaking,
    }
    if additional_headers:
        body["additional_headers"] = dict(additional_headers)
    return _call(
        "POST", "/deployments", f"registration of {uri}", _deployment, body=body, safe=False
    )


def services() -> Request[list[ServiceInfo]]:
    """Every registered service, sorted by name."""

    def parse(response: httpx.Response) -> list[ServiceInfo]:
        found = (ServiceInfo.from_json(s) for s in response.json()["services"])
        return sorted(found, key=lambda s: s.name)

    return _call("GET", "/services", "list of services", parse)


def service(name: str) -> Request[ServiceInfo]:
    """The service called `name`, with its handlers and settings.

    Raises:
        AdminError: status 404 when no such service is registered.
    """
    path = f"/services/{segment(name, 'the service name')}"
    return _call("GET", path, f"lookup of service {name!r}", _service)


def patch_service(
    name: str,
    *,
    public: bool | None = None,
    idempotency_retention: timedelta | None = None,
    journal_retention: timedelta | None = None,
    workflow_completion_retention: timedelta | None = None,
    inactivity_timeout: timedelta | None = None,
    abort_timeout: timedelta | None = None,
) -> Request[ServiceInfo]:
    """Change settings of service `name`; None leaves a setting as it is.

    The next registration of the service's deployment resets them to what the code declares.
    The retry policy cannot be changed here (only the code sets it).

    Args:
        name: The service.
        public: Whether the ingress accepts calls to it.
        idempotency_retention, journal_retention, inactivity_timeout, abort_timeout: New values.
        workflow_completion_retention: Workflows only (other kinds answer 400).

    Returns:
        The service with its new settings.

    Raises:
        ValueError: a negative duration.
        AdminError: 404 unknown service, 400 a setting that does not apply to its kind.
    """
    given = {
        "idempotency_retention": idempotency_retention,
        "journal_retention": journal_retention,
        "workflow_completion_retention": workflow_completion_retention,
        "inactivity_timeout": inactivity_timeout,
        "abort_timeout": abort_timeout,
    }
    body: dict[str, Any] = {k: format_duration(v) for k, v in given.items() if v is not None}
    if public is not None:
        body["public"] = public
    path = f"/services/{segment(name, 'the service name')}"
    return _call("PATCH", path, f"update of service {name!r}", _service, body=body)


# -- SQL ----------------------------------------------------------------------------------------
def query(sql: str) -> Request[list[dict[str, Any]]]:
    """Run a SQL query on the server's tables (``sys_invocation``, ``sys_journal``, ``state``...).

    Returns:
        The rows as dicts; a column whose value is NULL is absent from its row.

    Raises:
        AdminError: status 500 with DataFusion's message for a bad query.
    """
    return _call("POST", "/query", "query", _rows, body={"query": sql}, safe=True)


def invocations(
    *, status: str | None = None, service: str | None = None, limit: int = 100
) -> Request[list[InvocationInfo]]:
    """The newest invocations (at most `limit`), optionally of one status or service.

    Args:
        status: Only this status (``running``, ``suspended``, ``backing-off``, ``paused``,
            ``completed``, ``pending``, ``scheduled``, ``ready``).
        service: Only invocations of this service (or virtual object, or workflow).
        limit: How many rows at most, newest first.

    Raises:
        ValueError: `limit` is below 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    where = []
    if status is not None:
        where.append(f"status = {sql_string(status)}")
    if service is not None:
        where.append(f"target_service_name = {sql_string(service)}")
    sql = "SELECT * FROM sys_invocation"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY created_at DESC LIMIT {int(limit)}"

    def parse(response: httpx.Response) -> list[InvocationInfo]:
        return [InvocationInfo.from_row(row) for row in _rows(response)]

    return _call("POST", "/query", "list of invocations", parse, body={"query": sql}, safe=True)


def invocation(invocation_id: str) -> Request[InvocationInfo]:
    """The invocation `invocation_id`.

    Raises:
        AdminError: status 404 when the server has no such invocation (never made, or purged).
    """

    operation = f"lookup of invocation {invocation_id}"

    def parse(response: httpx.Response) -> InvocationInfo:
        rows = _rows(response)
        if not rows:
            message = f"The requested invocation '{invocation_id}' does not exist"
            raise AdminError(message, status=404, operation=operation)
        return InvocationInfo.from_row(rows[0])

    sql = f"SELECT * FROM sys_invocation WHERE id = {sql_string(invocation_id)}"
    return _call("POST", "/query", operation, parse, body={"query": sql}, safe=True)


# -- invocation lifecycle -----------------------------------------------------------------------
def cancel(invocation_id: str) -> Request[bool]:
    """Cancel an invocation gracefully: the handler sees a ``TerminalError`` 409 and can compensate.

    Returns:
        True when the cancellation was accepted; False when the invocation had already
        completed (there was nothing to cancel). Repeating it is harmless.

    Raises:
        AdminError: 404 unknown invocation, 400 malformed id.
    """
    return _stop(invocation_id, "cancel")


def kill(invocation_id: str) -> Request[bool]:
    """Stop an invocation at once, without running any more of its code (result ``[409] killed``).

    Returns:
        True when the kill was accepted; False when the invocation had already completed.

    Raises:
        AdminError: 404 unknown invocation, 400 malformed id.
    """
    return _stop(invocation_id, "kill")


def pause(invocation_id: str) -> Request[None]:
    """Pause an invocation that is running or backing off (status ``paused``) until `resume`.

    A suspended invocation is answered 200 but not paused: it is not running.

    Raises:
        AdminError: 404 unknown invocation, 409 not running (completed).
    """
    return _invocation_call(invocation_id, "pause", _none)


def resume(invocation_id: str, deployment: str | None = None) -> Request[None]:
    """Resume a paused (or suspended, or backing-off) invocation now.

    Args:
        invocation_id: The invocation.
        deployment: ``"latest"``, ``"keep"`` (its pinned deployment) or a deployment id
            (``dp_...``); default: the server's choice (keep).

    Raises:
        AdminError: 404 unknown invocation, 409 completed, 400 bad deployment.
    """
    return _invocation_call(invocation_id, "resume", _none, deployment=deployment)


def purge(invocation_id: str) -> Request[None]:
    """Remove a completed invocation, its journal and its idempotency record.

    Raises:
        AdminError: 404 unknown invocation, 409 not completed yet.
    """
    return _invocation_call(invocation_id, "purge", _none)


def restart_as_new(
    invocation_id: str, from_index: int | None = None, deployment: str | None = None
) -> Request[str]:
    """Run a completed invocation again as a new invocation with the same input.

    Args:
        invocation_id: A completed invocation whose journal is still retained.
        from_index: Keep the original journal up to this entry (included) and replay it;
            default: start from scratch.
        deployment: ``"latest"``, ``"keep"`` or a deployment id (``dp_...``).

    Returns:
        The new invocation's id.

    Raises:
        ValueError: a negative `from_index`.
        AdminError: 409 still running, 422 not restartable (workflows cannot be restarted),
            400 a `from_index` prefix with unfinished commands, 404 unknown invocation.
    """
    if from_index is not None and from_index < 0:
        raise ValueError(f"from_index cannot be negative: {from_index}")
    return _invocation_call(
        invocation_id,
        "restart-as-new",
        lambda r: str(r.json()["new_invocation_id"]),
        deployment=deployment,
        **{"from": None if from_index is None else str(int(from_index))},
    )


# -- server -------------------------------------------------------------------------------------
def version() -> Request[ServerVersion]:
    """The server's version, admin API versions and experimental features."""
    return _call("GET", "/version", "version check", lambda r: ServerVersion.from_json(r.json()))


def supports(feature: str) -> Request[bool]:
    """Whether the server has experimental `feature` (a key of `version().features`) enabled."""

    def parse(response: httpx.Response) -> bool:
        return ServerVersion.from_json(response.json()).supports(feature)

    return _call("GET", "/version", "version check", parse)
