"""`rea trace INVOCATION_ID`: an invocation's journal as a timeline tree, or as one JSON document.

Read from the admin SQL API: the invocation from ``sys_invocation``, its entries from
``sys_journal`` and its transient errors and pauses from ``sys_journal_events``. Restate 1.7
journals commands (a run, a call, a sleep...) and, separately, the notifications that complete
them (matched here by completion id): an entry's duration is the time between the two rows'
``appended_at`` (milliseconds). Children (the invocations a call or a send made) are looked up
in ``sys_invocation``; ``--depth`` says how many levels of them are shown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.text import Text
from rich.tree import Tree

from rea._durations import format_duration
from rea.admin import AdminError
from rea.cli._endpoints import AdminOption, DataOption, admin_client, server_failure
from rea.cli._journal import ANY_ID, MALFORMED, WHOLE_ID, trace_document
from rea.cli._output import EXIT_USAGE, console, fail, print_json

# -- the tree -----------------------------------------------------------------------------------
_STYLES = {"success": "green", "failure": "red", "pending": "yellow"}


def _status(document: dict[str, Any]) -> Text:
    status = str(document.get("status"))
    result = document.get("completion_result")
    text = Text(f"{status} ({result})" if result else status)
    text.stylize(_STYLES.get(str(result), "yellow" if status != "completed" else ""))
    if document.get("duration_ms") is not None:
        text.append(f"  {_duration(document['duration_ms'])}", style="dim")
    if document.get("attempts"):
        text.append(f"  attempts {document['attempts']}")
    failure = document.get("completion_failure") or document.get("last_failure")
    if failure:
        text.append(f"  {str(failure).strip().splitlines()[0]}", style="red")
    return text


def _duration(ms: int) -> str:
    """``12ms``, ``1.5s``, else the admin API's ``2m 3s``."""
    if ms < 1000:
        return f"{ms}ms"
    return f"{ms / 1000:.1f}s" if ms < 60_000 else format_duration(timedelta(seconds=ms // 1000))


def _clock(moment: str) -> str:
    """A time of the tree: ``05:11:27.886Z``, with the date when it is not today (UTC)."""
    when = datetime.fromisoformat(moment).astimezone(UTC)
    day = "" if when.date() == datetime.now(UTC).date() else f"{when.date().isoformat()} "
    return f"{day}{when.strftime('%H:%M:%S')}.{when.microsecond // 1000:03d}Z"


def _header(document: dict[str, Any]) -> Text:
    text = Text(str(document["id"]), style="bold")
    if document.get("target"):
        text.append(f"  {document['target']}")
    return text.append("  ").append_text(_status(document))


def _label(entry: dict[str, Any]) -> Text:
    """One entry's line: index, kind, name or target, child id, duration, outcome."""
    index = "" if entry["index"] is None else f"{entry['index']}  "
    text = Text(f"{index}{entry['kind']}", style="red" if entry["index"] is None else "")
    if entry["name"] and entry["index"] is not None:
        text.append(f" {entry['name']}")
    if entry["compensation"]:
        text.append(" (compensation)", style="magenta")
    if entry["target"]:
        text.append(f" {entry['target']}")
    if entry["invocation_id"]:
        text.append(f" → {entry['invocation_id']}")
    if entry["wake_up_at"]:  # a sleep, or a delayed send
        text.append(
            f" {'until' if entry['kind'] == 'sleep' else 'at'} {_clock(entry['wake_up_at'])}"
        )
    if entry["result"] == "pending":
        text.append("  pending", style="yellow")
    elif entry["duration_ms"] is not None:
        text.append(f"  {_duration(entry['duration_ms'])}", style="dim")
    if entry["failure"]:
        text.append(f"  {entry['failure']}", style="red")
    elif entry["kind"] == "output" and entry["result"] == "success":
        text.append("  success", style="green")
    errors = len(entry["transient_errors"]) if entry["index"] is not None else 0
    if errors:
        text.append(f"  {errors} transient error{'s' if errors > 1 else ''}", style="yellow")
    return text


class _Tree:
    """A rich `Tree` being built, and the width its ids need to be printed whole."""

    def __init__(self, label: Text) -> None:
        self.root = Tree(label)
        self.width = self._needs(label, 0)

    def _needs(self, label: Text, level: int) -> int:
        # Lines wrap at spaces: an id stays whole while the space beside its guides fits it.
        guides = 4 * level
        return max((guides + len(m.group()) for m in ANY_ID.finditer(label.plain)), default=0)

    def add(self, node: Tree, label: Text, level: int) -> Tree:
        """Add `label` under `node`, which is at `level` - 1 (the root is at 0)."""
        self.width = max(self.width, self._needs(label, level))
        return node.add(label)

    def grow(self, node: Tree, document: dict[str, Any], level: int) -> None:
        """Add `document`'s entries under `node` (at `level` - 1), its children's under theirs."""
        for entry in document["entries"] or ():
            branch = self.add(node, _label(entry), level)
            for error in entry["transient_errors"] if entry["index"] is not None else ():
                code = f" {error['doc_code']}" if error["doc_code"] else ""
                line = f"transient error [{error['code']}]{code} {error['message']}"
                self.add(branch, Text(line, style="yellow"), level + 1)
            if entry["child"] is not None:
                child = entry["child"]
                self.grow(self.add(branch, _header(child), level + 1), child, level + 2)


def _tree(document: dict[str, Any]) -> tuple[Tree, int]:
    """The tree, and the width its ids need to be printed whole."""
    tree = _Tree(_header(document))
    tree.grow(tree.root, document, 1)
    root, widest = tree.root, tree.width
    if not document["entries"]:
        root.add(Text("(no journal: not started yet, or no longer retained)", style="dim"))
    return root, widest


def trace(
    invocation_id: Annotated[str, typer.Argument(metavar="INVOCATION_ID", show_default=False)],
    depth: Annotated[
        int,
        typer.Option(
            help="Levels of child invocations: 0 none, 1 their status, 2 their journals..."
        ),
    ] = 1,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the tree as one JSON document instead.")
    ] = False,
    admin: AdminOption = None,
    data: DataOption = None,
) -> None:
    """Show an invocation's journal as a timeline tree: runs, calls, sleeps, children."""
    if depth < 0:
        fail(f"--depth cannot be negative, not {depth}", code=EXIT_USAGE)
    invocation_id = invocation_id.strip()
    if not WHOLE_ID.fullmatch(invocation_id):
        fail(f"{invocation_id!r} is not an invocation id (inv_...)", code=EXIT_USAGE)
    with admin_client(admin, data) as client:
        try:
            document = trace_document(client, client.invocation(invocation_id), depth)
        except AdminError as exc:
            if MALFORMED in exc.message:  # the SQL API's 500 for an id it cannot decode
                fail(f"{invocation_id!r} is not a valid invocation id", code=EXIT_USAGE)
            server_failure(exc)
    if json_output:
        print_json(document)
        return
    tree, needed = _tree(document)
    # console.print(width=) only narrows: widen the console itself for the ids (a line may then
    # be wider than the terminal, as a table's id column may).
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(tree, soft_wrap=False)
    finally:
        console.width = width
