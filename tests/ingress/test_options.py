"""Client construction: URLs, HTTP versions, auth, durations."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

import rea.ingress._core as core
from rea.ingress import SyncIngressClient, parse_duration
from rea.ingress._core import http_options


def _options(url: str = "http://localhost:8080", **kwargs: object) -> dict[str, object]:
    defaults: dict[str, object] = {
        "headers": None,
        "auth_token": None,
        "timeout": 30.0,
        "http2": None,
    }
    return http_options(url, **{**defaults, **kwargs})  # type: ignore[arg-type]


def test_http2_by_default_over_tls_only() -> None:
    """Cleartext: a pool of HTTP/1.1 connections (faster on bench/ingress.py); TLS: ALPN picks;
    http2=True forces HTTP/2 with prior knowledge."""
    cleartext = _options()
    assert (cleartext["http2"], cleartext["http1"]) == (False, True)
    forced_h2 = _options(http2=True)
    assert (forced_h2["http2"], forced_h2["http1"]) == (True, False)
    tls = _options("https://restate.example.com")
    assert (tls["http2"], tls["http1"]) == (True, True)
    forced_h1 = _options(http2=False)
    assert (forced_h1["http2"], forced_h1["http1"]) == (False, True)


def test_without_h2_the_default_is_http11(monkeypatch: pytest.MonkeyPatch) -> None:
    """No h2 package: HTTP/1.1 by default, and http2=True says what to install."""
    monkeypatch.setattr(core, "_h2_installed", lambda: False)
    assert (_options()["http2"], _options()["http1"]) == (False, True)
    with pytest.raises(ValueError, match=r"httpx\[http2\]"):
        _options(http2=True)


def test_timeout_pool_and_base_url() -> None:
    """30 s default timeout, a pool that keeps its connections, no trailing slash."""
    options = _options("http://localhost:8080/", timeout=5.0)
    assert options["base_url"] == "http://localhost:8080"
    assert options["timeout"] == 5.0
    limits = options["limits"]
    assert isinstance(limits, httpx.Limits)
    assert limits.max_keepalive_connections == limits.max_connections
    with SyncIngressClient("http://localhost:8080") as client:
        assert client._http.timeout == httpx.Timeout(30.0)


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://host", "http://", ""])
def test_bad_urls_are_rejected(url: str) -> None:
    """Only http(s) URLs with a host."""
    with pytest.raises(ValueError, match="ingress URL"):
        SyncIngressClient(url)


def test_bad_options_are_rejected() -> None:
    """An empty token or negative retries are mistakes, not defaults."""
    with pytest.raises(ValueError, match="auth_token"):
        SyncIngressClient("http://localhost:8080", auth_token=" ")
    with pytest.raises(ValueError, match="retries"):
        SyncIngressClient("http://localhost:8080", retries=-1)


def test_caller_headers_replace_defaults_case_insensitively() -> None:
    """A caller's User-Agent replaces rea's instead of being sent beside it."""
    headers = _options(headers={"User-Agent": "mine"})["headers"]
    assert isinstance(headers, httpx.Headers)
    assert headers.get_list("user-agent") == ["mine"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250ms", timedelta(milliseconds=250)),
        ("1.5s", timedelta(seconds=1.5)),
        ("2 minutes", timedelta(minutes=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d 2h", timedelta(days=1, hours=2)),
        ("P1W", timedelta(weeks=1)),
        ("PT1H0.5S", timedelta(hours=1, seconds=0.5)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    """Friendly and ISO 8601 durations, as Restate reads them."""
    assert parse_duration(text) == expected


def test_bare_numbers_are_rejected_with_a_suggestion() -> None:
    """The SDK's ?delay=1000 bug: the message suggests the unit to add."""
    with pytest.raises(ValueError, match="'1000ms'"):
        parse_duration("1000")
    with pytest.raises(ValueError, match="unknown unit 'fortnights'"):
        parse_duration("2 fortnights")
