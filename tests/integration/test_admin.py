"""AdminClient and AsyncAdminClient: every operation against a real Restate server (1.7.12).

The app here also serves the CLI tests (tests/cli/test_register.py, test_invocations.py,
test_invoke.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
import restate

import rea
from rea.admin import AdminClient, AdminError, AdminUnavailable, AsyncAdminClient, InvocationInfo
from rea.testing import Harness
from rea.testing._ports import free_port
from rea.testing.pytest_plugin import HarnessFactory

probe = restate.Service("AdminProbe")
#: Inputs of `flaky` that may succeed now (the app runs on a thread of this process).
HEALED: set[str] = set()


@probe.handler()
async def echo(ctx: restate.Context, text: str) -> str:
    return await ctx.run_typed("upper", lambda: text.upper())


@probe.handler()
async def ping(ctx: restate.Context) -> dict[str, bool]:
    return {"pong": True}


@probe.handler()
async def refuse(ctx: restate.Context, reason: str) -> str:
    raise restate.TerminalError(f"refused: {reason}", status_code=422)


@probe.handler(
    invocation_retry_policy=restate.InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=300),
        exponentiation_factor=1.0,
        max_attempts=10_000,
        on_max_attempts="pause",
    )
)
async def flaky(ctx: restate.Context, text: str) -> str:
    if text not in HEALED:
        raise RuntimeError(f"{text} is not healed yet")
    return f"healed {text}"


@probe.handler()
async def nap(ctx: restate.Context) -> str:
    await ctx.sleep(timedelta(hours=1))
    return "woke up"


counter = restate.VirtualObject("AdminCounter")
TOTAL = rea.StateKey("total", int, default=0)


@counter.handler()
async def add(ctx: restate.ObjectContext, amount: int) -> int:
    return await TOTAL.bind(ctx).update(lambda total: total + amount)


@counter.handler(kind="shared")
async def current(ctx: restate.ObjectSharedContext) -> int:
    return await TOTAL.bind(ctx).get()


flow = restate.Workflow("AdminFlow")


@flow.main()
async def run(ctx: restate.WorkflowContext, item: str) -> str:
    return item


app = rea.app([probe, counter, flow])


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(app)


@pytest.fixture
def admin(h: Harness) -> Iterator[AdminClient]:
    with AdminClient(h.admin_url) as client:
        yield client


def _wait(admin: AdminClient, invocation_id: str, done: Callable[[InvocationInfo], bool]) -> None:
    deadline = time.monotonic() + 30
    info = None
    while time.monotonic() < deadline:
        try:
            info = admin.invocation(invocation_id)
        except AdminError as exc:
            if exc.status != 404:  # not visible yet
                raise
        if info is not None and done(info):
            return
        time.sleep(0.05)
    raise AssertionError(f"{invocation_id} never got there: {info}")


def _status(*statuses: str) -> Callable[[InvocationInfo], bool]:
    return lambda info: info.status in statuses


def _send(h: Harness, path: str, body: object = None) -> str:
    kwargs = {} if body is None else {"json": body}
    response = h.client.post(f"{path}/send", **kwargs)
    response.raise_for_status()
    invocation_id: str = response.json()["invocationId"]
    return invocation_id


def _call(h: Harness, path: str, body: object) -> str:
    response = h.client.post(path, json=body)
    response.raise_for_status()
    return response.headers["x-restate-id"]


def test_register_and_list_services(h: Harness, admin: AdminClient) -> None:
    """Registering again with force answers with the deployment's typed services."""
    deployment = admin.register(h.app_url, force=True)
    assert deployment.id.startswith("dp_")
    kinds = {s.name: s.type for s in deployment.services}
    # rea.app adds its dead-letter object beside the app's own services.
    assert (
        kinds.items()
        >= {
            "AdminCounter": "VirtualObject",
            "AdminFlow": "Workflow",
            "AdminProbe": "Service",
        }.items()
    )
    assert [s.name for s in deployment.services] == sorted(kinds)
    handlers = {h.name: h.type for h in deployment.service("AdminCounter").handlers}
    assert handlers == {"add": "Exclusive", "current": "Shared"}
    assert deployment.sdk_version is not None
    assert deployment.sdk_version.startswith("restate-sdk-python/")
    # Same URI, same services, no force: the server answers with the same deployment.
    assert admin.register(h.app_url, force=False).id == deployment.id

    names = [s.name for s in admin.services()]
    assert {"AdminCounter", "AdminFlow", "AdminProbe"} <= set(names)
    assert names == sorted(names)
    probe_info = admin.service("AdminProbe")
    assert [h.name for h in probe_info.handlers] == ["echo", "flaky", "nap", "ping", "refuse"]
    assert probe_info.deployment_id == deployment.id
    assert probe_info.handler("echo").input_description == "JSON string"
    assert probe_info.public is True
    assert probe_info.idempotency_retention == timedelta(days=1)


def test_register_unreachable_app_is_a_500(admin: AdminClient) -> None:
    with pytest.raises(AdminError) as caught:
        admin.register(f"http://127.0.0.1:{free_port()}")
    assert (caught.value.status, caught.value.code) == (500, 500)
    assert caught.value.restate_code == "META0003"
    assert caught.value.operation.startswith("registration of http://127.0.0.1:")


def test_patch_service_and_read_it_back(h: Harness, admin: AdminClient) -> None:
    """Retention and timeouts set as timedeltas come back as the same timedeltas."""
    changed = admin.patch_service(
        "AdminCounter",
        idempotency_retention=timedelta(hours=2),
        journal_retention=timedelta(minutes=90),
        inactivity_timeout=timedelta(seconds=30),
        abort_timeout=timedelta(minutes=1),
    )
    assert changed.idempotency_retention == timedelta(hours=2)
    again = admin.service("AdminCounter")
    assert again.idempotency_retention == timedelta(hours=2)
    assert again.journal_retention == timedelta(minutes=90)
    assert again.inactivity_timeout == timedelta(seconds=30)
    assert again.abort_timeout == timedelta(minutes=1)
    assert again.raw["journal_retention"] == "1h 30m"

    wf = admin.patch_service("AdminFlow", workflow_completion_retention=timedelta(hours=3))
    assert wf.workflow_completion_retention == timedelta(hours=3)

    hidden = admin.patch_service("AdminCounter", public=False)
    assert hidden.public is False
    assert all(handler.public is False for handler in hidden.handlers)
    assert h.client.post("/AdminCounter/k/current").status_code == 400
    assert admin.patch_service("AdminCounter", public=True).public is True

    with pytest.raises(AdminError) as caught:
        admin.patch_service("AdminProbe", workflow_completion_retention=timedelta(hours=1))
    assert caught.value.status == 400
    assert "unsupported" in caught.value.message


def test_unknown_service_is_404(admin: AdminClient) -> None:
    with pytest.raises(AdminError) as caught:
        admin.service("NoSuchService")
    assert caught.value.status == 404
    assert "NoSuchService" in caught.value.message


def test_query_and_invocations(h: Harness, admin: AdminClient) -> None:
    """SQL rows, the typed invocation list with filters, and one invocation by id."""
    first = _call(h, "/AdminProbe/echo", "a")
    second = _call(h, "/AdminCounter/q/add", 2)

    rows = admin.query(f"SELECT id, status FROM sys_invocation WHERE id = '{first}'")
    assert rows == [{"id": first, "status": "completed"}]

    info = admin.invocation(first)
    assert (info.id, info.target, info.service, info.handler) == (
        first,
        "AdminProbe/echo",
        "AdminProbe",
        "echo",
    )
    assert info.key is None
    assert (info.status, info.completion_result, info.retry_count) == ("completed", "success", 0)
    assert info.created_at <= info.modified_at
    assert info.completed_at is not None
    assert info.invoked_by == "ingress"

    keyed = admin.invocation(second)
    assert (keyed.key, keyed.service_type, keyed.target) == (
        "q",
        "virtual_object",
        "AdminCounter/q/add",
    )

    probe_ids = [i.id for i in admin.invocations(service="AdminProbe", status="completed")]
    assert first in probe_ids
    assert second not in probe_ids
    assert len(admin.invocations(limit=1)) == 1
    assert admin.invocations(status="paused", service="AdminCounter") == []

    with pytest.raises(AdminError) as caught:
        admin.query("SELECT no_such_column FROM sys_invocation")
    assert caught.value.status == 500
    assert "no_such_column" in caught.value.message


def test_pause_and_resume(h: Harness, admin: AdminClient) -> None:
    """A retrying invocation is paused, stays paused after its fix, and completes on resume."""
    text = f"pause-{time.monotonic_ns()}"
    invocation_id = _send(h, "/AdminProbe/flaky", text)
    _wait(admin, invocation_id, lambda i: i.status == "backing-off" and i.retry_count >= 1)
    backing_off = admin.invocation(invocation_id)
    assert backing_off.last_failure is not None
    assert "is not healed yet" in backing_off.last_failure
    assert backing_off.last_failure_code == "RT0007"

    admin.pause(invocation_id)
    _wait(admin, invocation_id, _status("paused"))
    HEALED.add(text)
    time.sleep(0.7)  # a few retry intervals: a paused invocation does not retry
    assert admin.invocation(invocation_id).status == "paused"

    admin.resume(invocation_id, deployment="latest")
    _wait(admin, invocation_id, _status("completed"))
    assert admin.invocation(invocation_id).completion_result == "success"
    output = h.client.get(f"/restate/invocation/{invocation_id}/output")
    assert output.json() == f"healed {text}"

    with pytest.raises(AdminError) as caught:
        admin.pause(invocation_id)
    assert caught.value.status == 409


def test_cancel(h: Harness, admin: AdminClient) -> None:
    invocation_id = _send(h, "/AdminProbe/nap")
    _wait(admin, invocation_id, _status("suspended"))
    assert admin.cancel(invocation_id) is True
    _wait(admin, invocation_id, _status("completed"))
    info = admin.invocation(invocation_id)
    assert (info.completion_result, info.completion_failure) == ("failure", "[409] cancelled")
    # As the ingress client's cancel: nothing left to cancel is an answer, not an error.
    assert admin.cancel(invocation_id) is False


def test_kill(h: Harness, admin: AdminClient) -> None:
    invocation_id = _send(h, "/AdminProbe/nap")
    _wait(admin, invocation_id, _status("suspended"))
    assert admin.kill(invocation_id) is True
    _wait(admin, invocation_id, _status("completed"))
    assert admin.invocation(invocation_id).completion_failure == "[409] killed"
    assert admin.kill(invocation_id) is False


def test_purge(h: Harness, admin: AdminClient) -> None:
    """purge refuses a running invocation and removes a completed one."""
    running = _send(h, "/AdminProbe/nap")
    _wait(admin, running, _status("suspended"))
    with pytest.raises(AdminError) as caught:
        admin.purge(running)
    assert caught.value.status == 409
    admin.kill(running)

    done = _call(h, "/AdminProbe/echo", "purge me")
    admin.purge(done)
    with pytest.raises(AdminError) as gone:
        admin.invocation(done)
    assert gone.value.status == 404
    with pytest.raises(AdminError) as again:
        admin.purge(done)
    assert again.value.status == 404


def test_restart_as_new(h: Harness, admin: AdminClient) -> None:
    """A completed invocation runs again under a new id (supported by restate-server 1.7.12)."""
    original = _call(h, "/AdminProbe/echo", "again")
    fresh = admin.restart_as_new(original)
    assert fresh.startswith("inv_")
    assert fresh != original
    _wait(admin, fresh, _status("completed"))
    info = admin.invocation(fresh)
    assert (info.restarted_from, info.invoked_by) == (original, "restart_as_new")
    assert h.client.get(f"/restate/invocation/{fresh}/output").json() == "AGAIN"

    # Keep the journal prefix up to the run's completion: the run is not executed again.
    from_prefix = admin.restart_as_new(original, from_index=2)
    _wait(admin, from_prefix, _status("completed"))

    with pytest.raises(AdminError) as too_far:
        admin.restart_as_new(original, from_index=99)
    assert too_far.value.status == 400

    workflow = _call(h, "/AdminFlow/w1/run", "x")
    with pytest.raises(AdminError) as unsupported:
        admin.restart_as_new(workflow)
    assert unsupported.value.status == 422


def test_unknown_and_malformed_invocation_ids(h: Harness, admin: AdminClient) -> None:
    with pytest.raises(AdminError) as malformed:
        admin.cancel("not-an-id")
    assert malformed.value.status == 400
    gone = _call(h, "/AdminProbe/echo", "soon gone")
    admin.purge(gone)
    for stop in (admin.cancel, admin.kill):  # unknown is an error, not "already completed"
        with pytest.raises(AdminError) as unknown:
            stop(gone)
        assert unknown.value.status == 404


def test_version_and_features(admin: AdminClient) -> None:
    version = admin.version()
    assert version.version.startswith("1.7.")
    assert version.min_admin_api_version <= version.max_admin_api_version
    assert version.features
    assert all(isinstance(v, bool) for v in version.features.values())
    for feature, enabled in version.features.items():
        assert admin.supports(feature) is enabled
    assert admin.supports("no_such_feature") is False


async def test_async_client(h: Harness) -> None:
    """The async twin against the same server: services, query, lifecycle, version."""
    async with AsyncAdminClient(h.admin_url) as admin:
        assert (await admin.service("AdminProbe")).type == "Service"
        assert "AdminFlow" in [s.name for s in await admin.services()]
        async with httpx.AsyncClient(base_url=h.ingress_url, timeout=30) as ingress:
            sent = await ingress.post("/AdminProbe/nap/send")
        invocation_id = sent.json()["invocationId"]
        info = await admin.invocation(invocation_id)
        assert info.target == "AdminProbe/nap"
        await admin.kill(invocation_id)
        rows = await admin.query(f"SELECT id FROM sys_invocation WHERE id = '{invocation_id}'")
        assert rows == [{"id": invocation_id}]
        assert (await admin.version()).version.startswith("1.7.")
        with pytest.raises(AdminError) as caught:
            await admin.service("NoSuchService")
        assert caught.value.status == 404


def test_unreachable_server_is_admin_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with AdminClient(url, timeout=5) as admin, pytest.raises(AdminUnavailable) as caught:
        admin.services()
    assert url in str(caught.value)
    assert "(after 3 attempts)" in str(caught.value)  # connection refused: retried
    assert isinstance(caught.value, rea.RestateUnavailable)
    with AdminClient(url, timeout=5) as admin, pytest.raises(rea.RestateUnavailable):
        admin.pause("inv_1x")  # not safe to repeat, yet retried: nothing reached the server
