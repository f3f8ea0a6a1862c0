"""route(): the SDK's routing and the audience its verifier expects, for every path shape."""

from __future__ import annotations

import pytest

from rea.security import _paths
from rea.security._paths import DISCOVER, HEALTH, INVOKE, OTHER, route


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # shared-core's normalise_path table (request_identity.rs tests)
        ("/invoke/a/b", (INVOKE, "/invoke/a/b")),
        ("/foo/invoke/a/b", (INVOKE, "/invoke/a/b")),
        ("/foo/bar/invoke/a/b", (INVOKE, "/invoke/a/b")),
        ("/discover", (DISCOVER, "/discover")),
        ("/foo/discover", (DISCOVER, "/discover")),
        ("/foo/bar/discover", (DISCOVER, "/discover")),
        ("/foo", (OTHER, "/foo")),
        ("/invoke", (OTHER, "/invoke")),
        ("/foo/invoke", (OTHER, "/foo/invoke")),
        ("/invoke/a", (OTHER, "/invoke/a")),
        ("/foo/invoke/a", (OTHER, "/foo/invoke/a")),
        ("", (OTHER, "")),
        ("/", (OTHER, "/")),
        ("//", (OTHER, "//")),
        ("discover", (DISCOVER, "discover")),
        ("foo/discover", (DISCOVER, "/discover")),
        ("foo/invoke/a/b", (INVOKE, "/invoke/a/b")),
        ("invoke/a/b", (INVOKE, "invoke/a/b")),
        # the SDK's health route: never identity-checked
        ("/health", (HEALTH, "/health")),
        ("/x/health", (HEALTH, "/x/health")),
        ("/invoke/health/health", (INVOKE, "/invoke/health/health")),
    ],
)
def test_route(path: str, expected: tuple[int, str]) -> None:
    """Each path gets the SDK's route and shared-core's normalized audience."""
    assert route(path) == expected


def test_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths come from the network: the memo never grows past its limit."""
    monkeypatch.setattr(_paths, "_CACHE_LIMIT", 4)
    monkeypatch.setattr(_paths, "_cache", {})
    for i in range(10):
        assert route(f"/p{i}") == (OTHER, f"/p{i}")
    assert len(_paths._cache) <= 4
