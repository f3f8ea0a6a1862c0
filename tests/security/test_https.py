"""HttpsGuard: TLS directly, or a trusted proxy's X-Forwarded-Proto: https."""

from __future__ import annotations

import logging

import pytest

from rea.errors import UsageValueError
from rea.security import HttpsGuard, rejection_counts
from tests.security.helpers import Echo, call

PROXY = ("10.0.0.5", 443)
OUTSIDER = ("203.0.113.9", 443)
FORWARDED_HTTPS = [(b"x-forwarded-proto", b"https")]


def guard(trusted: list[str] | str = (), permissive: bool = False) -> tuple[HttpsGuard, Echo]:  # type: ignore[assignment]
    app = Echo()
    return HttpsGuard(app, trusted_proxies=trusted, permissive=permissive), app


async def test_https_scheme_passes() -> None:
    """A request that came over TLS to the app server passes."""
    g, app = guard()
    assert (await call(g, scheme="https")).status == 200
    assert app.calls == 1


async def test_plain_http_is_refused() -> None:
    """Plain HTTP with no trusted proxy is a 403 https.required."""
    g, app = guard()
    result = await call(g)
    assert result.status == 403
    assert "https.required" in result.text
    assert app.calls == 0
    assert rejection_counts() == {"https.required": 1}


async def test_trusted_proxy_saying_https_passes() -> None:
    """From a trusted proxy, X-Forwarded-Proto: https is believed."""
    g, app = guard(["10.0.0.0/24"])
    assert (await call(g, headers=FORWARDED_HTTPS, client=PROXY)).status == 200
    assert app.calls == 1


async def test_untrusted_address_saying_https_is_refused() -> None:
    """The same header from an address that is not a trusted proxy is ignored."""
    g, app = guard(["10.0.0.0/24"])
    assert (await call(g, headers=FORWARDED_HTTPS, client=OUTSIDER)).status == 403
    assert (await call(g, headers=FORWARDED_HTTPS, client=None)).status == 403
    assert app.calls == 0
    assert rejection_counts() == {"https.required": 2}


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (b"http", 403),
        (b"HTTPS", 200),
        (b"http, https", 200),  # the last value is the trusted proxy's own
        (b"https, http", 403),  # a client wrote https; the proxy says http
        (b"", 403),
    ],
)
async def test_last_forwarded_value_decides(value: bytes, status: int) -> None:
    """Only the last X-Forwarded-Proto value, the one the trusted proxy appended, counts."""
    g, _ = guard("10.0.0.5")
    assert (await call(g, headers=[(b"x-forwarded-proto", value)], client=PROXY)).status == status


async def test_trusted_proxy_without_the_header_is_refused() -> None:
    """A trusted proxy that does not say https is plain HTTP."""
    g, _ = guard(["10.0.0.5"])
    assert (await call(g, client=PROXY)).status == 403


async def test_health_and_lifespan_are_not_checked() -> None:
    """/health over plain HTTP passes; lifespan scopes go straight to the app."""
    g, app = guard()
    assert (await call(g, path="/health")).status == 200
    sent: list[dict[str, str]] = []

    async def receive() -> dict[str, str]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    await g({"type": "lifespan"}, receive, send)
    assert app.calls == 2
    assert sent == [{"type": "lifespan.startup.complete"}]


async def test_permissive(caplog: pytest.LogCaptureFixture) -> None:
    """Permissive mode logs and counts plain HTTP, then serves it."""
    g, app = guard(permissive=True)
    with caplog.at_level(logging.WARNING, logger="rea.security"):
        assert (await call(g)).status == 200
    assert app.calls == 1
    assert rejection_counts() == {"https.required": 1}
    assert "[https.required]" in caplog.text
    assert "let through: permissive mode" in caplog.text


def test_bad_cidr() -> None:
    """A malformed trusted proxy CIDR is a usage error naming it."""
    with pytest.raises(UsageValueError, match="not-a-cidr"):
        HttpsGuard(Echo(), trusted_proxies=["not-a-cidr"])
