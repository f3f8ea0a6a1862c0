"""`rea server install | path`: one clear line on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _rea(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rea", *args], env=env, capture_output=True, text=True, timeout=60
    )


def _bare_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REA_RESTATE_SERVER"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    (tmp_path / "bin").mkdir()
    env["PATH"] = str(tmp_path / "bin")
    return env


def test_install_without_npm_prints_one_clear_line(tmp_path: Path) -> None:
    """`rea server install` with no npm on PATH: one error line naming npm, exit status 1."""
    result = _rea("server", "install", env=_bare_env(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rea: error: npm not found: install Node.js")


def test_path_prints_the_binary(tmp_path: Path) -> None:
    """`rea server path` prints REA_RESTATE_SERVER when it is set."""
    env = _bare_env(tmp_path)
    binary = tmp_path / "bin" / "restate-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    env["REA_RESTATE_SERVER"] = str(binary)
    result = _rea("server", "path", env=env)
    assert result.returncode == 0
    assert result.stdout.strip() == str(binary)


def test_path_when_not_installed(tmp_path: Path) -> None:
    """`rea server path` with nothing installed says to run `rea server install`."""
    result = _rea("server", "path", env=_bare_env(tmp_path))
    assert result.returncode == 1
    assert "rea server install" in result.stderr
