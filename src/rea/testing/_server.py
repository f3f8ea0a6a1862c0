"""`RestateServer`: a real restate-server process tuned for tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol, Self

import httpx

from rea import _process
from rea._engine import server_binary
from rea._transport import sync_transport
from rea.errors import ServerStartError, UsageValueError
from rea.security._keys import (
    SERVER_KEY_ENV,
    generate_key_pair,
    public_key_from_pem,
    write_private_key,
)
from rea.testing._ports import free_port

__all__ = ["RemoteServer", "RestateServer", "ServerEndpoint"]

_BIND_FAILURES = ("failed binding", "Address already in use", "RT0004")
#: Where `signing_key=True` keeps the generated key, inside the base directory.
_GENERATED_KEY = Path("identity") / "private.pem"


class ServerEndpoint(Protocol):
    """Anything with the ingress and admin URLs of a Restate server."""

    @property
    def ingress_url(self) -> str: ...

    @property
    def admin_url(self) -> str: ...


class RemoteServer:
    """A Restate server that rea did not start (for example `--rea-server=URL`).

    Args:
        ingress_url: Its ingress.
        admin_url: Its admin API.
        identity_key: The ``publickeyv1_...`` key of the private key it signs requests with,
            if it signs them (a `Harness` then runs its app with security on).
    """

    def __init__(
        self, ingress_url: str, admin_url: str, *, identity_key: str | None = None
    ) -> None:
        self._ingress_url = ingress_url.rstrip("/")
        self._admin_url = admin_url.rstrip("/")
        self.identity_key = identity_key

    @property
    def ingress_url(self) -> str:
        return self._ingress_url

    @property
    def admin_url(self) -> str:
        return self._admin_url

    def __repr__(self) -> str:
        return f"RemoteServer(ingress_url={self.ingress_url!r}, admin_url={self.admin_url!r})"


class RestateServer:
    """A restate-server process on free loopback ports with a temporary base directory.

    The settings favour tests: one partition, little RocksDB memory, TCP only, quick retries
    that end in `kill`, a short shutdown timeout and, by default, *always replay*: the invoker's
    inactivity timeout is 0 s, so every await suspends and the handler is replayed from its
    journal, and non-deterministic handlers fail at once instead of in production.

    Args:
        always_replay: Suspend at every await (inactivity timeout 0 s).
        disable_retries: One attempt per invocation, then kill.
        max_attempts: Attempts per invocation before it is killed (from 50 ms, doubling);
            None keeps Restate's own default policy (500 ms doubling to 1 m, 70 attempts, then
            pause), as `rea dev` does. `disable_retries` means 1.
        binary: The restate-server to run; default: `rea server install`'s lookup order.
        base_dir: Keep data here (not removed on stop); default: a temporary directory.
        host: The loopback address to listen on.
        startup_timeout: Seconds to wait for health before giving up.
        env: Extra environment variables for the server (they win over rea's settings).
        log_filter: The server's `RESTATE_LOG_FILTER`.
        ports: Fixed (ingress, admin, node) ports; default: free ports.
        signing_key: Sign every request to deployments (Restate's request identity): the
            path of an Ed25519 private key (PEM), or True for a new key pair, written to
            ``identity/private.pem`` in the base directory (an existing one there is reused,
            so a kept `base_dir` keeps its key). The app checks requests against
            `identity_key`.
        tracing_endpoint: Export the server's traces (OTLP over gRPC) to this endpoint,
            ``http://host:4317`` (``RESTATE_TRACING_ENDPOINT``); the server then also sends
            each attempt a ``traceparent``, which a traced app's spans join.

    Raises:
        UsageValueError: `signing_key` is not a readable, unencrypted Ed25519 PEM key.
    """

    def __init__(
        self,
        *,
        always_replay: bool = True,
        disable_retries: bool = False,
        max_attempts: int | None = 3,
        binary: str | os.PathLike[str] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        host: str = "127.0.0.1",
        startup_timeout: float = 30.0,
        env: dict[str, str] | None = None,
        log_filter: str = "warn",
        ports: tuple[int, int, int] | None = None,
        signing_key: str | os.PathLike[str] | bool | None = None,
        tracing_endpoint: str | None = None,
    ) -> None:
        if tracing_endpoint is not None and not tracing_endpoint.startswith(
            ("http://", "https://")
        ):
            raise UsageValueError(
                f"tracing_endpoint must be an http(s) URL (OTLP over gRPC), not "
                f"{tracing_endpoint!r}"
            )
        self.tracing_endpoint = tracing_endpoint
        self.always_replay = always_replay
        self.disable_retries = disable_retries
        if max_attempts is not None and max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.max_attempts = 1 if disable_retries else max_attempts
        self.host = host
        self.startup_timeout = startup_timeout
        self._binary = Path(binary) if binary is not None else None
        self._keep_dir = base_dir is not None
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._extra_env = dict(env or {})
        self._log_filter = log_filter
        self._fixed_ports = ports
        self._ports: tuple[int, int, int] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._signing_path: Path | None = None
        self._signing_pem: bytes | None = None  # generated, written at each start
        self._identity_key: str | None = None
        if signing_key is True:
            self._generate_signing_key()
        elif signing_key is not None and signing_key is not False:
            self._signing_path = Path(signing_key).absolute()
            self._identity_key = _read_public_key(self._signing_path)

    def _generate_signing_key(self) -> None:
        # Known from construction on, so that an app can be built with `identity_key` before
        # the server starts; a kept base directory keeps the key it already has.
        existing = self._base_dir / _GENERATED_KEY if self._base_dir is not None else None
        if existing is not None and existing.exists():
            self._identity_key = _read_public_key(existing)
            return
        pair = generate_key_pair()
        self._signing_pem, self._identity_key = pair.private_pem, pair.public_key

    # -- public properties -------------------------------------------------------------------
    @property
    def binary(self) -> Path:
        """The restate-server binary this server runs."""
        if self._binary is None:
            self._binary = server_binary()
        return self._binary

    @property
    def base_dir(self) -> Path:
        """The server's data directory (created on start)."""
        if self._base_dir is None:
            self._base_dir = Path(tempfile.mkdtemp(prefix="rea-restate-"))
        return self._base_dir

    @property
    def ports(self) -> tuple[int, int, int]:
        """The (ingress, admin, node) ports."""
        if self._ports is None:
            self._ports = self._fixed_ports or (free_port(), free_port(), free_port())
        return self._ports

    @property
    def ingress_url(self) -> str:
        return f"http://{self.host}:{self.ports[0]}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.ports[1]}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def log_path(self) -> Path:
        return self.base_dir / "restate-server.log"

    @property
    def identity_key(self) -> str | None:
        """The ``publickeyv1_...`` key the app verifies requests with; None: no signing."""
        return self._identity_key

    @property
    def signing_key_path(self) -> Path | None:
        """The private key file the server signs with (None: it does not sign)."""
        if self._signing_path is not None:
            return self._signing_path
        if self._identity_key is not None:
            return self.base_dir / _GENERATED_KEY
        return None

    def environment(self) -> dict[str, str]:
        """The `RESTATE_*` settings this server runs with (check them with `--dump-config`)."""
        ingress, admin, node = self.ports
        settings = {
            "RESTATE_NODE_NAME": "rea",
            "RESTATE_INGRESS__BIND_ADDRESS": f"{self.host}:{ingress}",
            "RESTATE_ADMIN__BIND_ADDRESS": f"{self.host}:{admin}",
            "RESTATE_BIND_ADDRESS": f"{self.host}:{node}",
            "RESTATE_ADVERTISED_ADDRESS": f"http://{self.host}:{node}/",
            "RESTATE_LISTEN_MODE": "tcp",
            "RESTATE_DISABLE_TELEMETRY": "true",
            "RESTATE_LOG_FILTER": self._log_filter,
            "RESTATE_DEFAULT_NUM_PARTITIONS": "1",
            "RESTATE_ROCKSDB_TOTAL_MEMORY_SIZE": "32 MB",
            "RESTATE_WORKER__INVOKER__INACTIVITY_TIMEOUT": "0s" if self.always_replay else "1m",
            "RESTATE_WORKER__INVOKER__ABORT_TIMEOUT": "10s",
            "RESTATE_SHUTDOWN_TIMEOUT": "2s",
            # Completed invocations past their retention are purged on this timer (default
            # 1 h): 1 s lets a test see a retention of seconds take effect.
            "RESTATE_WORKER__CLEANUP_INTERVAL": "1s",
        }
        if self.max_attempts is not None:
            settings["RESTATE_DEFAULT_RETRY_POLICY__INITIAL_INTERVAL"] = "50ms"
            settings["RESTATE_DEFAULT_RETRY_POLICY__MAX_ATTEMPTS"] = str(self.max_attempts)
            settings["RESTATE_DEFAULT_RETRY_POLICY__ON_MAX_ATTEMPTS"] = "kill"
        key_path = self.signing_key_path
        if key_path is not None:
            settings[SERVER_KEY_ENV] = str(key_path)
        if self.tracing_endpoint is not None:
            settings["RESTATE_TRACING_ENDPOINT"] = self.tracing_endpoint
        settings.update(self._extra_env)
        return settings

    def log_tail(self, lines: int = 30) -> str:
        """The last `lines` lines of the server log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Self:
        """Start the server and wait until ingress and admin are healthy.

        Raises:
            ServerStartError: it exited or was not healthy within `startup_timeout`; the
                message ends with the tail of the server log.
        """
        self._spawn()
        self._wait_ready()
        return self

    def _spawn(self) -> None:
        if self._proc is not None:
            raise ServerStartError("this RestateServer is already started")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTATE_")}
        env.update(self.environment())
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._signing_pem is not None and not (self.base_dir / _GENERATED_KEY).exists():
            write_private_key(self.base_dir / _GENERATED_KEY, self._signing_pem)
        # The invoker creates a scratch directory per start in TMPDIR: keep it in the base dir,
        # so that it goes away with it.
        scratch = self.base_dir / "tmp"
        scratch.mkdir(exist_ok=True)
        env["TMPDIR"] = str(scratch)
        self._log = self.log_path.open("wb")
        self._proc = _process.spawn(
            [str(self.binary), "--no-logo", "--base-dir", str(self.base_dir)],
            env=env,
            log=self._log,
        )

    def _wait_ready(self) -> None:
        for attempt in range(3):
            try:
                self._poll_health()
                return
            except ServerStartError:
                # Free ports are only free until someone binds them: a lost race is retried
                # on new ports, anything else is reported.
                if self._fixed_ports or attempt == 2 or not self._lost_port_race():
                    self._cleanup()
                    raise
                self._stop_process()
                self._ports = None
                self._proc = None
                self._spawn()

    def _lost_port_race(self) -> bool:
        tail = self.log_tail(50)
        return any(marker in tail for marker in _BIND_FAILURES)

    def _poll_health(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        urls = [f"{self.admin_url}/health", f"{self.ingress_url}/restate/health"]
        with httpx.Client(timeout=1.0, transport=sync_transport(self.admin_url)) as client:
            while urls:
                if self._proc.poll() is not None:
                    raise ServerStartError(
                        f"restate-server exited with status {self._proc.returncode} during "
                        f"start-up; log tail:\n{self.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"restate-server was not healthy after {self.startup_timeout:.1f} s; "
                        f"log tail:\n{self.log_tail()}"
                    )
                try:
                    if client.get(urls[0]).status_code == 200:
                        urls.pop(0)
                        continue
                except httpx.TransportError:
                    pass
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop the whole process group and remove the temporary base directory."""
        self._stop_process()
        self._cleanup()

    def _stop_process(self) -> None:
        if self._proc is not None:
            _process.terminate(self._proc)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _cleanup(self) -> None:
        self._stop_process()
        self._proc = None
        if not self._keep_dir and self._base_dir is not None:
            shutil.rmtree(self._base_dir, ignore_errors=True)
            self._base_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.pid else "stopped"
        return f"RestateServer(ingress_url={self.ingress_url!r}, {state})"


def _read_public_key(path: Path) -> str:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UsageValueError(f"signing_key: cannot read {path}: {exc.strerror}") from exc
    try:
        return public_key_from_pem(pem)
    except UsageValueError as exc:
        raise UsageValueError(f"signing_key {path}: {exc}") from exc
