"""Console output shared by CLI commands: results on stdout, one-line errors on stderr.

Tables print identifiers (invocation ids, dead-letter ids, saga names) whole at any width, so
they can be pasted into the next command; the other columns fold, and optional ones are left
out when the terminal is too narrow for them. ``--json`` prints one JSON document instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

#: Exit status for bad input (a wrong argument, an app that cannot be loaded).
EXIT_USAGE = 2
#: Exit status for failures of the environment (a server that does not start, no npm).
EXIT_FAILURE = 1

_GAP = 2  # spaces between columns


def fail(message: str, *, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``rea: error: message`` (first line only) to stderr and exit with `code`."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    err_console.print(f"rea: error: {first}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(document: Any) -> None:
    """Print `document` as indented JSON on stdout, as is (no markup, emoji codes or wrapping)."""
    console.out(json.dumps(document, indent=2, ensure_ascii=False), highlight=False)


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a `table`.

    Attributes:
        header: Its title.
        comfortable: The width it needs not to fold much; optional columns are dropped
            while the comfortable widths of the columns do not fit.
        floor: The width it is not squeezed under while the floors fit (default: its
            header's, which then never folds).
        identifier: Never folded nor cut: ids that are pasted into other commands.
        optional: May be left out on a narrow terminal (the last optional one goes first).
    """

    header: str
    comfortable: int = 10
    floor: int = 0
    identifier: bool = False
    optional: bool = False


def _widest(cells: Sequence[str]) -> int:
    return max((len(cell) for cell in cells), default=0)


def _fits(widths: Sequence[int], width: int) -> bool:
    return sum(widths) + _GAP * (len(widths) - 1) <= width


def table(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], *, width: int | None = None
) -> Table:
    """A borderless table of `rows` fitted to `width` (default: the console's).

    Identifier columns keep their whole values whatever the width (a line may then be wider
    than the terminal); optional columns are dropped first, then the others fold.
    """
    width = console.width if width is None else width
    natural = [max(_widest([row[i] for row in rows]), len(c.header)) for i, c in enumerate(columns)]
    kept = list(range(len(columns)))
    droppable = [i for i, c in enumerate(columns) if c.optional]
    while droppable and not _fits(
        [natural[i] if columns[i].identifier else min(natural[i], columns[i].comfortable)
         for i in kept],
        width,
    ):  # fmt: skip
        kept.remove(droppable.pop())
    floors = {
        i: natural[i] if columns[i].identifier else min(natural[i], max(columns[i].floor, 1))
        for i in kept
    }
    if not _fits(list(floors.values()), width):  # squeezed: headers stay whole, values fold
        floors = {i: natural[i] if columns[i].identifier else len(columns[i].header) for i in kept}
    grid = Table(box=None, pad_edge=False)  # one space each side: columns _GAP apart
    for i in kept:
        column = columns[i]
        floor = max(floors[i], len(column.header))
        if column.identifier:
            grid.add_column(column.header, no_wrap=True, min_width=floor)
        else:
            grid.add_column(column.header, overflow="fold", min_width=floor)
    for row in rows:
        grid.add_row(*(row[i] for i in kept))
    return grid
