"""rea.security on a real restate-server: signed requests pass, every forgery is refused.

Apps run on threads of this process, so the rejection counters and the ``rea.security`` log
are read directly; one test serves the app as a child process configured by the REA_*
environment, as `rea serve` and `rea dev --secure` do.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

from rea.admin import AdminClient, AdminError
from rea.errors import RegistrationError
from rea.security import SecurityConfig, rejection_counts, reset_rejection_counts
from rea.security._keys import generate_key_pair
from rea.testing import Harness, RestateServer
from rea.testing._ports import listening_socket
from rea.testing._serve import ThreadServer, with_lifespan
from rea.testing._server import ServerEndpoint
from rea.testing.pytest_plugin import HarnessFactory
from tests._support import LogRecords, captured_warnings
from tests.integration.apps import security_app

GREET = "/invoke/SecureGreeter/greet"
#: Forged requests of each kind sent straight to the app.
ATTEMPTS = 10


@pytest.fixture(autouse=True)
def security_log() -> Iterator[LogRecords]:
    """Fresh counters, and the warnings of the rea.security logger during the test."""
    reset_rejection_counts()
    try:
        with captured_warnings("rea.security") as records:
            yield records
    finally:
        reset_rejection_counts()


def _config(*keys: str | None, **kwargs: Any) -> SecurityConfig:
    kwargs.setdefault("require_https", False)
    return SecurityConfig(identity_keys=[k for k in keys if k], **kwargs)


class Capture:
    """Records what reaches the guards for invocations: headers and the body bytes read."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[list[tuple[bytes, bytes]], bytearray]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or "/invoke/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        self.requests.append((list(scope["headers"]), body))

        async def recording() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        await self.app(scope, recording, send)


class Served:
    """An ASGI app served by hypercorn on a thread, over h2c or TLS, not registered anywhere."""

    def __init__(self, app: Any, *, tls: tuple[Path, Path] | None = None) -> None:
        self._sock = listening_socket()
        host, port = self._sock.getsockname()[:2]
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"
        self._thread: ThreadServer | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if tls is None:
            self._thread = ThreadServer(app, self._sock.fileno())
            self._thread.start()
            return
        config = Config()
        config.bind = [f"fd://{os.dup(self._sock.fileno())}"]
        config.certfile, config.keyfile = str(tls[0]), str(tls[1])
        config.alpn_protocols = ["h2", "http/1.1"]
        config.keep_alive_max_requests = 1_000_000_000
        config.accesslog = None
        config.loglevel = "WARNING"
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        self._loop, self._stop = loop, stop

        def run() -> None:
            loop.run_until_complete(
                serve(with_lifespan(app), config, shutdown_trigger=stop.wait, mode="asgi")
            )
            loop.close()

        self._tls_thread = threading.Thread(target=run, daemon=True)
        self._tls_thread.start()
        _wait_healthy(self.url, verify=False)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._tls_thread.join(5)
        self._sock.close()


def _wait_healthy(url: str, *, verify: bool = True) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"{url}/health", verify=verify, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _register(server: ServerEndpoint, url: str, **kwargs: Any) -> None:
    with AdminClient(server.admin_url) as admin:
        admin.register(url, force=True, breaking=True, **kwargs)


def _refusal(server: ServerEndpoint, url: str, **kwargs: Any) -> str:
    with pytest.raises(AdminError) as refused:
        _register(server, url, **kwargs)
    return str(refused.value)


def _signing_pem(server: ServerEndpoint) -> bytes:
    assert isinstance(server, RestateServer)
    path = server.signing_key_path
    assert path is not None
    return path.read_bytes()


def _token(pem: bytes, aud: str = GREET, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"aud": aud, "exp": issued + 60, "iat": issued, "nbf": issued - 60}
    return jwt.encode(claims, pem, "EdDSA", headers={"typ": "JWT"})


def _signed(token: str) -> dict[str, str]:
    return {"x-restate-signature-scheme": "v1", "x-restate-jwt-v1": token}


# -- signed traffic passes --------------------------------------------------------------------
def test_signing_server_registers_and_runs_the_app(
    rea_harness: HarnessFactory, rea_signing_server: ServerEndpoint
) -> None:
    """Discovery, calls, retries (same token, new attempts) and suspensions all pass strict."""
    key = getattr(rea_signing_server, "identity_key", None)
    h = rea_harness(security_app.build(_config(key)), signing=True)
    assert [s["name"] for s in h.deployment["services"]] == ["SecureGreeter"]
    assert h.client.post("/SecureGreeter/greet", json="ada").json() == "hello ada"
    assert h.client.post("/SecureGreeter/flaky", json="f1").json() == "f1 after 3 attempts"
    assert h.client.post("/SecureGreeter/nap", json="n1").json() == "n1 rested 1"
    # Many invocations of one handler in one second share a token: none is a replay.
    for i in range(30):
        assert h.client.post("/SecureGreeter/greet", json=str(i)).status_code == 200
    assert rejection_counts() == {}


def test_non_signing_server_is_refused(
    restate_server: ServerEndpoint, security_log: LogRecords
) -> None:
    """A server that does not sign cannot register the app: identity.missing, logged, counted."""
    served = Served(security_app.build(_config(generate_key_pair().public_key)))
    try:
        message = _refusal(restate_server, served.url)
    finally:
        served.close()
    assert "401" in message
    assert rejection_counts()["identity.missing"] >= 1
    assert any("[identity.missing] /discover" in m for m in security_log.messages)
    assert all("refused with 401" in m for m in security_log.messages)


# -- forged requests sent straight to the app ----------------------------------------------------
@pytest.fixture
def captured(
    rea_harness: HarnessFactory, rea_signing_server: ServerEndpoint
) -> tuple[Harness, Capture]:
    """A strict app registered on the signing server, with one real invocation captured."""
    key = getattr(rea_signing_server, "identity_key", None)
    capture = Capture(security_app.build(_config(key)))
    h = rea_harness(capture, signing=True)
    assert h.client.post("/SecureGreeter/greet", json="real").json() == "hello real"
    assert len(capture.requests) == 1
    return h, capture


def _send(url: str, path: str, headers: dict[str, str], body: bytes = b"") -> httpx.Response:
    headers = {"content-type": "application/vnd.restate.invocation.v6", **headers}
    return httpx.post(f"{url}{path}", headers=headers, content=body, timeout=10)


def test_forged_requests_are_refused(
    captured: tuple[Harness, Capture], rea_signing_server: ServerEndpoint
) -> None:
    """Unsigned, wrong-key, expired, wrong-path and replayed requests: 0 accepted of each."""
    h, capture = captured
    real_headers, real_body = capture.requests[0]
    real = {k.decode(): v.decode() for k, v in real_headers if k.startswith(b"x-restate-")}
    pem = _signing_pem(rea_signing_server)
    runs = security_app.RUNS["greet"]
    kinds = {
        "identity.missing": lambda: _send(h.app_url, GREET, {}, bytes(real_body)),
        "identity.unknown_key": lambda: _send(
            h.app_url, GREET, _signed(_token(generate_key_pair().private_pem)), bytes(real_body)
        ),
        "identity.expired": lambda: _send(
            h.app_url, GREET, _signed(_token(pem, now=time.time() - 120)), bytes(real_body)
        ),
        "identity.wrong_path": lambda: _send(
            h.app_url, "/invoke/SecureGreeter/nap", real, bytes(real_body)
        ),
        "replay.seen": lambda: _send(h.app_url, GREET, real, bytes(real_body)),
    }
    for reason, send in kinds.items():
        statuses = [send().status_code for _ in range(ATTEMPTS)]
        assert statuses == [401] * ATTEMPTS, reason
        response = send()
        assert reason in response.text
    assert rejection_counts() == {reason: ATTEMPTS + 1 for reason in kinds}
    assert security_app.RUNS["greet"] == runs  # no handler ran for any of them


def test_without_replay_protection_the_capture_runs_again(
    captured: tuple[Harness, Capture], rea_signing_server: ServerEndpoint
) -> None:
    """The threat is real: the same captured request, identity-checked only, runs the handler."""
    _, capture = captured
    real_headers, real_body = capture.requests[0]
    real = {k.decode(): v.decode() for k, v in real_headers if k.startswith(b"x-restate-")}
    key = getattr(rea_signing_server, "identity_key", None)
    unprotected = Served(security_app.build(_config(key, replay_protection=False)))
    runs = security_app.RUNS["greet"]
    try:
        response = _send(unprotected.url, GREET, real, bytes(real_body))
    finally:
        unprotected.close()
    assert response.status_code == 200
    assert security_app.RUNS["greet"] == runs + 1
    assert rejection_counts() == {}


# -- modes and rotation --------------------------------------------------------------------------
def test_permissive_logs_and_lets_through(
    rea_harness: HarnessFactory, security_log: LogRecords
) -> None:
    """Permissive: a non-signing server registers and invokes; each request logged and counted."""
    h = rea_harness(security_app.build(_config(generate_key_pair().public_key, mode="permissive")))
    assert h.client.post("/SecureGreeter/greet", json="p").json() == "hello p"
    counts = rejection_counts()
    assert set(counts) == {"identity.missing"}
    assert counts["identity.missing"] >= 2  # discovery and the invocation
    assert any("let through: permissive mode" in m for m in security_log.messages)


def test_rotation(rea_signing_server: ServerEndpoint) -> None:
    """Two keys: a server signing with either registers; without the old key it is refused."""
    old_key = getattr(rea_signing_server, "identity_key", None)
    with RestateServer(signing_key=True) as new_server:
        both = Served(security_app.build(_config(old_key, new_server.identity_key)))
        new_only = Served(security_app.build(_config(new_server.identity_key)))
        try:
            _register(rea_signing_server, both.url)
            _register(new_server, both.url)
            with httpx.Client(base_url=new_server.ingress_url, timeout=30) as client:
                assert client.post("/SecureGreeter/greet", json="r").json() == "hello r"
            _register(new_server, new_only.url)
            assert "401" in _refusal(rea_signing_server, new_only.url)
        finally:
            both.close()
            new_only.close()
    assert rejection_counts() == {"identity.unknown_key": 1}


def test_child_process_configured_by_the_environment(rea_harness: HarnessFactory) -> None:
    """A module:attr app reads REA_* (set by the signing harness): signed passes, direct fails."""
    h = rea_harness("tests.integration.apps.security_app:app", signing=True)
    assert h.client.post("/SecureGreeter/greet", json="env").json() == "hello env"
    response = _send(h.app_url, GREET, {})
    assert response.status_code == 401
    assert "identity.missing" in response.text
    deadline = time.monotonic() + 5
    while "[identity.missing]" not in h.app_log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"[identity.missing] {GREET} from 127.0.0.1:" in h.app_log()


# -- transport and network -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1: (ca, cert, key) files."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    paths = (folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    ca.cert_pem.write_to_path(str(paths[0]))
    leaf.cert_chain_pems[0].write_to_path(str(paths[1]))
    leaf.private_key_pem.write_to_path(str(paths[2]))
    return paths


def test_https_required_over_tls(tls: tuple[Path, Path, Path]) -> None:
    """Served over TLS (restate-server trusts the CA via SSL_CERT_FILE), strict with
    require_https registers and runs; the same app over plain HTTP is refused."""
    ca, cert, key = tls
    with RestateServer(signing_key=True, env={"SSL_CERT_FILE": str(ca)}) as server:
        config = _config(server.identity_key, require_https=True)
        secure_app = Served(security_app.build(config), tls=(cert, key))
        plain_app = Served(security_app.build(config))
        try:
            _register(server, secure_app.url)
            with httpx.Client(base_url=server.ingress_url, timeout=30) as client:
                assert client.post("/SecureGreeter/nap", json="t").json() == "t rested 1"
            assert "403" in _refusal(server, plain_app.url)
        finally:
            secure_app.close()
            plain_app.close()
    assert rejection_counts() == {"https.required": 1}


def test_trusted_proxy_forwarding_https(rea_signing_server: ServerEndpoint) -> None:
    """X-Forwarded-Proto: https is believed from a trusted proxy address only.

    The server itself plays the proxy: it adds the header to every request it sends.
    """
    key = getattr(rea_signing_server, "identity_key", None)
    forwarded = {"x-forwarded-proto": "https"}
    trusted = Served(
        security_app.build(_config(key, require_https=True, trusted_proxies=["127.0.0.1"]))
    )
    untrusted = Served(
        security_app.build(_config(key, require_https=True, trusted_proxies=["10.0.0.0/8"]))
    )
    try:
        _register(rea_signing_server, trusted.url, additional_headers=forwarded)
        with httpx.Client(base_url=rea_signing_server.ingress_url, timeout=30) as client:
            assert client.post("/SecureGreeter/greet", json="x").json() == "hello x"
        assert "403" in _refusal(rea_signing_server, untrusted.url, additional_headers=forwarded)
    finally:
        trusted.close()
        untrusted.close()
    assert rejection_counts() == {"https.required": 1}


def test_allowlist(rea_signing_server: ServerEndpoint) -> None:
    """The server's address inside allowed_networks registers; outside, it is refused."""
    key = getattr(rea_signing_server, "identity_key", None)
    inside = Served(security_app.build(_config(key, allowed_networks=["127.0.0.0/8"])))
    outside = Served(security_app.build(_config(key, allowed_networks=["10.0.0.0/8"])))
    try:
        _register(rea_signing_server, inside.url)
        assert "403" in _refusal(rea_signing_server, outside.url)
    finally:
        inside.close()
        outside.close()
    assert rejection_counts() == {"allowlist.outside": 1}


def test_registration_error_names_the_reason(restate_server: ServerEndpoint) -> None:
    """Restate's META0003 error quotes the refusal, so the operator sees why."""
    app = security_app.build(_config(generate_key_pair().public_key))
    harness = Harness(app, server=restate_server)
    try:
        with pytest.raises(RegistrationError) as refused:
            harness.start()
    finally:
        harness.close()
    assert "META0003" in str(refused.value)
    assert "rea.security refused this request (401): identity.missing" in str(refused.value)
