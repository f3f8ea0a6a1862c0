"""The app's output in the `rea dev` terminal: every line live, prefixed, coloured by level.

The app runs in a child process (so that it can be restarted on change); its stdout and stderr
go into one pipe that a thread reads line by line. A line is printed as soon as it is complete,
so a handler's ``print``, its log records, rea's policy warnings and tracebacks show up while
the invocation runs, not after.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from typing import IO, Any

from rich.console import Console
from rich.text import Text

__all__ = ["AppOutput"]

_PREFIX = "app │ "
# Log lines look like "WARNING rea.policy: ..." (the format rea.testing._serve sets up).
_STYLES = (
    ("CRITICAL", "bold red"),
    ("ERROR", "red"),
    ("Traceback", "red"),
    ("WARNING", "yellow"),
)


def _style(line: str) -> str:
    for start, style in _STYLES:
        if line.startswith(start):
            return style
    return ""


class AppOutput:
    """A pipe for the app's output and the thread that prints it on `console`.

    Args:
        console: Where the lines go (a terminal gets colours, a pipe plain text).
    """

    def __init__(self, console: Console) -> None:
        self._console = console
        read_fd, write_fd = os.pipe()
        self._reader: IO[bytes] = os.fdopen(read_fd, "rb")
        self.writer: IO[Any] = os.fdopen(write_fd, "wb")
        self._style = ""
        self._recent: deque[str] = deque(maxlen=40)
        self._last = 0.0
        self._thread = threading.Thread(target=self._pump, name="rea-app-output", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for raw in self._reader:
            line = raw.decode(errors="replace").rstrip("\r\n")
            self._recent.append(line)
            self._last = time.monotonic()
            # A traceback's indented lines keep the colour of the line that started it.
            if not line.startswith((" ", "\t")) or not self._style:
                self._style = _style(line)
            text = Text(_PREFIX, style="dim cyan")
            text.append(line, style=self._style)
            self._console.print(text, soft_wrap=True)

    def recent(self, *, settle: float = 0.2) -> str:
        """The app's last lines (say, the traceback of an app that failed to start).

        Waits until no line came for `settle` seconds (at most 1 s): an app that just exited
        may still have lines in the pipe.
        """
        deadline = time.monotonic() + 1.0
        while time.monotonic() - self._last < settle and time.monotonic() < deadline:
            time.sleep(0.05)
        return "\n".join(self._recent)

    def close(self) -> None:
        """Stop printing once the app's last line is out (the app must have exited)."""
        self.writer.close()
        self._thread.join(timeout=5)
        self._reader.close()
