"""Finding and installing the restate-server binary.

The server comes from the npm package ``@restatedev/restate-server``, which ships a static binary
per platform. It is installed into a per-user cache, one directory per pinned version.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from rea.errors import ServerNotInstalledError

#: The one place the engine version is pinned.
RESTATE_SERVER_VERSION = "1.7.12"
NPM_PACKAGE = "@restatedev/restate-server"
ENV_BINARY = "REA_RESTATE_SERVER"


def cache_root() -> Path:
    """The per-user cache directory for rea (``$XDG_CACHE_HOME/rea``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rea"


def cached_binary(version: str = RESTATE_SERVER_VERSION) -> Path:
    """Where `install_server` puts the binary of `version`."""
    return cache_root() / "restate-server" / version / "restate-server"


def find_server() -> Path | None:
    """The restate-server binary to use, or None: `REA_RESTATE_SERVER`, the cache, then `PATH`.

    Raises:
        ServerNotInstalledError: `REA_RESTATE_SERVER` names a file that is not there.
    """
    explicit = os.environ.get(ENV_BINARY)
    if explicit:
        path = Path(explicit).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ServerNotInstalledError(
                f"{ENV_BINARY}={explicit} is not an executable file; unset it or point it at a "
                "restate-server binary"
            )
        return path
    cached = cached_binary()
    if cached.is_file():
        return cached
    on_path = shutil.which("restate-server")
    return Path(on_path) if on_path else None


def server_binary() -> Path:
    """The restate-server binary, or a `ServerNotInstalledError` saying how to get one."""
    found = find_server()
    if found is None:
        raise ServerNotInstalledError(
            f"restate-server not found (looked at ${ENV_BINARY}, {cached_binary()} and PATH); "
            "run `rea server install`"
        )
    return found


@contextlib.contextmanager
def _install_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def install_server(
    *,
    version: str = RESTATE_SERVER_VERSION,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Install restate-server `version` from npm into the cache, once; return the binary.

    Safe to call concurrently from several processes: the second waits for the first.

    Raises:
        ServerNotInstalledError: npm is missing, the install failed, or the package holds no
            binary for this platform.
    """
    target = cached_binary(version)
    say = progress or (lambda _msg: None)
    if target.is_file() and not force:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise ServerNotInstalledError(
            "npm not found: install Node.js (which ships npm) so that rea can install "
            f"{NPM_PACKAGE}@{version}, or set {ENV_BINARY} to an existing restate-server binary"
        )
    version_dir = target.parent
    with _install_lock(version_dir.parent):
        if target.is_file() and not force:
            return target
        say(f"Installing restate-server {version} from npm ({NPM_PACKAGE}) into {version_dir}")
        with tempfile.TemporaryDirectory(dir=version_dir.parent, prefix=".npm-") as work:
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    work,
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    f"{NPM_PACKAGE}@{version}",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
                raise ServerNotInstalledError(
                    f"npm install of {NPM_PACKAGE}@{version} failed:\n{tail}"
                )
            candidates = sorted(
                Path(work, "node_modules", "@restatedev").glob(
                    "restate-server-*/bin/restate-server"
                )
            )
            if not candidates:
                raise ServerNotInstalledError(
                    f"{NPM_PACKAGE}@{version} has no restate-server binary for this platform"
                )
            staged = Path(work, "restate-server")
            shutil.move(str(candidates[0]), staged)
            staged.chmod(0o755)
            if version_dir.exists():
                shutil.rmtree(version_dir)
            version_dir.mkdir(parents=True)
            # A rename within one filesystem is atomic: readers see no binary or a whole one.
            os.replace(staged, target)
        say(f"Installed restate-server {version}: {target}")
    return target
