"""Every runnable example under examples/ runs to completion on a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUNNABLE = sorted(
    p for p in EXAMPLES.glob("*.py") if "__main__" in p.read_text() and p.name != "__init__.py"
)


@pytest.mark.parametrize("example", RUNNABLE, ids=[p.stem for p in RUNNABLE])
def test_example_runs(example: Path) -> None:
    """`python examples/<name>.py` exits 0."""
    result = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
