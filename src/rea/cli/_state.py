"""The local development server whose data and address live under `.rea/`."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

import httpx

from rea.errors import ServerStartError
from rea.testing._ports import free_port
from rea.testing._server import RemoteServer, RestateServer

#: Restate's usual ports (ingress, admin, node), used when they are free.
DEFAULT_PORTS = (8080, 9070, 5122)


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalServer:
    """A restate-server with its data in ``<root>/server`` and its address in ``server.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_file = root / "server.json"
        self._server: RestateServer | None = None

    @property
    def app_error_file(self) -> Path:
        """Where `rea dev` keeps why the app last failed to start (while it is down)."""
        return self.root / "app-error.txt"

    def record_app_error(self, text: str | None) -> None:
        """Keep why the app failed to start (None: it runs again), for `rea invoke` to quote."""
        with contextlib.suppress(OSError):
            if text is None:
                self.app_error_file.unlink(missing_ok=True)
            else:
                self.app_error_file.write_text(text)

    def app_error(self) -> str | None:
        """Why the app of `rea dev` failed to start, if it is down for that reason."""
        try:
            return self.app_error_file.read_text() or None
        except OSError:
            return None

    def _state(self) -> dict[str, object]:
        try:
            state: dict[str, object] = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return state

    def read(self) -> RemoteServer | None:
        """The server another rea process runs for this directory, if it is up."""
        state = self._state()
        pid, ingress, admin = state.get("pid"), state.get("ingress_url"), state.get("admin_url")
        if not (isinstance(pid, int) and isinstance(ingress, str) and isinstance(admin, str)):
            return None
        if not _alive(pid):
            return None
        try:
            healthy = httpx.get(f"{admin}/health", timeout=1.0).status_code == 200
        except httpx.TransportError:
            healthy = False
        key = state.get("identity_key")
        identity_key = key if isinstance(key, str) else None
        return RemoteServer(ingress, admin, identity_key=identity_key) if healthy else None

    def ensure_root(self) -> None:
        """Create the data directory, git-ignored: nothing in it belongs in a commit."""
        self.root.mkdir(parents=True, exist_ok=True)
        gitignore = self.root / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")

    def _ports(self) -> tuple[tuple[int, int, int], bool]:
        """Ports for the server, and whether they were chosen free just now."""
        saved = self._state().get("ports")
        candidates: list[tuple[int, ...]] = [DEFAULT_PORTS]
        if isinstance(saved, list) and len(saved) == 3:
            # The node's address is stored with its data: keep the ports it had, if possible.
            candidates.insert(0, tuple(int(p) for p in saved))
        for ports in candidates:
            if all(_port_free(p) for p in ports):
                return (ports[0], ports[1], ports[2]), False
        return (free_port(), free_port(), free_port()), True

    def start(
        self,
        *,
        always_replay: bool = False,
        max_attempts: int | None = None,
        signing_key: Path | None = None,
        tracing_endpoint: str | None = None,
    ) -> RestateServer | None:
        """Start a server for this directory, or return None if one already runs.

        Args:
            always_replay: Suspend and replay at every await.
            max_attempts: Attempts per invocation, then kill; None: Restate's default policy.
            signing_key: A private key the server signs every request with (request identity);
                its public key is recorded, so a later ``rea dev --secure`` can reuse the
                server and a plain one be told apart.
        """
        if self.read() is not None:
            return None
        self.ensure_root()
        ports, fresh = self._ports()
        try:
            server = self._launch(ports, always_replay, max_attempts, signing_key, tracing_endpoint)
        except ServerStartError:
            if fresh:
                raise
            # The usual ports were free a moment ago, and another process took one since
            # (two servers starting at once): once more, on ports no one has asked for.
            ports = (free_port(), free_port(), free_port())
            server = self._launch(ports, always_replay, max_attempts, signing_key, tracing_endpoint)
        self._server = server
        self.state_file.write_text(
            json.dumps(
                {
                    "pid": server.pid,
                    "ingress_url": server.ingress_url,
                    "admin_url": server.admin_url,
                    "ports": list(server.ports),
                    "identity_key": server.identity_key,
                }
            )
        )
        return server

    def _launch(
        self,
        ports: tuple[int, int, int],
        always_replay: bool,
        max_attempts: int | None,
        signing_key: Path | None,
        tracing_endpoint: str | None = None,
    ) -> RestateServer:
        server = RestateServer(
            base_dir=self.root / "server",
            ports=ports,
            always_replay=always_replay,
            max_attempts=max_attempts,
            signing_key=signing_key,
            tracing_endpoint=tracing_endpoint,
        )
        server.start()
        return server

    def stop(self) -> None:
        """Stop the server this object started (a reused one keeps running)."""
        if self._server is None:
            return
        ports = list(self._server.ports)
        self._server.stop()
        self._server = None
        with contextlib.suppress(OSError):
            self.state_file.write_text(json.dumps({"ports": ports}))
