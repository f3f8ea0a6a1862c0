"""pytest plugin for rea, registered through the ``pytest11`` entry point.

Fixtures:
    restate_server: one real Restate server per test session (per xdist worker), or the server
        named by ``--rea-server`` / ``--rea-admin``.
    rea_harness: a factory ``rea_harness(app, **kwargs) -> Harness`` that serves and registers an
        app on that server; every harness it made is closed after the test.

Marker:
    integration: the test needs a real Restate server.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from rea._loader import ASGIApp
from rea.testing._harness import Harness
from rea.testing._server import RemoteServer, RestateServer, ServerEndpoint

HarnessFactory = Callable[..., Harness]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rea", "rea: Restate test server")
    group.addoption(
        "--rea-server",
        metavar="URL",
        default=None,
        help="ingress URL of a running Restate server to use instead of starting one",
    )
    group.addoption(
        "--rea-admin",
        metavar="URL",
        default=None,
        help="admin URL of that server (default: the ingress host, port 9070)",
    )


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"received signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs a real Restate server (started by rea or --rea-server)"
    )
    # SIGTERM would end the interpreter without teardown; as an interrupt, fixtures and the
    # atexit sweep stop the servers and apps this session started.
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _admin_from_ingress(ingress: str) -> str:
    parts = urlsplit(ingress)
    netloc = f"{parts.hostname}:9070"
    return urlunsplit((parts.scheme, netloc, "", "", ""))


@pytest.fixture(scope="session")
def restate_server(request: pytest.FixtureRequest) -> Iterator[ServerEndpoint]:
    """A real Restate server for the whole session: started here, or ``--rea-server``."""
    ingress: str | None = request.config.getoption("--rea-server")
    admin: str | None = request.config.getoption("--rea-admin")
    if ingress:
        yield RemoteServer(ingress, admin or _admin_from_ingress(ingress))
        return
    with RestateServer() as server:
        yield server


@pytest.fixture
def rea_harness(restate_server: ServerEndpoint) -> Iterator[HarnessFactory]:
    """Serve and register apps on the session's server: ``h = rea_harness(app)``."""
    made: list[Harness] = []

    def make(app: ASGIApp | str, **kwargs: Any) -> Harness:
        harness = Harness(app, server=restate_server, **kwargs)
        made.append(harness)
        return harness.start()

    yield make
    for harness in reversed(made):
        harness.close()
