"""AllowlistGuard: the client address must be in the allowed networks."""

from __future__ import annotations

import logging

import pytest

from rea.errors import UsageValueError
from rea.security import AllowlistGuard, rejection_counts
from tests.security.helpers import Echo, call

CLUSTER = "10.1.0.0/16"
PROXY = ("192.168.0.2", 8000)


def guard(
    allowed: list[str] | str = CLUSTER,
    trusted: list[str] | str = (),  # type: ignore[assignment]
    permissive: bool = False,
) -> tuple[AllowlistGuard, Echo]:
    app = Echo()
    g = AllowlistGuard(
        app, allowed_networks=allowed, trusted_proxies=trusted, permissive=permissive
    )
    return g, app


def xff(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"x-forwarded-for", value.encode())]


async def test_inside_passes_outside_is_refused() -> None:
    """A client in the networks passes; one outside is a 403 allowlist.outside."""
    g, app = guard()
    assert (await call(g, client=("10.1.2.3", 1))).status == 200
    result = await call(g, client=("10.2.0.1", 1))
    assert result.status == 403
    assert "allowlist.outside" in result.text
    assert app.calls == 1
    assert rejection_counts() == {"allowlist.outside": 1}


async def test_unknown_or_unreadable_client_is_outside() -> None:
    """No peer address, or one that is not an IP address, fails closed."""
    g, app = guard()
    assert (await call(g, client=None)).status == 403
    assert (await call(g, client=("unix-socket", 0))).status == 403
    assert app.calls == 0


async def test_ipv6_and_mapped_ipv4() -> None:
    """IPv6 networks work, and a dual-stack socket's ::ffff:a.b.c.d is its IPv4 address."""
    g, _ = guard([CLUSTER, "fd00::/8"])
    assert (await call(g, client=("::ffff:10.1.0.9", 1))).status == 200
    assert (await call(g, client=("fd00::1", 1))).status == 200
    assert (await call(g, client=("fe80::1", 1))).status == 403


async def test_behind_a_trusted_proxy_the_forwarded_client_is_checked() -> None:
    """From a trusted proxy, the right-most untrusted X-Forwarded-For entry is the client."""
    g, app = guard(trusted=["192.168.0.0/24"])
    assert (await call(g, client=PROXY, headers=xff("10.1.5.5"))).status == 200
    assert (await call(g, client=PROXY, headers=xff("8.8.8.8"))).status == 403
    # A caller cannot prepend an allowed address: the proxy appended the real one.
    assert (await call(g, client=PROXY, headers=xff("10.1.5.5, 8.8.8.8"))).status == 403
    # Proxies of the chain (trusted) are skipped.
    assert (await call(g, client=PROXY, headers=xff("10.1.5.5, 192.168.0.7"))).status == 200
    assert app.calls == 2


async def test_trusted_proxy_without_forwarded_for_is_checked_itself() -> None:
    """A trusted proxy that names no client is the client."""
    g, _ = guard(allowed=[CLUSTER, "192.168.0.2"], trusted=["192.168.0.0/24"])
    assert (await call(g, client=PROXY)).status == 200
    g2, _ = guard(trusted=["192.168.0.0/24"])
    assert (await call(g2, client=PROXY)).status == 403


async def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    """Anyone else's X-Forwarded-For is not believed: the peer is checked."""
    g, _ = guard(trusted=["192.168.0.0/24"])
    assert (await call(g, client=("8.8.8.8", 1), headers=xff("10.1.5.5"))).status == 403
    assert (await call(g, client=("10.1.0.1", 1), headers=xff("8.8.8.8"))).status == 200


async def test_garbage_forwarded_for_is_outside() -> None:
    """An unreadable forwarded address fails closed."""
    g, _ = guard(trusted=["192.168.0.0/24"])
    assert (await call(g, client=PROXY, headers=xff("nonsense"))).status == 403
    assert (await call(g, client=PROXY, headers=xff(""))).status == 403


async def test_health_is_not_checked() -> None:
    """/health from anywhere passes."""
    g, app = guard()
    assert (await call(g, path="/health", client=("8.8.8.8", 1))).status == 200
    assert app.calls == 1


async def test_permissive(caplog: pytest.LogCaptureFixture) -> None:
    """Permissive mode logs the outsider with its address and serves it."""
    g, app = guard(permissive=True)
    with caplog.at_level(logging.WARNING, logger="rea.security"):
        assert (await call(g, client=("8.8.4.4", 1234))).status == 200
    assert app.calls == 1
    assert rejection_counts() == {"allowlist.outside": 1}
    assert "8.8.4.4" in caplog.text
    assert "let through: permissive mode" in caplog.text


def test_configuration_errors() -> None:
    """No allowed network, or a malformed CIDR, is a usage error."""
    with pytest.raises(UsageValueError, match="at least one"):
        AllowlistGuard(Echo(), allowed_networks=[])
    with pytest.raises(UsageValueError, match=r"10\.0\.0\.300"):
        AllowlistGuard(Echo(), allowed_networks=["10.0.0.300/8"])


async def test_comma_separated_string() -> None:
    """A comma-separated string is a list of CIDRs."""
    g, _ = guard("10.0.0.0/8, 192.168.0.0/16")
    assert (await call(g, client=("192.168.1.1", 1))).status == 200
    assert (await call(g, client=("10.9.9.9", 1))).status == 200
    assert (await call(g, client=("172.16.0.1", 1))).status == 403
