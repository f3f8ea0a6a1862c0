"""pytest plugin for rea, registered through the ``pytest11`` entry point.

Fixtures:
    restate_server: one real Restate server per test session (per xdist worker), or the server
        named by ``--rea-server`` / ``--rea-admin``. With ``--rea-signing`` it signs every
        request (Restate's request identity), and apps served by `rea_harness` run with
        security on.
    rea_signing_server: one server per session that signs every request (the same as
        `restate_server` under ``--rea-signing``), started when first asked for.
    rea_harness: a factory ``rea_harness(app, **kwargs) -> Harness`` that serves and registers an
        app on that server (``signing=True``: on `rea_signing_server`); every harness it made is
        closed after the test. Its apps run with ``--rea-time-scale`` unless the call gives
        ``time_scale=`` (neither: the process's own scale, ``REA_TIME_SCALE`` or 1).

Marker:
    integration: the test needs a real Restate server.

Warnings: rea's warnings and errors (policy violations under WARN, rejected inputs, failed
attempts) logged by the code under test, in this process or in an app process started by
`rea_harness`, are listed per test in a "rea warnings" section of the terminal summary, so that
WARN never means "silently", even for tests that pass.
"""

from __future__ import annotations

import logging
import re
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

_PROPERTY = "rea_warnings"
#: Lines shown in the summary at most (the rest are counted).
_MAX_LINES = 30
# App processes log as "WARNING rea.policy: ..." (the format rea.testing._serve sets up).
_APP_LINE = re.compile(r"^(WARNING|ERROR|CRITICAL) rea\.\S+: ")


class _Collector(logging.Handler):
    """Keeps rea's warnings logged in this process, per running test."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.test: str | None = None
        self.lines: dict[str, list[str]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if self.test is not None:
            line = f"{record.levelname} {record.name}: {record.getMessage()}"
            self.lines.setdefault(self.test, []).append(line)


_collector = _Collector()


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
    group.addoption(
        "--rea-time-scale",
        metavar="FACTOR",
        type=float,
        default=None,
        help="multiply the durable timers of apps served by rea_harness by FACTOR before they "
        "are journaled (e.g. 0.001: a day takes 86.4 s); default: REA_TIME_SCALE, else 1",
    )
    group.addoption(
        "--rea-signing",
        action="store_true",
        default=False,
        help="start the session's Restate server signing every request with a new key, and "
        "run the apps of rea_harness with security on (REA_SECURITY_MODE=strict)",
    )


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"received signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs a real Restate server (started by rea or --rea-server)"
    )
    logging.getLogger("rea").addHandler(_collector)
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


def pytest_unconfigure(config: pytest.Config) -> None:
    logging.getLogger("rea").removeHandler(_collector)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _collector.test = item.nodeid
    yield
    _collector.test = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # On the teardown report: xdist ships user_properties from its workers to the summary.
    if call.when == "teardown":
        lines = _collector.lines.pop(item.nodeid, [])
        lines += getattr(item, "_rea_app_lines", [])
        if lines:
            item.user_properties.append((_PROPERTY, lines))
    yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    found: list[tuple[str, list[str]]] = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == _PROPERTY and getattr(report, "when", "") == "teardown":
                    found.append((report.nodeid, list(value)))
    if not found:
        return
    terminalreporter.section("rea warnings (logged by the code under test)")
    shown = 0
    total = sum(len(lines) for _, lines in found)
    for nodeid, lines in sorted(found):
        if shown >= _MAX_LINES:
            break
        terminalreporter.write_line(nodeid)
        for line in lines[: _MAX_LINES - shown]:
            terminalreporter.write_line(f"  {line[:300]}")
            shown += 1
    if total > shown:
        terminalreporter.write_line(f"... and {total - shown} more")


def _app_warnings(harness: Harness) -> list[str]:
    return [line for line in harness.app_log().splitlines() if _APP_LINE.match(line)]


@pytest.fixture(scope="session")
def restate_server(request: pytest.FixtureRequest) -> Iterator[ServerEndpoint]:
    """A real Restate server for the whole session: started here, or ``--rea-server``."""
    ingress: str | None = request.config.getoption("--rea-server")
    admin: str | None = request.config.getoption("--rea-admin")
    signing: bool = request.config.getoption("--rea-signing")
    if ingress:
        if signing:
            raise pytest.UsageError(
                "--rea-signing starts a signing server; it cannot make the server of "
                "--rea-server sign (set its request-identity key there)"
            )
        yield RemoteServer(ingress, admin or _admin_from_ingress(ingress))
        return
    with RestateServer(signing_key=True if signing else None) as server:
        yield server


@pytest.fixture(scope="session")
def rea_signing_server(request: pytest.FixtureRequest) -> Iterator[ServerEndpoint]:
    """A real Restate server for the whole session that signs every request."""
    if request.config.getoption("--rea-signing"):
        yield request.getfixturevalue("restate_server")
        return
    with RestateServer(signing_key=True) as server:
        yield server


@pytest.fixture
def rea_harness(
    restate_server: ServerEndpoint, request: pytest.FixtureRequest
) -> Iterator[HarnessFactory]:
    """Serve and register apps on the session's server: ``h = rea_harness(app)``."""
    made: list[Harness] = []
    time_scale: float | None = request.config.getoption("--rea-time-scale")

    def make(app: ASGIApp | str, **kwargs: Any) -> Harness:
        if time_scale is not None:
            kwargs.setdefault("time_scale", time_scale)
        server = restate_server
        if kwargs.get("signing"):
            server = request.getfixturevalue("rea_signing_server")
        harness = Harness(app, server=server, **kwargs)
        made.append(harness)
        return harness.start()

    yield make
    lines: list[str] = []
    for harness in reversed(made):
        lines += _app_warnings(harness)
        harness.close()
    if lines:
        request.node._rea_app_lines = lines
