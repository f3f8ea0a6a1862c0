"""`Harness`: serve an app, register it with a Restate server, and hand out clients."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Self

import httpx

from rea import _process
from rea._loader import ASGIApp, is_asgi_app
from rea._transport import sync_transport
from rea.admin import AdminClient, AdminError
from rea.errors import AppStartError, ReaError, RegistrationError, UsageValueError
from rea.testing._ports import listening_socket
from rea.testing._serve import ThreadServer
from rea.testing._server import RestateServer, ServerEndpoint
from rea.workflow import _time

__all__ = ["Harness", "security_env"]

_CHILD = "import sys; from rea.testing._serve import _entry; sys.exit(_entry())"


class Harness:
    """An app served by hypercorn (HTTP/2 cleartext) and registered with a Restate server.

    Give it an ASGI app object to serve it on a thread of this process, or a ``"module:attr"``
    reference to serve it in a child process, which `kill` (SIGKILL) and `restart` can then
    crash and bring back on the same port, as a real deployment would.

    Args:
        app: The ASGI app (a `restate.app(...)`), or a ``"module:attr"`` reference.
        server: The Restate server to register with; default: start a `RestateServer` (with
            `always_replay` and `disable_retries`) and stop it with the harness.
        always_replay: For the harness's own server only.
        disable_retries: For the harness's own server only.
        startup_timeout: Seconds to wait for the app and the server.
        app_env: Extra environment variables for a child app process.
        app_output: Where a child app process writes its output (stdout and stderr), e.g.
            ``sys.stderr`` to see its logs live, as `rea dev` does; default: a temporary file
            whose tail is quoted when the app fails to start.
        time_scale: Multiply every durable timer of the app by this before it is journaled
            (``ctx.sleep`` through rea's guarded context, `rea.sleep_until`, `rea.race`
            timeouts, `rea.loop` delays...): 0.001 turns a day into 86.4 s. `rea.now` stays
            real time. A child app gets it as ``REA_TIME_SCALE``; an app on a thread shares
            this process's scale, so apps on threads of one process must agree. Default:
            this process's own scale (``REA_TIME_SCALE``, else 1), which a child inherits.
        signing: Start the harness's own server signing every request with a new key pair
            (Restate's request identity); with `server`, require that it signs. Whenever the
            server signs, a child app process gets ``REA_SECURITY_MODE=strict``,
            ``REA_IDENTITY_KEYS=<identity_key>`` and ``REA_REQUIRE_HTTPS=false`` (`app_env`
            wins), so a `rea.app` runs with security on; an app object given whole was
            built already: build it with `identity_key` of the server.

    Raises:
        AppStartError: `app` is not an ASGI app.
        UsageValueError: `signing` with a `server` that does not sign.
    """

    def __init__(
        self,
        app: ASGIApp | str,
        *,
        server: ServerEndpoint | None = None,
        always_replay: bool = True,
        disable_retries: bool = False,
        startup_timeout: float = 30.0,
        app_env: dict[str, str] | None = None,
        app_output: IO[Any] | None = None,
        time_scale: float | None = None,
        signing: bool = False,
    ) -> None:
        if not isinstance(app, str) and not is_asgi_app(app):
            raise AppStartError(f"{app!r} is not an ASGI app (app(scope, receive, send))")
        self.time_scale = (
            None if time_scale is None else _time.check_scale(time_scale, source="time_scale")
        )
        self._release_time_scale: Callable[[], None] | None = None
        self.app = app
        self.startup_timeout = startup_timeout
        self._own_server = server is None
        self.server: ServerEndpoint = server or RestateServer(
            always_replay=always_replay,
            disable_retries=disable_retries,
            startup_timeout=startup_timeout,
            signing_key=True if signing else None,
        )
        if signing and self.identity_key is None:
            raise UsageValueError(
                f"signing=True, but {self.server!r} does not sign requests: give a "
                "RestateServer(signing_key=...) as server, or no server"
            )
        self._app_env = dict(app_env or {})
        self._app_output = app_output
        self._sock = listening_socket()
        self._proc: subprocess.Popen[bytes] | None = None
        self._app_log: IO[bytes] | None = None
        self._thread: ThreadServer | None = None
        self._client: httpx.Client | None = None
        self._admin: httpx.Client | None = None
        self._admin_client: AdminClient | None = None
        self.deployment: dict[str, Any] = {}

    # -- addresses and clients ---------------------------------------------------------------
    @property
    def ingress_url(self) -> str:
        return self.server.ingress_url

    @property
    def admin_url(self) -> str:
        return self.server.admin_url

    @property
    def identity_key(self) -> str | None:
        """The public key of the server's request signing (None: the server does not sign)."""
        key = getattr(self.server, "identity_key", None)
        return key if isinstance(key, str) else None

    def security_env(self) -> dict[str, str]:
        """The environment that turns security on in a child `rea.app` ({} without signing)."""
        return {} if self.identity_key is None else security_env(self.identity_key)

    @property
    def app_url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def app_pid(self) -> int | None:
        """The child app process's id (None for an in-process app or after `kill`)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def client(self) -> httpx.Client:
        """A plain HTTP client on the ingress (base URL set, 30 s timeout), for tests."""
        if self._client is None:
            self._client = _plain_client(self.ingress_url)
        return self._client

    @property
    def admin(self) -> httpx.Client:
        """A plain HTTP client on the admin API (base URL set, 30 s timeout), for tests."""
        if self._admin is None:
            self._admin = _plain_client(self.admin_url)
        return self._admin

    @property
    def admin_client(self) -> AdminClient:
        """A `rea.AdminClient` on the server's admin API (what `register` and `query` use)."""
        if self._admin_client is None:
            self._admin_client = AdminClient(self.admin_url)
        return self._admin_client

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A new async HTTP client on the ingress; the caller closes it."""
        kwargs.setdefault("timeout", 30.0)
        return httpx.AsyncClient(base_url=self.ingress_url, **kwargs)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a SQL query on the admin API (``sys_invocation``, ``sys_journal``, ...).

        Raises:
            AdminError: the server refused the query (a bad one is a 500 naming the problem).
        """
        return self.admin_client.query(sql)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        """Start the server (if owned) and the app in parallel, then register the app.

        Raises:
            ServerStartError, AppStartError, RegistrationError: with the relevant log tail.
        """
        try:
            if isinstance(self.server, RestateServer) and self._own_server:
                self.server._spawn()
            self._start_app()
            if isinstance(self.server, RestateServer) and self._own_server:
                self.server._wait_ready()
            self._wait_app_ready()
            self.register()
        except BaseException:
            self.stop()
            raise
        return self

    def register(self, *, force: bool = True) -> dict[str, Any]:
        """Register (or re-register) the app's deployment.

        Returns:
            The admin API's answer (services and handlers), also kept as `deployment`.

        Raises:
            RegistrationError: the server refused it, or could not be reached.
        """
        try:
            deployment = self.admin_client.register(self.app_url, force=force, breaking=True)
        except AdminError as exc:
            raise RegistrationError(f"registering {self.app_url}: {exc}") from exc
        self.deployment = dict(deployment.raw)
        return self.deployment

    def _start_app(self) -> None:
        if isinstance(self.app, str):
            env = dict(os.environ)
            # Whatever this process can import, the child can import too.
            env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
            if self.time_scale is not None:
                env[_time.ENV_VAR] = repr(self.time_scale)
            env.update(self.security_env())
            env.update(self._app_env)
            fd = self._sock.fileno()
            if self._app_log is None and self._app_output is None:
                self._app_log = _temp_log()
            self._proc = _process.spawn(
                # -c, not -m: rea.testing imports _serve, and running an imported module as
                # __main__ makes runpy warn on the app's output.
                [sys.executable, "-c", _CHILD, "--fd", str(fd), self.app],
                env=env,
                log=self._app_output or self._app_log,
                pass_fds=[fd],
            )
        else:
            if self.time_scale is not None and self._release_time_scale is None:
                # The app's handlers run in this process: they read its scale.
                self._release_time_scale = _time.override_time_scale(self.time_scale)
            self._thread = ThreadServer(self.app, self._sock.fileno())
            self._thread.start()

    def app_log(self) -> str:
        """What a child app process wrote so far ("" with `app_output`, or in-process)."""
        if self._app_log is None:
            return ""
        self._app_log.flush()
        return Path(self._app_log.name).read_text(errors="replace")

    def _app_log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.app_log().strip().splitlines()[-lines:])

    def _wait_app_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=1.0, transport=sync_transport("http://127.0.0.1")) as client:
            while True:
                if self._proc is not None and self._proc.poll() is not None:
                    raise AppStartError(
                        f"app process for {self.app!r} exited with status "
                        f"{self._proc.returncode}:\n{self._app_log_tail()}"
                    )
                try:
                    client.get(f"{self.app_url}/health")
                    return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AppStartError(
                        f"app {self.app!r} did not answer within {self.startup_timeout:.1f} s:\n"
                        f"{self._app_log_tail()}"
                    )
                time.sleep(0.01)

    def kill(self) -> None:
        """SIGKILL the app process, as a crash would (child-process apps only)."""
        if self._proc is None:
            raise ReaError(
                "kill() needs an app given as a 'module:attr' reference (a child process)"
            )
        _process.kill(self._proc)

    def restart(self) -> None:
        """Start the app again on the same port (after `kill`, or stopping it first)."""
        if self._proc is not None:
            _process.terminate(self._proc)
        elif self._thread is not None:
            self._thread.stop()
        self._start_app()
        self._wait_app_ready()

    def stop(self) -> None:
        """Stop the app, close the clients and stop the server if the harness started it."""
        for http in (self._client, self._admin, self._admin_client):
            if http is not None:
                http.close()
        self._client = self._admin = self._admin_client = None
        if self._proc is not None:
            _process.terminate(self._proc)
            self._proc = None
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
        if self._release_time_scale is not None:
            self._release_time_scale()
            self._release_time_scale = None
        if self._own_server and isinstance(self.server, RestateServer):
            self.server.stop()
        if self._app_log is not None:
            self._app_log.close()
            Path(self._app_log.name).unlink(missing_ok=True)
            self._app_log = None

    def close(self) -> None:
        """Stop everything and release the app's port."""
        self.stop()
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)


def security_env(identity_key: str) -> dict[str, str]:
    """The environment of an app process that accepts only requests signed for `identity_key`.

    Args:
        identity_key: The ``publickeyv1_...`` key of the server's signing key.

    Returns:
        ``REA_SECURITY_MODE=strict``, ``REA_IDENTITY_KEYS`` and ``REA_REQUIRE_HTTPS=false``.
    """
    return {
        "REA_SECURITY_MODE": "strict",
        "REA_IDENTITY_KEYS": identity_key,
        # Served as h2c on loopback (harness, rea dev): there is no TLS to require.
        "REA_REQUIRE_HTTPS": "false",
    }


def _plain_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30.0, transport=sync_transport(url))


def _temp_log() -> IO[bytes]:
    import tempfile

    return tempfile.NamedTemporaryFile(prefix="rea-app-", suffix=".log", delete=False)
