"""The CLI's tables and JSON output, without a server."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from rea.cli._output import Column, print_json, table

COLUMNS = (
    Column("id", identifier=True),
    Column("target", 20, floor=12),
    Column("status", 19, floor=11),
    Column("created", 20, optional=True),
    Column("modified", 20, optional=True),
    Column("failure", 30),
)
IDS = ["inv_1hlLsMlKZaBc0QdMjsEr31UwVEwQHiEZ4e", "inv_1dJzWiJeGE6o4gpdseW6Vsk1erUSHwKXdM"]
ROWS = [
    [IDS[0], "Exp/boom", "backing-off", "2026-11-30 02:26:36Z", "2026-11-30 02:26:37Z",
     "[500 Internal] SyntaxError('invalid syntax', ('/tmp/app/broken_module.py', 1, 7))"],
    [IDS[1], "Counter/a-long-object-key-of-forty-characters/add", "completed (success)",
     "2026-11-30 02:26:35Z", "2026-11-30 02:26:35Z", ""],
]  # fmt: skip


def _render(width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, soft_wrap=True).print(table(COLUMNS, ROWS, width=width))
    return out.getvalue()


@pytest.mark.parametrize("width", [250, 160, 120, 100, 80, 60, 40, 20])
def test_ids_are_whole_at_any_width(width: int) -> None:
    lines = _render(width).splitlines()
    for invocation_id in IDS:
        assert any(line.startswith(invocation_id + " ") for line in lines), lines
    assert lines[0].split()[0] == "id"


def test_optional_columns_go_first_and_headers_stay_whole() -> None:
    assert _render(250).splitlines()[0].split() == [
        "id", "target", "status", "created", "modified", "failure"
    ]  # fmt: skip
    assert _render(140).splitlines()[0].split() == ["id", "target", "status", "created", "failure"]
    assert _render(80).splitlines()[0].split() == ["id", "target", "status", "failure"]
    assert max(len(line.rstrip()) for line in _render(80).splitlines()) <= 80
    assert "backing-off" in _render(80)  # the status floor keeps it on one line


def test_json_is_printed_as_is(capsys: pytest.CaptureFixture[str]) -> None:
    """No markup, no emoji codes, no wrapping: what json.loads reads back."""
    document = {"text": ":thumbs_up: [bold]x[/bold] " + "long " * 40, "n": [1, None]}
    print_json(document)
    assert json.loads(capsys.readouterr().out) == document
