"""rea's public API is checked by mypy --strict: correct usage passes, misuse is reported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _mypy(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file",
            "/dev/null",
            *map(str, paths),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def misuse_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    """mypy's report on a file of deliberate mistakes (one mypy run for all of them)."""
    source = tmp_path_factory.mktemp("typing") / "misuse.py"
    source.write_text(
        textwrap.dedent(
            """
            import restate
            import rea

            async def handler(ctx: restate.ObjectContext) -> None:
                counter = rea.State(ctx, "count", int, default=0)
                counter.set("three")  # line 7: a str into State[int]
                text: str = await counter.get()  # line 8: State[int].get() is an int
                maybe = rea.State(ctx, "maybe", int)
                sure: int = await maybe.get()  # line 10: no default, so int | None
                key = rea.StateKey("k", str, default="")
                key.bind(ctx).set(1)  # line 12
                n: str = await rea.run(ctx, "n", lambda: 1)  # line 13
                rea.RetryPolicy(3)  # line 14: options are keyword-only
                bad = rea.ServiceClient(greet)
                await bad.call(ctx, 42)  # line 16: greet takes a str
                out: int = await bad.call(ctx, "x")  # line 17: greet returns a str

            svc = restate.Service("S")

            @svc.handler()
            async def greet(ctx: restate.Context, name: str) -> str:
                return name

            async def shared(ctx: restate.ObjectSharedContext) -> None:
                key = rea.StateKey("k", int, default=0)
                n: int = await key.bind(ctx).get()  # reading from a shared handler is fine
                key.bind(ctx).set(n)  # line 28: writes need an exclusive context
                await rea.State(ctx, "s", int, default=0).update(abs)  # line 29

            async def stateless(ctx: restate.Context) -> None:
                rea.StateKey("k", int).bind(ctx)  # line 32: a service has no state
                await rea.run(42, "n", lambda: 1)  # line 33: not a context
                await rea.now("ctx")  # line 34
                await rea.ServiceClient(greet).call(1, "x")  # line 35
                await rea.gather(None)  # line 36
                rea.uuid(ctx)  # a plain restate.Context is fine
            """
        )
    )
    return _mypy(source).stdout


def test_usage_files_pass_mypy_strict() -> None:
    """Every file under tests/typing type-checks under --strict."""
    result = _mypy(*sorted((ROOT / "tests" / "typing").glob("*.py")))
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (7, 'Argument 1 to "set" of "State" has incompatible type "str"; expected "int"'),
        (
            8,
            'Incompatible types in assignment (expression has type "int", variable has type "str")',
        ),
        (10, 'expression has type "int | None", variable has type "int"'),
        (12, 'Argument 1 to "set" of "State" has incompatible type "int"; expected "str"'),
        (13, 'incompatible type "Callable[[], int]"'),
        (14, "Too many positional arguments"),
        (16, 'Argument 2 to "call" of "ServiceClient" has incompatible type "int"; expected "str"'),
        (17, 'expression has type "str", variable has type "int"'),
        (28, 'Invalid self argument "State[int, ObjectSharedContext]" to attribute function "set"'),
        (29, 'Invalid self argument "State[int, ObjectSharedContext]"'),
        (32, 'Value of type variable "BoundT" of "bind" of "StateKey" cannot be "Context"'),
        (33, 'No overload variant of "run" matches argument types "int"'),
        (34, 'Argument 1 to "now" has incompatible type "str"; expected "Context"'),
        (
            35,
            'Argument 1 to "call" of "ServiceClient" has incompatible type "int"; '
            'expected "Context"',
        ),
        (36, 'Argument 1 to "gather" has incompatible type "None"; expected "Context"'),
    ],
)
def test_misuse_is_reported(misuse_report: str, line: int, fragment: str) -> None:
    """Each deliberate mistake is a mypy error on its line."""
    errors = [row for row in misuse_report.splitlines() if f"misuse.py:{line}:" in row]
    assert any(fragment in row for row in errors), misuse_report


@pytest.mark.parametrize("line", [27, 37])
def test_reading_from_shared_and_plain_contexts_is_not_reported(
    misuse_report: str, line: int
) -> None:
    """A shared handler reads state, and a plain `restate.Context` takes rea's helpers."""
    assert f"misuse.py:{line}:" not in misuse_report, misuse_report
