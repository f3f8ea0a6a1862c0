"""The sans-IO core of the admin clients: each operation as a request plus a response parser.

Every public operation of `AdminClient` and `AsyncAdminClient` is one builder function here; it
returns a `Call` (method, path, query parameters, JSON body and a parser). The clients only send
the call with httpx and hand the response back to `Call.result`. Builders' docstrings and
signatures are the clients' methods' docstrings and signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from rea._durations import format_duration
from rea._version import __version__
from rea.admin._errors import AdminError, AdminUnavailable
from rea.admin._models import Deployment, InvocationInfo, ServerVersion, ServiceInfo

T = TypeVar("T")

#: Where ``restate-server`` listens for admin requests by default.
DEFAULT_ADMIN_URL = "http://127.0.0.1:9070"
#: Seconds to wait for an answer (discovery and SQL queries can take a moment).
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One admin API request and how to read its answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: Mapping[str, str] | None = None
    json: Any = None

    @property
    def request(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.request``."""
        return {"method": self.method, "url": self.path, "params": self.params, "json": self.json}

    def result(self, response: httpx.Response) -> T:
        """The parsed answer.

        Raises:
            AdminError: an error status, or an answer that is not what the API promises.
        """
        if response.status_code >= 400:
            raise error_from(response)
        try:
            return self.parse(response)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AdminError(
                response.status_code,
                f"unexpected answer to {self.method} {self.path}: {type(exc).__name__}: {exc}",
            ) from exc


# -- connection ---------------------------------------------------------------------------------
def client_options(
    url: str,
    *,
    auth_token: str | None,
    headers: Mapping[str, str] | None,
    timeout: float | httpx.Timeout | None,
) -> dict[str, Any]:
    """httpx client arguments for the admin API at `url`.

    Raises:
        ValueError: `url` is not an ``http://`` or ``https://`` URL with a host.
    """
    base = check_url(url)
    merged = {"accept": "application/json", "user-agent": f"rea/{__version__}"}
    if auth_token:
        merged["authorization"] = f"Bearer {auth_token}"
    merged.update({k.lower(): v for k, v in (headers or {}).items()})
    return {"base_url": base, "headers": merged, "timeout": timeout}


def check_url(url: str) -> str:
    """`url` without a trailing slash, once it is known to be an HTTP(S) URL with a host.

    Raises:
        ValueError: it is not.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"not an http(s) URL: {url!r} (expected something like {DEFAULT_ADMIN_URL})"
        )
    return url.strip().rstrip("/")


def unavailable(url: str, exc: httpx.RequestError) -> AdminUnavailable:
    """The error for a request that got no answer."""
    if isinstance(exc, httpx.TimeoutException):
        reason = "no answer in time"
    else:
        reason = str(exc) or type(exc).__name__
    return AdminUnavailable(f"cannot reach the Restate admin API at {url}: {reason}")


def error_from(response: httpx.Response) -> AdminError:
    """An `AdminError` from the server's error body (JSON ``message`` or plain text)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code: str | None = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = body["message"]
        code = body.get("restate_code") if isinstance(body.get("restate_code"), str) else None
    else:
        text = response.text.strip()
        request = response.request
        message = (
            text or f"{response.reason_phrase or 'error'} ({request.method} {request.url.path})"
        )
    return AdminError(response.status_code, message, code=code)


# -- parsing helpers ----------------------------------------------------------------------------
def _none(response: httpx.Response) -> None:
    return None


def _rows(response: httpx.Response) -> list[dict[str, Any]]:
    rows = response.json()["rows"]
    if not isinstance(rows, list):
        raise TypeError(f"'rows' is a {type(rows).__name__}, not a list")
    return [dict(row) for row in rows]


def _segment(value: str) -> str:
    if not value:
        raise ValueError("an empty name or id cannot be part of an admin API path")
    return quote(value, safe="")


def sql_string(value: str) -> str:
    """`value` as a SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _invocation_call(
    invocation_id: str,
    action: str,
    parse: Callable[[httpx.Response], T],
    **params: str | None,
) -> Call[T]:
    query = {k: v for k, v in params.items() if v is not None}
    path = f"/invocations/{_segment(invocation_id)}/{action}"
    return Call("PATCH", path, parse, params=query or None)


# -- deployments and services -------------------------------------------------------------------
def register(
    uri: str,
    *,
    force: bool = True,
    use_http_11: bool = False,
    additional_headers: Mapping[str, str] | None = None,
    breaking: bool = False,
) -> Call[Deployment]:
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
    return Call("POST", "/deployments", lambda r: Deployment.from_json(r.json()), json=body)


def services() -> Call[list[ServiceInfo]]:
    """Every registered service, sorted by name."""

    def parse(response: httpx.Response) -> list[ServiceInfo]:
        found = (ServiceInfo.from_json(s) for s in response.json()["services"])
        return sorted(found, key=lambda s: s.name)

    return Call("GET", "/services", parse)


def service(name: str) -> Call[ServiceInfo]:
    """The service called `name`, with its handlers and settings.

    Raises:
        AdminError: status 404 when no such service is registered.
    """
    return Call("GET", f"/services/{_segment(name)}", lambda r: ServiceInfo.from_json(r.json()))


def patch_service(
    name: str,
    *,
    public: bool | None = None,
    idempotency_retention: timedelta | None = None,
    journal_retention: timedelta | None = None,
    workflow_completion_retention: timedelta | None = None,
    inactivity_timeout: timedelta | None = None,
    abort_timeout: timedelta | None = None,
) -> Call[ServiceInfo]:
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
    return Call(
        "PATCH",
        f"/services/{_segment(name)}",
        lambda r: ServiceInfo.from_json(r.json()),
        json=body,
    )


# -- SQL ----------------------------------------------------------------------------------------
def query(sql: str) -> Call[list[dict[str, Any]]]:
    """Run a SQL query on the server's tables (``sys_invocation``, ``sys_journal``, ``state``...).

    Returns:
        The rows as dicts; a column whose value is NULL is absent from its row.

    Raises:
        AdminError: status 500 with DataFusion's message for a bad query.
    """
    return Call("POST", "/query", _rows, json={"query": sql})


def invocations(
    *, status: str | None = None, service: str | None = None, limit: int = 100
) -> Call[list[InvocationInfo]]:
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

    return Call("POST", "/query", parse, json={"query": sql})


def invocation(invocation_id: str) -> Call[InvocationInfo]:
    """The invocation `invocation_id`.

    Raises:
        AdminError: status 404 when the server has no such invocation (never made, or purged).
    """

    def parse(response: httpx.Response) -> InvocationInfo:
        rows = _rows(response)
        if not rows:
            raise AdminError(404, f"The requested invocation '{invocation_id}' does not exist")
        return InvocationInfo.from_row(rows[0])

    sql = f"SELECT * FROM sys_invocation WHERE id = {sql_string(invocation_id)}"
    return Call("POST", "/query", parse, json={"query": sql})


# -- invocation lifecycle -----------------------------------------------------------------------
def cancel(invocation_id: str) -> Call[None]:
    """Cancel an invocation gracefully: the handler sees a ``TerminalError`` 409 and can compensate.

    Raises:
        AdminError: 404 unknown invocation, 409 already completed, 400 malformed id.
    """
    return _invocation_call(invocation_id, "cancel", _none)


def kill(invocation_id: str) -> Call[None]:
    """Stop an invocation at once, without running any more of its code (result ``[409] killed``).

    Raises:
        AdminError: 404 unknown invocation, 409 already completed, 400 malformed id.
    """
    return _invocation_call(invocation_id, "kill", _none)


def pause(invocation_id: str) -> Call[None]:
    """Pause an invocation that is running or backing off (status ``paused``) until `resume`.

    A suspended invocation is answered 200 but not paused: it is not running.

    Raises:
        AdminError: 404 unknown invocation, 409 not running (completed).
    """
    return _invocation_call(invocation_id, "pause", _none)


def resume(invocation_id: str, deployment: str | None = None) -> Call[None]:
    """Resume a paused (or suspended, or backing-off) invocation now.

    Args:
        invocation_id: The invocation.
        deployment: ``"latest"``, ``"keep"`` (its pinned deployment) or a deployment id
            (``dp_...``); default: the server's choice (keep).

    Raises:
        AdminError: 404 unknown invocation, 409 completed, 400 bad deployment.
    """
    return _invocation_call(invocation_id, "resume", _none, deployment=deployment)


def purge(invocation_id: str) -> Call[None]:
    """Remove a completed invocation, its journal and its idempotency record.

    Raises:
        AdminError: 404 unknown invocation, 409 not completed yet.
    """
    return _invocation_call(invocation_id, "purge", _none)


def restart_as_new(
    invocation_id: str, from_index: int | None = None, deployment: str | None = None
) -> Call[str]:
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
def version() -> Call[ServerVersion]:
    """The server's version, admin API versions and experimental features."""
    return Call("GET", "/version", lambda r: ServerVersion.from_json(r.json()))


def supports(feature: str) -> Call[bool]:
    """Whether the server has experimental `feature` (a key of `version().features`) enabled."""
    return Call("GET", "/version", lambda r: ServerVersion.from_json(r.json()).supports(feature))
