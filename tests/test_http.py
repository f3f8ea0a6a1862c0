"""rea's one HTTP core (`rea._http`): URLs, headers, requests, retries and the two sending loops.

The ingress and admin clients are tested over it in tests/ingress and tests/admin; here it runs
on its own, with a client of two operations and error classes of the test's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from rea._http import (
    USER_AGENT,
    Api,
    AsyncClient,
    Endpoint,
    Exchange,
    Options,
    Request,
    SyncClient,
    check_url,
    client_headers,
    segment,
)
from rea._http_errors import ErrorKinds
from rea._version import __version__
from rea.errors import RestateError, RestateUnavailable

BASE = "http://restate.test:8080"


class Refused(RestateError):
    default_source = "test"


class Gone(RestateUnavailable, Refused):
    pass


ERRORS = ErrorKinds(
    classify=lambda failure: Gone if failure.unreachable else Refused,
    unavailable=Gone,
    invalid=Refused,
)


def api(retries: int = 2, guard: Callable[[str], None] | None = None) -> Api:
    return Api(Endpoint("test API", BASE), ERRORS, retries, guard=guard)


def request(*, safe: bool = False, **changes: Any) -> Request[Any]:
    options: dict[str, Any] = {
        "method": "POST",
        "path": "/things/a%2Fb",
        "operation": "making a thing",
        "parse": lambda response: response.json(),
        "safe_to_retry": safe,
        **changes,
    }
    return Request(**options)


# -- URLs, segments, headers --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:9070", "http://127.0.0.1:9070"),
        ("https://restate.example.com/", "https://restate.example.com"),
        ("  http://host:8080/prefix//  ", "http://host:8080/prefix"),
        ("HTTP://Host", "HTTP://Host"),
    ],
)
def test_check_url_strips_what_it_can(url: str, expected: str) -> None:
    assert check_url(url, what="ingress", example="http://127.0.0.1:8080") == expected


@pytest.mark.parametrize(
    "url", ["localhost:8080", "ftp://host", "http://", "", "http://[::1", "//host:80", "http:/x"]
)
def test_check_url_refuses_anything_but_http_with_a_host(url: str) -> None:
    """One message for every client: which URL, what was given, what a good one looks like."""
    with pytest.raises(ValueError) as caught:
        check_url(url, what="admin API", example="http://127.0.0.1:9070")
    assert str(caught.value) == (
        f"not an http(s) URL: {url!r} (the admin API URL looks like http://127.0.0.1:9070)"
    )


def test_segment_escapes_everything_but_unreserved_characters() -> None:
    assert segment("cart/7 a%b?c#d", "the key") == "cart%2F7%20a%25b%3Fc%23d"
    assert segment("inv_1abc-~.", "the id") == "inv_1abc-~."
    with pytest.raises(ValueError, match=r"^the key of Cart/add must not be empty$"):
        segment("", "the key of Cart/add")


def test_client_headers_user_agent_defaults_caller_and_token() -> None:
    """rea's user agent, then the client's defaults, then the caller's (replacing any of them
    whatever the case), then the bearer token."""
    assert USER_AGENT.split() == [f"rea/{__version__}", f"python-httpx/{httpx.__version__}"]
    plain = client_headers(None, auth_token=None)
    assert dict(plain) == {"user-agent": USER_AGENT}
    merged = client_headers(
        {"User-Agent": "mine", "Accept": "text/csv", "x-team": "blue"},
        auth_token="s3cret",
        defaults={"accept": "application/json"},
    )
    assert merged.get_list("user-agent") == ["mine"]
    assert merged.get_list("accept") == ["text/csv"]
    assert merged["x-team"] == "blue"
    assert merged["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize("token", ["", "  "])
def test_an_empty_token_is_a_mistake(token: str) -> None:
    with pytest.raises(ValueError, match="auth_token must not be empty"):
        client_headers(None, auth_token=token)


def test_negative_retries_are_refused() -> None:
    with pytest.raises(ValueError, match="retries must be 0 or more, got -1"):
        api(retries=-1)


# -- Exchange -----------------------------------------------------------------------------------
def test_exchange_builds_the_url_and_runs_the_guard_first() -> None:
    seen: list[str] = []
    exchange = Exchange(request(params={"delay": "10ms", "a b": "c&d"}), api(guard=seen.append))
    assert seen == ["making a thing"]
    assert exchange.url == f"{BASE}/things/a%2Fb?delay=10ms&a+b=c%26d"
    with httpx.Client(headers={"x-client": "1"}) as http:
        built = Exchange(request(headers={"x-one": "2"}, body=b"{}"), api()).build(http)
    assert (built.method, str(built.url), built.content) == ("POST", f"{BASE}/things/a%2Fb", b"{}")
    assert (built.headers["x-client"], built.headers["x-one"]) == ("1", "2")


def test_a_guard_that_raises_stops_the_exchange() -> None:
    def guard(operation: str) -> None:
        raise RuntimeError(f"no {operation} here")

    with pytest.raises(RuntimeError, match="no making a thing here"):
        Exchange(request(), api(guard=guard))


def test_another_endpoint_of_the_same_server() -> None:
    """The ingress client's cancel goes to the admin API: its URL and name in messages."""
    admin = Endpoint("admin API", "http://restate.test:9070")
    exchange = Exchange(request(endpoint=admin), api(retries=0))
    assert exchange.url == "http://restate.test:9070/things/a%2Fb"
    with pytest.raises(
        Gone, match=r"cannot reach the Restate admin API at http://restate\.test:9070"
    ):
        exchange.failed(httpx.ConnectError("refused"))


def _response(status: int, content: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, content=content, headers=headers)


def test_result_parses_what_the_request_reads_and_types_the_rest() -> None:
    exchange = Exchange(request(), api())
    assert exchange.result(_response(200, b'{"ok": 1}')) == {"ok": 1}
    with pytest.raises(Refused) as caught:
        exchange.result(_response(409, b'{"message": "busy", "restate_code": null}'))
    assert (caught.value.status, caught.value.message, caught.value.source) == (
        409,
        "busy",
        "admin",
    )
    assert caught.value.operation == "making a thing"
    with pytest.raises(Gone):
        exchange.result(_response(502, b"Bad Gateway"))
    unfinished = Exchange(
        request(reads=lambda r: r.status_code == 470, parse=lambda r: "later"), api()
    )
    assert unfinished.result(_response(470)) == "later"


def test_an_answer_the_parser_cannot_read_is_the_invalid_error() -> None:
    exchange = Exchange(request(), api())
    with pytest.raises(Refused) as caught:
        exchange.result(_response(200, b"<html>", **{"x-restate-id": "inv_1"}))
    error = caught.value
    assert error.message.startswith("unexpected answer to POST /things/a%2Fb: JSONDecodeError:")
    assert error.message.endswith("(body '<html>')")
    assert (error.status, error.source, error.invocation_id) == (200, "client", "inv_1")
    assert isinstance(error.__cause__, ValueError)


NOT_SENT = [httpx.ConnectError("refused"), httpx.ConnectTimeout("connect timed out")]
MAYBE_SENT = [
    httpx.ReadError("reset"),
    httpx.WriteError("broken pipe"),
    httpx.RemoteProtocolError("peer closed connection"),
    httpx.ReadTimeout("timed out"),
    httpx.WriteTimeout("timed out"),
    httpx.PoolTimeout("no connection free"),
]


@pytest.mark.parametrize("exc", NOT_SENT, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("safe", [False, True])
def test_nothing_sent_is_retried_whatever_the_request(exc: Exception, safe: bool) -> None:
    exchange = Exchange(request(safe=safe), api(retries=2))
    pauses = [exchange.failed(exc), exchange.failed(exc)]
    assert 0.025 <= pauses[0] <= 0.05
    assert 0.05 <= pauses[1] <= 0.1
    with pytest.raises(Gone, match=r"\(after 3 attempts\)$") as caught:
        exchange.failed(exc)
    assert caught.value.__cause__ is exc
    assert (caught.value.status, caught.value.source) == (None, "transport")


@pytest.mark.parametrize("exc", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_maybe_sent_is_retried_only_when_safe(exc: Exception) -> None:
    assert Exchange(request(safe=True), api(retries=1)).failed(exc) > 0
    unsafe = Exchange(request(retry_hint="a key makes it safe"), api(retries=5))
    with pytest.raises(Gone) as caught:
        unsafe.failed(exc)
    assert str(caught.value).endswith(
        "(not retried: it may have reached Restate; a key makes it safe)"
    )
    assert str(caught.value).startswith(
        f"making a thing failed: cannot reach the Restate test API at {BASE}: {type(exc).__name__}:"
    )


def test_timeouts_say_so() -> None:
    with pytest.raises(Gone, match=r"ReadTimeout: no answer in time \(timed out\)"):
        Exchange(request(), api()).failed(httpx.ReadTimeout("timed out"))


def test_a_gateway_error_is_retried_when_safe_and_raised_as_it_is_otherwise() -> None:
    gateway = Gone("no healthy upstream", status=503, operation="making a thing")
    assert Exchange(request(safe=True), api()).failed(gateway) > 0
    with pytest.raises(Gone) as caught:
        Exchange(request(), api()).failed(gateway)
    assert caught.value is gateway
    with pytest.raises(Gone) as caught:
        Exchange(request(safe=True), api(retries=0)).failed(gateway)
    assert caught.value is gateway


def test_backoff_doubles_up_to_a_second() -> None:
    exchange = Exchange(request(safe=True), api(retries=10))
    pauses = [exchange.failed(httpx.ReadError("reset")) for _ in range(10)]
    for attempt, pause in enumerate(pauses):
        ceiling = min(0.05 * 2**attempt, 1.0)
        assert ceiling / 2 <= pause <= ceiling


# -- the two halves -----------------------------------------------------------------------------
class Sync(SyncClient):
    def __init__(self, transport: Any, retries: int = 2) -> None:
        headers = client_headers({"x-client": "sync"}, auth_token="t")
        self._connect(api(retries), Options(headers, 5.0, transport))

    def thing(self, name: str) -> Any:
        return self._bind(lambda n: request(path=f"/things/{segment(n, 'the name')}"))(name)


class Async(AsyncClient):
    def __init__(self, transport: Any, retries: int = 2) -> None:
        headers = client_headers({"x-client": "async"}, auth_token="t")
        self._connect(api(retries), Options(headers, 5.0, transport))

    async def thing(self, name: str) -> Any:
        method = self._bind(lambda n: request(path=f"/things/{segment(n, 'the name')}"))
        return await method(name)


class Server:
    """A MockTransport handler: connect errors for the first `refusals` requests, then `then`."""

    def __init__(self, refusals: int = 0, then: Exception | None = None) -> None:
        self.refusals = refusals
        self.then = then
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.refusals > 0:
            self.refusals -= 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if self.then is not None:
            raise self.then
        return httpx.Response(200, json={"path": request.url.raw_path.decode()})


@pytest.fixture(params=["sync", "async"])
def call(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``call(server, name, retries=2)``: one operation through the parametrized half."""
    mode = request.param

    def run(server: Server, name: str, retries: int = 2) -> Any:
        if mode == "sync":
            with Sync(httpx.MockTransport(server), retries) as client:
                return client.thing(name)

        async def go() -> Any:
            async with Async(httpx.MockTransport(server), retries) as client:
                return await client.thing(name)

        return asyncio.run(go())

    return run


def test_both_halves_send_the_same_request(call: Callable[..., Any]) -> None:
    server = Server()
    assert call(server, "a/b") == {"path": "/things/a%2Fb"}
    (sent,) = server.requests
    assert str(sent.url) == f"{BASE}/things/a%2Fb"
    assert sent.headers["user-agent"] == USER_AGENT
    assert sent.headers["authorization"] == "Bearer t"
    assert sent.headers["x-client"] in ("sync", "async")


def test_a_connect_error_then_success_is_one_result(call: Callable[..., Any]) -> None:
    """An unsafe request whose first two attempts made no connection: the third answers."""
    server = Server(refusals=2)
    assert call(server, "x") == {"path": "/things/x"}
    assert len(server.requests) == 3


def test_a_read_error_of_an_unsafe_request_is_not_retried(call: Callable[..., Any]) -> None:
    server = Server(then=httpx.ReadError("connection reset by peer"))
    with pytest.raises(Gone, match="not retried") as caught:
        call(server, "x")
    assert isinstance(caught.value, RestateUnavailable)
    assert len(server.requests) == 1


def test_connect_then_read_error_stops_at_the_read_error(call: Callable[..., Any]) -> None:
    """Retried while nothing was sent; once something may have been, no more."""
    server = Server(refusals=1, then=httpx.ReadError("connection reset by peer"))
    with pytest.raises(Gone, match=r"ReadError: connection reset by peer \(not retried"):
        call(server, "x")
    assert len(server.requests) == 2


def test_retries_zero_means_one_attempt(call: Callable[..., Any]) -> None:
    server = Server(refusals=5)
    with pytest.raises(Gone, match=r"\(after 1 attempts\)"):
        call(server, "x", retries=0)
    assert len(server.requests) == 1


def test_the_halves_take_only_their_kind_of_transport() -> None:
    with pytest.raises(TypeError, match=r"^Sync needs an httpx\.BaseTransport$"):
        Sync(httpx.AsyncHTTPTransport())
    with pytest.raises(TypeError, match=r"^Async needs an httpx\.AsyncBaseTransport$"):
        Async(httpx.HTTPTransport())
    client = Sync(httpx.MockTransport(Server()))
    assert repr(client) == f"Sync('{BASE}')"
    assert client._http.timeout == httpx.Timeout(5.0)
    client.close()
    assert client._http.is_closed
