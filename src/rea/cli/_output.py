"""Console output shared by CLI commands: results on stdout, one-line errors on stderr."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

#: Exit status for bad input (a wrong argument, an app that cannot be loaded).
EXIT_USAGE = 2
#: Exit status for failures of the environment (a server that does not start, no npm).
EXIT_FAILURE = 1


def fail(message: str, *, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``rea: error: message`` (first line only) to stderr and exit with `code`."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    err_console.print(f"rea: error: {first}", markup=False, soft_wrap=True)
    raise typer.Exit(code)
