"""Fixtures for the request-guard tests: fresh counters and signing keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rea.security import reset_rejection_counts
from tests.security.helpers import Signer


@pytest.fixture(autouse=True)
def _fresh_counts() -> Iterator[None]:
    reset_rejection_counts()
    yield
    reset_rejection_counts()


@pytest.fixture(scope="session")
def signer() -> Signer:
    """The key the tests' "Restate server" signs with."""
    return Signer()


@pytest.fixture(scope="session")
def other_signer() -> Signer:
    """A second key pair (rotation, wrong key)."""
    return Signer()
