"""CIDR lists and the address checks the HTTPS and allowlist guards make on every request."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from rea.errors import UsageValueError

__all__ = ["Network", "NetworkSet", "header_value", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CACHE_LIMIT = 4096


def parse_networks(values: Iterable[str], *, setting: str) -> tuple[Network, ...]:
    """Parse CIDRs (a bare address means just that address).

    Args:
        values: CIDRs such as ``10.0.0.0/8`` or ``::1``.
        setting: The setting's name, for the error message.

    Returns:
        The networks, in order.

    Raises:
        UsageValueError: one of them is not a CIDR.
    """
    networks: list[Network] = []
    for value in values:
        try:
            # strict=False: "10.1.2.3/8" names the network 10.0.0.0/8, as most tools read it.
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise UsageValueError(f"{setting}: {value!r} is not a CIDR ({exc})") from None
    return tuple(networks)


class NetworkSet:
    """Membership of an address string in a list of networks, memoized per address.

    Args:
        networks: The networks.
    """

    __slots__ = ("_cache", "_networks")

    def __init__(self, networks: Sequence[Network]) -> None:
        self._networks = tuple(networks)
        self._cache: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self._networks)

    def __contains__(self, host: object) -> bool:
        if not isinstance(host, str):
            return False
        found = self._cache.get(host)
        if found is None:
            found = self._lookup(host)
            if len(self._cache) >= _CACHE_LIMIT:
                # Addresses come from the network (and from headers): stay bounded.
                self._cache.clear()
            self._cache[host] = found
        return found

    def _lookup(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.strip().strip("[]"))
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d.
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The value of header `name` (lower case), or None; several are joined with commas."""
    found: bytes | None = None
    for key, value in headers:
        if key == name:
            found = value if found is None else found + b"," + value
    return found
