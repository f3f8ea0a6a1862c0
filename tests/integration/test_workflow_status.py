"""WorkflowStatus and WorkflowConfig on a real server (always-replay on)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from rea.admin import AdminClient
from rea.ingress import InvocationFailed, SyncIngressClient, UnknownTarget
from rea.testing import Harness, RestateServer
from rea.testing._server import ServerEndpoint
from rea.workflow._status import StatusReport
from tests.cli.test_register import run_rea
from tests.integration.apps.workflow_status_app import (
    NOTE,
    PROGRESS,
    Blob,
    Note,
    Progress,
    click,
    configured_run,
    run,
)

APP = "tests.integration.apps.workflow_status_app:app"
T = TypeVar("T")


@pytest.fixture(scope="module")
def h(restate_server: ServerEndpoint) -> Iterator[Harness]:
    """One app process for the module (its log is read by the state-size test)."""
    with Harness(APP, server=restate_server) as harness:
        yield harness


@pytest.fixture
def client(h: Harness) -> Iterator[SyncIngressClient]:
    with SyncIngressClient(h.ingress_url) as ingress:
        yield ingress


def _id() -> str:
    return f"wf-{uuid.uuid4().hex[:10]}"


def _until(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r}"
        time.sleep(0.05)


def _run_status(h: Harness, workflow: str, workflow_id: str) -> str:
    rows = h.query(
        "SELECT status FROM sys_invocation WHERE target_service_name = "
        f"'{workflow}' AND target_service_key = '{workflow_id}' AND target_handler_name = 'run'"
    )
    return str(rows[0]["status"]) if rows else "none"


# -- WorkflowStatus ------------------------------------------------------------------------------
def test_status_while_the_run_waits_on_a_promise_and_after_it_completed(
    h: Harness, client: SyncIngressClient
) -> None:
    """The generated shared handler, the workflow's own handler and the ingress client agree."""
    wid = _id()
    signup = client.workflow(run)
    signup.submit(wid, "ada@example.com")
    _until(lambda: _run_status(h, "StatusSignup", wid), lambda s: s == "suspended")
    waiting = signup.status(wid, Progress)
    assert isinstance(waiting, StatusReport)
    assert waiting.progress == Progress(stage="waiting", items=1)
    assert [s.name for s in waiting.steps] == ["email_sent"]
    assert h.client.post(f"/StatusSignup/{wid}/status").json() == json.loads(
        waiting.model_dump_json()
    )
    assert h.client.post(f"/StatusSignup/{wid}/stage").json() == "waiting"
    assert not signup.output(wid).ready

    signup.signal(wid, click, "ann")
    assert signup.attach(wid) == "ada@example.com confirmed by ann"
    done = signup.status(wid, PROGRESS)  # the declaration names the type and the handler
    assert done.progress == Progress(stage="done", items=2)
    assert [s.name for s in done.steps] == ["email_sent", "confirmed"]
    assert done.started_at == waiting.started_at
    assert done.started_at is not None
    assert done.started_at <= done.steps[0].at < done.steps[1].at == done.updated_at
    assert h.client.post(f"/StatusSignup/{wid}/stage").json() == "done"


def test_status_of_a_workflow_that_never_ran_is_empty(client: SyncIngressClient) -> None:
    assert client.workflow(run).status(_id(), Progress) == StatusReport[Progress]()


def test_rea_invoke_prints_the_status(
    h: Harness, client: SyncIngressClient, tmp_path: Path
) -> None:
    """`rea invoke StatusSignup/ID/status` prints the report as JSON."""
    wid = _id()
    client.workflow(run).submit(wid, "bob@example.com")
    report = _until(lambda: client.workflow(run).status(wid, Progress), lambda r: r.steps != [])
    result = run_rea(
        "invoke", f"StatusSignup/{wid}/status", "--ingress", h.ingress_url, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["progress"] == {"stage": "waiting", "items": 1}
    assert StatusReport[Progress].model_validate(printed) == report
    client.workflow(run).signal(wid, click, "bob")


def test_a_status_writing_run_journals_what_the_hand_written_one_does(
    h: Harness, client: SyncIngressClient
) -> None:
    """Entry by entry: the same commands and notifications, the same state bytes."""
    wid = _id()
    for workflow in ("StatusSignup", "StatusTwin"):
        facade = client.workflow(workflow, str, str)
        facade.submit(wid, "cy@example.com")
        _until(lambda: _run_status(h, workflow, wid), lambda s: s == "suspended")  # noqa: B023
        facade.signal(wid, "click", "cy")
        assert facade.attach(wid) == "cy@example.com confirmed by cy"

    def journal(workflow: str) -> list[tuple[str, str]]:
        rows = h.query(
            "SELECT j.entry_type, j.entry_lite_json FROM sys_journal j JOIN sys_invocation i "
            f"ON j.id = i.id WHERE i.target_service_name = '{workflow}' AND "
            f"i.target_service_key = '{wid}' AND i.target_handler_name = 'run' ORDER BY j.index"
        )
        return [(r["entry_type"], r["entry_lite_json"]) for r in rows]

    def state(workflow: str) -> str:
        (row,) = h.query(
            f"SELECT value_utf8 FROM state WHERE service_name = '{workflow}' AND "
            f"service_key = '{wid}' AND key = '_rea.status'"
        )
        # The journaled times differ between the two runs; nothing else may.
        return re.sub(r'"\d{4}-\d\d-\d\dT[^"]+"', '"<time>"', str(row["value_utf8"]))

    written, by_hand = journal("StatusSignup"), journal("StatusTwin")
    assert written == by_hand
    kinds = [kind for kind, _ in written]
    assert kinds.count("Command: SetState") == 3
    assert kinds.count("Command: Run") == 3  # one journaled timestamp per write
    assert "Command: GetState" not in kinds
    assert state("StatusSignup") == state("StatusTwin")


# -- WorkflowConfig ------------------------------------------------------------------------------
def test_every_duration_of_the_config_reaches_the_server(h: Harness) -> None:
    """Read back through the admin API, as discovery registered them."""
    with AdminClient(h.admin_url) as admin:
        service = admin.service("StatusConfigured")
        plain = admin.service("StatusSignup")
    assert service.workflow_completion_retention is not None
    assert service.workflow_completion_retention.total_seconds() == 2
    assert service.journal_retention is not None
    assert service.journal_retention.total_seconds() == 2 * 3600
    assert service.idempotency_retention is not None
    assert service.idempotency_retention.total_seconds() == 3 * 3600
    assert service.inactivity_timeout is not None
    assert service.inactivity_timeout.total_seconds() == 30
    assert service.abort_timeout is not None
    assert service.abort_timeout.total_seconds() == 60
    # An unconfigured workflow keeps the server's defaults; its status handler is public.
    assert plain.workflow_completion_retention != service.workflow_completion_retention
    status = plain.handler("status")
    assert (status.type, status.public) == ("Shared", True)
    assert status.output_schema is not None


def test_the_state_size_warning_fires_once_per_key(h: Harness, client: SyncIngressClient) -> None:
    """WARN: one line per key across writes and runs, values stored; STRICT: the run fails."""
    configured = client.workflow(configured_run)
    for _ in range(2):
        assert configured.call(_id(), Blob(size=300)) == 301
    lines = _until(
        lambda: [
            line
            for line in h.app_log().splitlines()
            if line.startswith("WARNING rea.policy: [state.too_large]")
        ],
        lambda found: len(found) >= 2,
    )
    time.sleep(0.2)  # nothing more arrives
    assert lines == [
        line
        for line in h.app_log().splitlines()
        if line.startswith("WARNING rea.policy: [state.too_large]")
    ]
    assert len(lines) == 2, lines
    assert "state 'blob' of StatusConfigured is 302 bytes" in lines[0]
    assert "state '_rea.status' of StatusConfigured" in lines[1]

    wid = _id()
    with pytest.raises(InvocationFailed, match=r"\[state.too_large\] state 'blob'"):
        configured.call(wid, Blob(size=300, strict=True))
    stored = h.query(
        f"SELECT key FROM state WHERE service_name = 'StatusConfigured' AND service_key = '{wid}'"
    )
    assert stored == []


def test_a_two_second_retention_makes_the_output_unreadable_after_two_seconds() -> None:
    """Output, promises, state and the invocation are gone ~2 s after the run ended.

    Restate purges expired runs on its cleanup timer (``worker.cleanup-interval``, 1 h by
    default), so this server checks every second.
    """
    server = RestateServer()  # its cleanup timer runs every second
    with server, Harness(APP, server=server) as h, SyncIngressClient(h.ingress_url) as client:
        wid = _id()
        configured = client.workflow(configured_run)
        assert configured.call(wid, Blob(size=10)) == 11
        ended = time.monotonic()
        assert configured.status(wid, NOTE).progress == Note(text="n" * 10)
        assert h.query(f"SELECT key FROM sys_promise WHERE service_key = '{wid}'") != []
        readable, gone = 0.0, None
        while gone is None:
            response = h.client.get(f"/restate/workflow/StatusConfigured/{wid}/output")
            elapsed = time.monotonic() - ended
            if response.status_code == 200:
                assert response.json() == 11
                readable = elapsed
            else:
                assert response.status_code == 404, response.text
                gone = elapsed
            assert elapsed < 10, "the output outlived its retention"
            time.sleep(0.05)
        assert readable >= 1.5, f"gone after {readable:.2f} s, before its 2 s retention"
        assert gone < 4.5, f"still readable {gone:.2f} s after the run ended"
        assert _run_status(h, "StatusConfigured", wid) == "none"
        for table in ("sys_promise", "state"):
            assert h.query(f"SELECT * FROM {table} WHERE service_key = '{wid}'") == [], table
        with pytest.raises(UnknownTarget):
            configured.output(wid)
        assert configured.status(wid, NOTE) == StatusReport[Note]()
        print(f"retention 2 s: readable at {readable:.2f} s, 404 at {gone:.2f} s")
