"""Finding and installing restate-server: lookup order, idempotent install, clear errors."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from rea import _engine
from rea.errors import ServerNotInstalledError

FAKE_NPM = """#!/bin/sh
# Stands in for npm: counts its runs and lays out the package as the real one does.
PATH=/usr/bin:/bin
echo run >> "{calls}"
prefix="$3"
bin="$prefix/node_modules/@restatedev/restate-server-test-x64/bin"
mkdir -p "$bin"
printf '#!/bin/sh\\necho restate-server fake\\n' > "$bin/restate-server"
sleep 0.2
"""


def _executable(path: Path, text: str = "#!/bin/sh\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache, no REA_RESTATE_SERVER and a PATH with nothing on it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(_engine.ENV_BINARY, raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return tmp_path


def test_cache_lives_under_xdg_cache_home(isolated: Path) -> None:
    """The binary is cached per version under $XDG_CACHE_HOME/rea."""
    expected = isolated / "cache" / "rea" / "restate-server" / _engine.RESTATE_SERVER_VERSION
    assert _engine.cached_binary().parent == expected


def test_nothing_found_says_how_to_install(isolated: Path) -> None:
    """With no binary anywhere, the error names the fix: `rea server install`."""
    assert _engine.find_server() is None
    with pytest.raises(ServerNotInstalledError, match="rea server install"):
        _engine.server_binary()


def test_lookup_order_env_then_cache_then_path(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REA_RESTATE_SERVER wins over the cache, which wins over PATH."""
    on_path = _executable(isolated / "empty-bin" / "restate-server")
    assert _engine.find_server() == on_path
    cached = _executable(_engine.cached_binary())
    assert _engine.find_server() == cached
    explicit = _executable(isolated / "custom" / "restate-server")
    monkeypatch.setenv(_engine.ENV_BINARY, str(explicit))
    assert _engine.find_server() == explicit


def test_env_pointing_nowhere_is_an_error(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A REA_RESTATE_SERVER that is not an executable is reported, not skipped."""
    monkeypatch.setenv(_engine.ENV_BINARY, str(isolated / "missing"))
    with pytest.raises(ServerNotInstalledError, match="REA_RESTATE_SERVER"):
        _engine.find_server()


def test_install_without_npm_is_a_clear_error(isolated: Path) -> None:
    """Without npm, install says to install Node.js and downloads nothing."""
    with pytest.raises(ServerNotInstalledError, match=r"npm not found: install Node\.js"):
        _engine.install_server()
    assert not _engine.cached_binary().exists()


def test_install_is_idempotent_and_reports_progress(isolated: Path) -> None:
    """The first install runs npm once and says so; later installs reuse the cache silently."""
    calls = isolated / "npm-calls"
    _executable(isolated / "empty-bin" / "npm", FAKE_NPM.format(calls=calls))
    messages: list[str] = []
    first = _engine.install_server(progress=messages.append)
    assert first == _engine.cached_binary()
    assert os.access(first, os.X_OK)
    assert messages[0].startswith(f"Installing restate-server {_engine.RESTATE_SERVER_VERSION}")
    again: list[str] = []
    assert _engine.install_server(progress=again.append) == first
    assert again == []
    assert calls.read_text().count("run") == 1


def test_concurrent_installs_run_npm_once(isolated: Path) -> None:
    """Two installs at once (e.g. two test workers) share one npm run."""
    calls = isolated / "npm-calls"
    _executable(isolated / "empty-bin" / "npm", FAKE_NPM.format(calls=calls))
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(_engine.install_server())) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert calls.read_text().count("run") == 1


def test_failed_npm_install_shows_its_output(isolated: Path) -> None:
    """An npm failure surfaces npm's own last lines."""
    _executable(
        isolated / "empty-bin" / "npm", "#!/bin/sh\necho 'E404 no such package' >&2\nexit 1\n"
    )
    with pytest.raises(ServerNotInstalledError, match="E404 no such package"):
        _engine.install_server()
