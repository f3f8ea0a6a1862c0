"""Fixtures of the CLI tests: a second Restate server, which retries as Restate does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rea.testing import RestateServer


@pytest.fixture(scope="session")
def retrying_server() -> Iterator[RestateServer]:
    """A server besides the session's, whose invocations are retried until paused.

    The session's server kills an invocation after 3 quick attempts, so a failing call ends at
    once with its error; with Restate's own defaults (and under `rea dev`) it is retried for
    long, which is when `rea invoke` has to say why it waits.
    """
    env = {
        "RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL": "100ms",
        "RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS": "10000",
        "RESTATE_DEFAULT_RETRY_POLICY__ON_MAX_ATTEMPTS": "pause",
    }
    with RestateServer(always_replay=False, env=env) as server:
        yield server
