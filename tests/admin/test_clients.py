"""AdminClient and AsyncAdminClient against httpx.MockTransport: requests, parsing, errors.

Every test runs with both clients (the `admin` fixture), which share one sans-IO core.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from rea.admin import (
    AdminClient,
    AdminError,
    AdminUnavailable,
    AsyncAdminClient,
    Deployment,
    InvocationInfo,
    ServiceInfo,
)
from rea.errors import ReaError, RestateError, RestateUnavailable

Handler = Callable[[httpx.Request], httpx.Response]

SERVICE = {
    "name": "Counter",
    "ty": "VirtualObject",
    "handlers": [
        {"name": "get", "ty": "Shared", "public": True, "input_description": "none",
         "output_description": "JSON integer", "output_json_schema": {"type": "integer"}},
        {"name": "add", "ty": "Exclusive", "public": True, "input_description": "JSON integer",
         "output_description": "JSON integer", "idempotency_retention": "3h"},
    ],
    "deployment_id": "dp_1",
    "revision": 2,
    "public": True,
    "idempotency_retention": "1d",
    "journal_retention": "1h 30m",
    "inactivity_timeout": "0s",
    "abort_timeout": "10s",
    "metadata": {"rea.plane": "data"},
    "retry_policy": {"max_attempts": 3},
}  # fmt: skip

ROW = {
    "id": "inv_1abc",
    "target": "Counter/k/add",
    "target_service_name": "Counter",
    "target_service_key": "k",
    "target_handler_name": "add",
    "target_service_ty": "virtual_object",
    "status": "backing-off",
    "created_at": "2026-11-24T20:01:38.617Z",
    "modified_at": "2026-11-24T20:01:39.000000001Z",
    "retry_count": 2,
    "next_retry_at": "2026-11-24T20:01:40Z",
    "last_failure": "[500] boom",
    "last_failure_error_code": "RT0007",
    "invoked_by": "ingress",
    "pinned_deployment_id": "dp_1",
    "journal_size": 3,
}


class Recorder:
    """A MockTransport handler that records requests and answers with canned responses."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self) -> Any:
        return json.loads(self.last.content)


Run = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def admin(request: pytest.FixtureRequest) -> Callable[[Recorder], Run]:
    """``admin(recorder)(op, *args, **kwargs)`` runs one operation on a fresh client."""

    def bind(recorder: Recorder, **options: Any) -> Run:
        transport = httpx.MockTransport(recorder)

        def run_sync(op: str, *args: Any, **kwargs: Any) -> Any:
            with AdminClient("http://admin:9070/", transport=transport, **options) as client:
                return getattr(client, op)(*args, **kwargs)

        async def run_async(op: str, *args: Any, **kwargs: Any) -> Any:
            async with AsyncAdminClient("http://admin:9070", transport=transport, **options) as c:
                return await getattr(c, op)(*args, **kwargs)

        if request.param == "sync":
            return run_sync
        return lambda op, *args, **kwargs: asyncio.run(run_async(op, *args, **kwargs))

    return bind


def ok(body: Any = None, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body) if body is not None else httpx.Response(status)


# -- requests and parsing -----------------------------------------------------------------------
def test_register_posts_the_deployment_and_parses_it(admin: Any) -> None:
    """POST /deployments with force by default; the answer becomes a typed Deployment."""
    rec = Recorder(ok({"id": "dp_1", "services": [SERVICE], "sdk_version": "py/1.3"}, 201))
    deployment = admin(rec)("register", "http://app:9080")
    assert (rec.last.method, rec.last.url.path) == ("POST", "/deployments")
    assert rec.body() == {
        "uri": "http://app:9080",
        "force": True,
        "use_http_11": False,
        "breaking": False,
    }
    assert isinstance(deployment, Deployment)
    assert deployment.id == "dp_1"
    assert deployment.sdk_version == "py/1.3"
    counter = deployment.service("Counter")
    assert (counter.type, counter.keyed) == ("VirtualObject", True)
    assert [(h.name, h.type) for h in counter.handlers] == [("add", "Exclusive"), ("get", "Shared")]
    assert deployment.raw["services"][0]["name"] == "Counter"


def test_register_options(admin: Any) -> None:
    rec = Recorder(ok({"id": "dp_2", "services": []}, 201))
    admin(rec)(
        "register",
        "http://app:9080",
        force=False,
        use_http_11=True,
        breaking=True,
        additional_headers={"x-api-key": "k"},
    )
    assert rec.body() == {
        "uri": "http://app:9080",
        "force": False,
        "use_http_11": True,
        "breaking": True,
        "additional_headers": {"x-api-key": "k"},
    }


def test_services_and_service(admin: Any) -> None:
    """Services come sorted by name, with durations as timedeltas and handler overrides."""
    other = dict(SERVICE, name="Alpha", ty="Service", handlers=[])
    services = admin(Recorder(ok({"services": [SERVICE, other]})))("services")
    assert [s.name for s in services] == ["Alpha", "Counter"]

    rec = Recorder(ok(SERVICE))
    counter = admin(rec)("service", "Counter")
    assert isinstance(counter, ServiceInfo)
    assert (rec.last.method, rec.last.url.path) == ("GET", "/services/Counter")
    assert counter.idempotency_retention == timedelta(days=1)
    assert counter.journal_retention == timedelta(minutes=90)
    assert counter.inactivity_timeout == timedelta(0)
    assert counter.abort_timeout == timedelta(seconds=10)
    assert counter.workflow_completion_retention is None
    assert counter.metadata == {"rea.plane": "data"}
    assert (counter.deployment_id, counter.revision, counter.public) == ("dp_1", 2, True)
    assert counter.handler("add").idempotency_retention == timedelta(hours=3)
    assert counter.handler("get").output_schema == {"type": "integer"}
    with pytest.raises(KeyError, match="no handler 'nope'"):
        counter.handler("nope")


def test_names_are_quoted_in_paths(admin: Any) -> None:
    rec = Recorder(ok(SERVICE))
    admin(rec)("service", "a/b c")
    assert rec.last.url.raw_path == b"/services/a%2Fb%20c"


def test_patch_service_sends_friendly_durations(admin: Any) -> None:
    """Only the settings given are sent, durations in the server's friendly form."""
    rec = Recorder(ok(SERVICE))
    admin(rec)(
        "patch_service",
        "Counter",
        public=False,
        idempotency_retention=timedelta(hours=2),
        journal_retention=timedelta(minutes=90),
        inactivity_timeout=timedelta(seconds=30),
        abort_timeout=timedelta(minutes=1),
        workflow_completion_retention=timedelta(days=1),
    )
    assert (rec.last.method, rec.last.url.path) == ("PATCH", "/services/Counter")
    assert rec.body() == {
        "public": False,
        "idempotency_retention": "2h",
        "journal_retention": "1h 30m",
        "inactivity_timeout": "30s",
        "abort_timeout": "1m",
        "workflow_completion_retention": "1d",
    }
    admin(rec)("patch_service", "Counter", journal_retention=timedelta(0))
    assert rec.body() == {"journal_retention": "0s"}


def test_patch_service_refuses_negative_durations(admin: Any) -> None:
    rec = Recorder(ok(SERVICE))
    with pytest.raises(ValueError, match="negative"):
        admin(rec)("patch_service", "Counter", journal_retention=timedelta(seconds=-1))
    assert rec.requests == []


def test_query_asks_for_json_rows(admin: Any) -> None:
    rec = Recorder(ok({"rows": [{"n": 1}, {"n": 2}]}))
    rows = admin(rec)("query", "SELECT 1 AS n")
    assert rows == [{"n": 1}, {"n": 2}]
    assert (rec.last.method, rec.last.url.path) == ("POST", "/query")
    assert rec.last.headers["accept"] == "application/json"
    assert rec.body() == {"query": "SELECT 1 AS n"}


def test_invocations_builds_sql_and_parses_rows(admin: Any) -> None:
    """Filters become an escaped WHERE clause, newest first; rows become InvocationInfo."""
    rec = Recorder(ok({"rows": [ROW]}))
    (info,) = admin(rec)("invocations", status="backing-off", service="O'Brien", limit=5)
    assert rec.body()["query"] == (
        "SELECT * FROM sys_invocation WHERE status = 'backing-off' "
        "AND target_service_name = 'O''Brien' ORDER BY created_at DESC LIMIT 5"
    )
    assert isinstance(info, InvocationInfo)
    assert (info.id, info.target, info.service, info.key, info.handler) == (
        "inv_1abc",
        "Counter/k/add",
        "Counter",
        "k",
        "add",
    )
    assert info.status == "backing-off"
    assert info.created_at == datetime(2026, 11, 24, 20, 1, 38, 617000, tzinfo=UTC)
    assert info.modified_at == datetime(2026, 11, 24, 20, 1, 39, tzinfo=UTC)
    assert info.next_retry_at == datetime(2026, 11, 24, 20, 1, 40, tzinfo=UTC)
    assert (info.retry_count, info.last_failure, info.last_failure_code) == (
        2,
        "[500] boom",
        "RT0007",
    )
    assert info.completed_at is None
    assert info.completion_result is None
    assert (info.deployment_id, info.journal_size, info.invoked_by) == ("dp_1", 3, "ingress")

    admin(rec)("invocations")
    assert rec.body()["query"] == (
        "SELECT * FROM sys_invocation ORDER BY created_at DESC LIMIT 100"
    )


def test_invocations_limit_must_be_positive(admin: Any) -> None:
    with pytest.raises(ValueError, match="limit"):
        admin(Recorder(ok({"rows": []})))("invocations", limit=0)


def test_invocation_by_id(admin: Any) -> None:
    rec = Recorder(ok({"rows": [ROW]}))
    assert admin(rec)("invocation", "inv_1abc").id == "inv_1abc"
    assert rec.body()["query"] == "SELECT * FROM sys_invocation WHERE id = 'inv_1abc'"

    with pytest.raises(AdminError) as caught:
        admin(Recorder(ok({"rows": []})))("invocation", "inv_1gone")
    assert caught.value.status == 404
    assert "inv_1gone" in caught.value.message


@pytest.mark.parametrize(
    ("op", "result"),
    [("cancel", True), ("kill", True), ("pause", None), ("purge", None), ("resume", None)],
)
def test_lifecycle_operations_patch_the_invocation(admin: Any, op: str, result: Any) -> None:
    rec = Recorder(ok(status=202))
    assert admin(rec)(op, "inv_1abc") is result
    assert (rec.last.method, rec.last.url.path) == ("PATCH", f"/invocations/inv_1abc/{op}")
    assert rec.last.url.query == b""


@pytest.mark.parametrize("op", ["cancel", "kill"])
def test_cancel_and_kill_of_a_completed_invocation_answer_false(admin: Any, op: str) -> None:
    """As the ingress client's cancel: False when there was nothing left to stop; an unknown
    id or another conflict is still an error."""
    done = {"message": "The invocation 'inv_1abc' was already completed.", "restate_code": None}
    assert admin(Recorder(ok(done, 409)))(op, "inv_1abc") is False
    gone = {"message": "The requested invocation 'inv_1x' does not exist", "restate_code": None}
    with pytest.raises(AdminError) as caught:
        admin(Recorder(ok(gone, 404)))(op, "inv_1x")
    assert caught.value.status == 404
    assert caught.value.operation == f"{op} of inv_1x"
    other = {"message": "conflict", "restate_code": None}
    with pytest.raises(AdminError):
        admin(Recorder(ok(other, 409)))(op, "inv_1abc")


def test_resume_on_a_deployment(admin: Any) -> None:
    rec = Recorder(ok())
    admin(rec)("resume", "inv_1abc", deployment="latest")
    assert rec.last.url.params["deployment"] == "latest"


def test_restart_as_new(admin: Any) -> None:
    """restart_as_new returns the new invocation's id; `from_index` becomes ``?from=``."""
    rec = Recorder(ok({"new_invocation_id": "inv_1new"}))
    assert admin(rec)("restart_as_new", "inv_1abc") == "inv_1new"
    assert rec.last.url.path == "/invocations/inv_1abc/restart-as-new"
    assert rec.last.url.query == b""
    admin(rec)("restart_as_new", "inv_1abc", from_index=2, deployment="keep")
    assert dict(rec.last.url.params) == {"from": "2", "deployment": "keep"}
    with pytest.raises(ValueError, match="negative"):
        admin(rec)("restart_as_new", "inv_1abc", from_index=-1)


def test_version_and_supports(admin: Any) -> None:
    answer = {
        "version": "1.7.12",
        "min_admin_api_version": 2,
        "max_admin_api_version": 4,
        "ingress_endpoint": "http://127.0.0.1:8080/",
        "features": {"protocol_v7": False, "vqueues": True},
    }
    rec = Recorder(ok(answer))
    version = admin(rec)("version")
    assert (rec.last.method, rec.last.url.path) == ("GET", "/version")
    assert version.version == "1.7.12"
    assert (version.min_admin_api_version, version.max_admin_api_version) == (2, 4)
    assert version.ingress_endpoint == "http://127.0.0.1:8080/"
    assert version.features == {"protocol_v7": False, "vqueues": True}
    assert admin(rec)("supports", "vqueues") is True
    assert admin(rec)("supports", "protocol_v7") is False
    assert admin(rec)("supports", "time_travel") is False


# -- connection settings ------------------------------------------------------------------------
def test_token_and_headers_are_sent(admin: Any) -> None:
    rec = Recorder(ok({"services": []}))
    admin(rec, auth_token="s3cret", headers={"X-Tenant": "t1"})("services")
    assert rec.last.headers["authorization"] == "Bearer s3cret"
    assert rec.last.headers["x-tenant"] == "t1"
    assert rec.last.headers["user-agent"].startswith("rea/")
    assert str(rec.last.url) == "http://admin:9070/services"


@pytest.mark.parametrize("url", ["admin:9070", "ftp://admin", "http://", ""])
def test_bad_url_is_a_value_error(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        AdminClient(url)
    with pytest.raises(ValueError, match="not an http"):
        AsyncAdminClient(url)


def test_sync_client_closes() -> None:
    client = AdminClient(transport=httpx.MockTransport(Recorder(ok())))
    assert client.url == "http://127.0.0.1:9070"
    assert repr(client) == "AdminClient('http://127.0.0.1:9070')"
    with client:
        pass
    assert client._http.is_closed


async def test_async_client_closes() -> None:
    client = AsyncAdminClient(transport=httpx.MockTransport(Recorder(ok())))
    async with client:
        pass
    assert client._http.is_closed


def test_methods_carry_the_operations_signature_and_docs() -> None:
    """help() and inspect show each operation's real parameters on both clients."""
    for client in (AdminClient(), AsyncAdminClient()):
        signature = inspect.signature(client.patch_service)
        assert list(signature.parameters)[:3] == ["name", "public", "idempotency_retention"]
        assert signature.return_annotation == "ServiceInfo"
        assert client.register.__name__ == "register"
        assert "deployment" in (client.register.__doc__ or "")
        assert inspect.signature(client.cancel).return_annotation == "bool"
        assert inspect.signature(client.pause).return_annotation == "None"
    assert inspect.iscoroutinefunction(AsyncAdminClient().cancel)
    assert "Cancel" in (AdminClient.cancel.__doc__ or "")


# -- errors -------------------------------------------------------------------------------------
def test_json_error_body_becomes_admin_error(admin: Any) -> None:
    """The server's JSON message and Restate code end up on the AdminError."""
    body = {"message": "[META0003] error when calling 'http://app/'", "restate_code": "META0003"}
    with pytest.raises(AdminError) as caught:
        admin(Recorder(ok(body, 500)))("register", "http://app")
    error = caught.value
    assert isinstance(error, ReaError)
    assert isinstance(error, RestateError)
    assert not isinstance(error, AdminUnavailable)
    assert (error.status, error.code, error.restate_code) == (500, 500, "META0003")
    assert (error.source, error.operation) == ("admin", "registration of http://app")
    assert error.message == "[META0003] error when calling 'http://app/'"
    assert str(error) == (
        "registration of http://app failed: [500 META0003] [META0003] error when calling "
        "'http://app/'"
    )


def test_not_found_service(admin: Any) -> None:
    body = {"message": "The requested service 'Nope' does not exist", "restate_code": None}
    with pytest.raises(AdminError) as caught:
        admin(Recorder(ok(body, 404)))("service", "Nope")
    assert (caught.value.status, caught.value.code, caught.value.restate_code) == (404, 404, None)
    assert str(caught.value) == (
        "lookup of service 'Nope' failed: [404] The requested service 'Nope' does not exist"
    )


def test_plain_text_and_empty_error_bodies(admin: Any) -> None:
    text = httpx.Response(422, text="Failed to deserialize the JSON body")
    with pytest.raises(AdminError, match="Failed to deserialize") as caught:
        admin(Recorder(text))("patch_service", "S", public=True)
    assert caught.value.status == 422

    with pytest.raises(AdminError, match=r"^version check failed: \[404\] Not Found$"):
        admin(Recorder(httpx.Response(404)))("version")


def test_unexpected_answer_is_an_admin_error(admin: Any) -> None:
    """A 200 that is not the API's JSON (a proxy page, say) is an AdminError, not a KeyError."""
    with pytest.raises(AdminError, match="unexpected answer to GET /services"):
        admin(Recorder(httpx.Response(200, text="<html>")))("services")
    with pytest.raises(AdminError, match="unexpected answer to POST /query"):
        admin(Recorder(ok({"rows": [{"id": "inv_1"}]})))("invocations")


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "Connection refused"),
        (httpx.ReadTimeout("timed out"), "no answer in time"),
        (httpx.RemoteProtocolError("peer closed connection"), "peer closed"),
    ],
)
def test_transport_errors_are_admin_unavailable(
    admin: Any, exc: httpx.RequestError, reason: str
) -> None:
    with pytest.raises(AdminUnavailable) as caught:
        admin(Recorder(exc))("services")
    assert isinstance(caught.value, RestateUnavailable)
    assert caught.value.status is None
    assert (caught.value.source, caught.value.operation) == ("transport", "list of services")
    assert "cannot reach the Restate admin API at http://admin:9070" in str(caught.value)
    assert reason in str(caught.value)


# -- retries ------------------------------------------------------------------------------------
def _sent(request: httpx.Request) -> Exception:
    return httpx.ReadError("connection reset by peer", request=request)


def _refused(request: httpx.Request) -> Exception:
    return httpx.ConnectError("[Errno 111] Connection refused", request=request)


class Flaky(Recorder):
    """Raises ``fail(request)`` for the first `times` requests, then answers `then`."""

    def __init__(self, times: int, fail: Callable[[httpx.Request], Exception], then: Any) -> None:
        super().__init__(then)
        self.left = times
        self.fail = fail

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.left > 0:
            self.left -= 1
            self.requests.append(request)
            raise self.fail(request)
        return super().__call__(request)


@pytest.mark.parametrize(
    ("op", "args", "answer"),
    [
        ("register", ("http://app:9080",), lambda: ok({"id": "dp_1", "services": []}, 201)),
        ("pause", ("inv_1abc",), lambda: ok(status=202)),
        ("restart_as_new", ("inv_1abc",), lambda: ok({"new_invocation_id": "inv_1new"})),
        ("services", (), lambda: ok({"services": []})),
    ],
)
def test_connect_errors_are_retried_for_every_operation(
    admin: Any, op: str, args: tuple[str, ...], answer: Callable[[], httpx.Response]
) -> None:
    """No connection was made, so nothing reached the server: any operation may go again."""
    rec = Flaky(2, _refused, answer())
    admin(rec)(op, *args)
    assert len(rec.requests) == 3
    assert len({(r.method, str(r.url), r.content) for r in rec.requests}) == 1


@pytest.mark.parametrize(
    ("op", "args"),
    [("register", ("http://app:9080",)), ("pause", ("inv_1abc",)), ("purge", ("inv_1abc",))],
)
def test_other_failures_of_writes_are_not_retried(
    admin: Any, op: str, args: tuple[str, ...]
) -> None:
    """A read error after sending: the server may have acted on it, so it is raised at once."""
    rec = Flaky(1, _sent, ok(status=202))
    with pytest.raises(AdminUnavailable, match="not retried: it may have reached Restate"):
        admin(rec)(op, *args)
    assert len(rec.requests) == 1


@pytest.mark.parametrize(
    ("op", "args", "answer"),
    [
        ("services", (), lambda: ok({"services": []})),
        ("version", (), lambda: ok({"version": "1.7.12"})),
        ("query", ("SELECT 1",), lambda: ok({"rows": []})),
        ("invocations", (), lambda: ok({"rows": []})),
        ("cancel", ("inv_1abc",), lambda: ok(status=202)),
        ("kill", ("inv_1abc",), lambda: ok(status=202)),
    ],
)
def test_reads_cancel_and_kill_are_retried_after_any_failure(
    admin: Any, op: str, args: tuple[str, ...], answer: Callable[[], httpx.Response]
) -> None:
    """GETs and SQL queries are reads; a repeated cancel or kill finds its work done."""
    rec = Flaky(2, _sent, answer())
    admin(rec)(op, *args)
    assert len(rec.requests) == 3


def test_retries_are_bounded_and_configurable(admin: Any) -> None:
    rec = Flaky(10, _refused, ok({"services": []}))
    with pytest.raises(AdminUnavailable, match=r"\(after 3 attempts\)"):
        admin(rec)("services")
    assert len(rec.requests) == 3
    rec = Flaky(10, _refused, ok({"services": []}))
    with pytest.raises(AdminUnavailable, match=r"\(after 1 attempts\)"):
        admin(rec, retries=0)("services")
    assert len(rec.requests) == 1
    with pytest.raises(ValueError, match="retries"):
        AdminClient(retries=-1)


def test_a_gateway_error_is_unavailable_and_retried_only_when_safe(admin: Any) -> None:
    """A proxy's 503 (no Restate body) means the server was not reached, or may have been."""
    rec = Recorder(httpx.Response(503, text="no healthy upstream"), ok({"services": []}))
    assert admin(rec)("services") == []
    assert len(rec.requests) == 2
    rec = Recorder(httpx.Response(503, text="no healthy upstream"))
    with pytest.raises(AdminUnavailable, match="no healthy upstream") as caught:
        admin(rec)("register", "http://app:9080")
    assert caught.value.status == 503
    assert len(rec.requests) == 1
