"""Small helpers shared by test modules: captured log warnings, a server's effective config."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import tomllib
from collections.abc import Iterator
from typing import Any

from rea.testing import RestateServer


class LogRecords(logging.Handler):
    """The messages of WARNING and above a logger emitted while this handler was on it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def about(self, tag: str) -> list[str]:
        """The messages tagged ``[tag]`` (a rule or a reason)."""
        return [m for m in self.messages if f"[{tag}]" in m]


@contextlib.contextmanager
def captured_warnings(logger_name: str) -> Iterator[LogRecords]:
    """Warnings of `logger_name` (for apps on a thread of this process) while in the block."""
    records = LogRecords()
    logger = logging.getLogger(logger_name)
    logger.addHandler(records)
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield records
    finally:
        logger.removeHandler(records)


def dump_config(server: RestateServer) -> dict[str, Any]:
    """The configuration restate-server takes from `server`'s settings (--dump-config)."""
    out = subprocess.run(
        [str(server.binary), "--dump-config"],
        env=server.environment(),
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return tomllib.loads(out)
