"""The harness serves apps on a real Restate server and invokes them through the ingress."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from rea.admin import AdminClient, AdminError
from rea.errors import AppStartError, ReaError, RegistrationError, RestateUnavailable
from rea.testing import Harness, RemoteServer, RestateServer
from rea.testing._ports import free_port
from rea.testing.pytest_plugin import HarnessFactory
from tests.integration.apps import coin, kinds


def test_service_object_and_workflow(rea_harness: HarnessFactory) -> None:
    """A Service, a VirtualObject (state across calls) and a Workflow answer through the ingress."""
    h = rea_harness(kinds.app)
    names = sorted(s["name"] for s in h.deployment["services"])
    assert names == ["KindsApproval", "KindsCounter", "KindsGreeter"]

    greeting = h.client.post("/KindsGreeter/greet", json={"name": "Ada", "age": 36})
    assert greeting.status_code == 200
    assert greeting.json() == "Ada turns 37"

    assert h.client.post("/KindsCounter/c1/add", json=5).json() == 5
    assert h.client.post("/KindsCounter/c1/add", json=7).json() == 12
    assert h.client.post("/KindsCounter/c2/add", json=1).json() == 1
    assert h.client.post("/KindsCounter/c1/current").json() == 12

    sent = h.client.post("/KindsApproval/w1/run/send", json="laptop")
    assert sent.status_code == 202
    assert sent.json()["status"] == "Accepted"
    h.client.post("/KindsApproval/w1/decide", json="approved").raise_for_status()
    output = h.client.get("/restate/workflow/KindsApproval/w1/attach")
    assert output.json() == "laptop: approved"
    assert h.client.post("/KindsApproval/w1/stage").json() == "done"


def test_state_is_visible_through_sql(rea_harness: HarnessFactory) -> None:
    """The harness's query helper reads the server's SQL tables."""
    h = rea_harness(kinds.app)
    h.client.post("/KindsCounter/sql/add", json=3).raise_for_status()
    rows = h.query(
        "SELECT key, value_utf8 FROM state "
        "WHERE service_name = 'KindsCounter' AND service_key = 'sql'"
    )
    assert rows == [{"key": "total", "value_utf8": "3"}]


def test_register_and_query_go_through_the_admin_client(rea_harness: HarnessFactory) -> None:
    """register() answers the deployment as a dict (kept in `deployment`); a refusal is a
    RegistrationError naming Restate's error; a bad query is an AdminError."""
    h = rea_harness("tests.integration.apps.kinds:app")
    again = h.register()
    assert again is h.deployment
    assert again["id"].startswith("dp_")
    assert sorted(s["name"] for s in again["services"]) == [
        "KindsApproval",
        "KindsCounter",
        "KindsGreeter",
    ]
    assert isinstance(h.admin_client, AdminClient)
    assert h.admin_client.service("KindsCounter").deployment_id == again["id"]
    with pytest.raises(AdminError) as bad:
        h.query("SELECT no_such_column FROM sys_invocation")
    assert bad.value.status == 500


class _Elsewhere(Harness):
    """A harness whose app URL has nothing listening: the server cannot discover it."""

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{_FREE}"


_FREE = free_port()


def test_registration_errors(restate_server: RestateServer) -> None:
    """The server refusing the app (discovery fails, META0003), or no server at all: a
    RegistrationError caused by the AdminClient's error."""
    refused = _Elsewhere(kinds.app, server=restate_server)
    try:
        with pytest.raises(RegistrationError, match=r"\[500 META0003\]") as caught:
            refused.register()
        assert isinstance(caught.value.__cause__, AdminError)
    finally:
        refused.close()
    nowhere = RemoteServer(restate_server.ingress_url, f"http://127.0.0.1:{free_port()}")
    unreachable = Harness(kinds.app, server=nowhere)
    try:
        with pytest.raises(RegistrationError, match="cannot reach the Restate admin API") as gone:
            unreachable.register()
        assert isinstance(gone.value.__cause__, RestateUnavailable)
    finally:
        unreachable.close()


def test_always_replay_catches_non_determinism(rea_harness: HarnessFactory) -> None:
    """A handler branching on random.random() fails with a journal mismatch under always-replay."""
    h = rea_harness(coin.app)
    response = h.client.post("/Coin/flip")
    # 570 is the SDK's JOURNAL_MISMATCH code, passed through once retries are exhausted.
    assert response.status_code == 570
    assert "mismatch" in response.json()["message"]


def test_same_handler_passes_without_always_replay() -> None:
    """The same handler succeeds on a server started with always_replay=False."""
    with RestateServer(always_replay=False) as server, Harness(coin.app, server=server) as h:
        response = h.client.post("/Coin/flip")
        assert response.status_code == 200
        assert len(response.json()) == 12


def test_child_process_app_survives_kill_and_restart(rea_harness: HarnessFactory) -> None:
    """An app served in a child process can be SIGKILLed and restarted on the same port."""
    h = rea_harness("tests.integration.apps.kinds:app")
    assert h.client.post("/KindsCounter/crash/add", json=2).json() == 2
    first = h.app_pid
    assert first is not None
    url = h.app_url
    h.kill()
    assert h.app_pid is None
    h.restart()
    assert h.app_pid not in (None, first)
    assert h.app_url == url
    assert h.client.post("/KindsCounter/crash/add", json=3).json() == 5


def test_kill_needs_a_child_process(rea_harness: HarnessFactory) -> None:
    """kill() on an in-process app says it needs a module:attr reference."""
    h = rea_harness(kinds.app)
    with pytest.raises(ReaError, match="module:attr"):
        h.kill()


def test_app_that_fails_to_import_reports_the_error(restate_server: RestateServer) -> None:
    """A child app that cannot be imported fails start-up fast with its error."""
    started = time.monotonic()
    with pytest.raises(AppStartError, match="no_such_module"):
        Harness("tests.integration.apps.no_such_module:app", server=restate_server).start()
    assert time.monotonic() - started < 10


def test_not_an_asgi_app_is_rejected() -> None:
    """Passing something that is not an ASGI app fails before anything starts."""
    with pytest.raises(AppStartError, match="not an ASGI app"):
        Harness(kinds.greeter)  # type: ignore[arg-type]


def test_harness_owning_its_server_stops_everything() -> None:
    """A harness without a server starts its own and stops both processes on exit."""
    with Harness("tests.integration.apps.kinds:app") as h:
        server = h.server
        assert isinstance(server, RestateServer)
        pids = [server.pid, h.app_pid]
        base_dir = server.base_dir
        assert h.client.post("/KindsCounter/own/add", json=1).json() == 1
    for pid in pids:
        assert pid is not None
        assert not _running(pid)
    assert not base_dir.exists()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.admin_url}/health", timeout=0.5)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too; /proc tells.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
