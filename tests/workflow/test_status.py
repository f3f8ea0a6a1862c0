"""`WorkflowStatus` without a server: reports, journal shape, guards, and the status handler."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import restate
from pydantic import BaseModel

import rea
from rea._app import prepare
from rea.errors import UsageTypeError, UsageValueError
from rea.workflow._status import StatusReport, StatusStep, WorkflowStatus, status_of
from tests.workflow.fakes import tiny_workflow


class Progress(BaseModel):
    stage: str = "new"
    items: int = 0


class Needy(BaseModel):
    email: str


class _Ctx:
    """Just enough of a run handler's context: journaled time, state, and the running handler."""

    def __init__(self, handler: Any = None, start: float = 1_000.0) -> None:
        self.handler = handler
        self.clock = start
        self.state: dict[str, bytes] = {}
        self.journal: list[tuple[str, str]] = []

    def time(self) -> Any:
        self.clock += 1
        self.journal.append(("run", "timestamp"))
        value = self.clock

        async def result() -> float:
            await asyncio.sleep(0)
            return value

        return result()

    def set(self, name: str, value: Any, serde: Any = None) -> None:
        self.journal.append(("set", name))
        self.state[name] = serde.serialize(value)

    async def get(self, name: str, serde: Any = None) -> Any:
        self.journal.append(("get", name))
        raw = self.state.get(name)
        return None if raw is None else serde.deserialize(raw)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


STATUS = WorkflowStatus(Progress)


# -- writing and reading -------------------------------------------------------------------------
async def test_writes_keep_progress_steps_and_journaled_times() -> None:
    """set, update and step build one report: progress, steps, first and latest write times."""
    ctx = _Ctx()
    first = await STATUS.set(ctx, Progress(stage="started"))  # type: ignore[arg-type]
    assert first == StatusReport[Progress](
        progress=Progress(stage="started"), started_at=_at(1001), updated_at=_at(1001)
    )
    await STATUS.update(ctx, items=3)  # type: ignore[arg-type]
    report = await STATUS.step(ctx, "charged", stage="charged")  # type: ignore[arg-type]
    assert report.progress == Progress(stage="charged", items=3)
    assert report.steps == [StatusStep(name="charged", at=_at(1003))]
    assert (report.started_at, report.updated_at, report.last_step) == (
        _at(1001),
        _at(1003),
        "charged",
    )
    assert await STATUS.get(ctx) == report  # type: ignore[arg-type]


async def test_a_write_journals_one_timestamp_and_one_state_write() -> None:
    """What the hand-written code journals: a timestamp run and a set; no state read."""
    ctx = _Ctx()
    await STATUS.set(ctx, Progress())  # type: ignore[arg-type]
    await STATUS.update(ctx, stage="a")  # type: ignore[arg-type]
    await STATUS.step(ctx, "b")  # type: ignore[arg-type]
    assert ctx.journal == [("run", "timestamp"), ("set", "_rea.status")] * 3


async def test_the_stored_value_is_the_reports_json() -> None:
    """The state holds the report as pydantic writes it, under the declared key."""
    status = WorkflowStatus(Progress, key="progress")
    ctx = _Ctx()
    report = await status.step(ctx, "go", stage="x")  # type: ignore[arg-type]
    assert ctx.state["progress"] == report.model_dump_json().encode()
    assert json.loads(ctx.state["progress"])["steps"][0]["name"] == "go"


async def test_get_before_any_write_is_an_empty_report() -> None:
    """No progress, no steps, no times: the status of a workflow that has not written one."""
    report = await STATUS.get(_Ctx())  # type: ignore[arg-type]
    assert report == StatusReport[Progress]()
    assert (report.progress, report.steps, report.last_step) == (None, [], None)


async def test_update_before_set_uses_the_models_defaults() -> None:
    """The changes plus the model's defaults make the first progress."""
    report = await STATUS.update(_Ctx(), items=2)  # type: ignore[arg-type]
    assert report.progress == Progress(stage="new", items=2)


async def test_max_steps_keeps_the_most_recent() -> None:
    """The history is bounded: the oldest steps go first."""
    status = WorkflowStatus(Progress, max_steps=2)
    ctx = _Ctx()
    for name in "abc":
        report = await status.step(ctx, name)  # type: ignore[arg-type]
    assert [s.name for s in report.steps] == ["b", "c"]


async def test_a_new_attempt_rebuilds_the_same_report_by_replaying_the_writes() -> None:
    """The report lives per attempt; the same writes on a new context give the same bytes."""

    async def body(ctx: _Ctx) -> None:
        await STATUS.set(ctx, Progress(stage="one"))  # type: ignore[arg-type]
        await STATUS.step(ctx, "two", items=2)  # type: ignore[arg-type]

    first, replay = _Ctx(), _Ctx()
    await body(first)
    await body(replay)
    assert replay.state == first.state


async def test_concurrent_writers_do_not_lose_changes() -> None:
    """Two updates in flight at once: both fields land (the read follows the await)."""
    ctx = _Ctx()
    await asyncio.gather(STATUS.update(ctx, stage="s"), STATUS.update(ctx, items=9))  # type: ignore[arg-type]
    assert (await STATUS.get(ctx)).progress == Progress(stage="s", items=9)  # type: ignore[arg-type]


# -- misuse --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda ctx: STATUS.update(ctx, stag="x"), "Progress has no field 'stag'"),
        (lambda ctx: STATUS.update(ctx, items="many"), "does not accept these changes"),
        (lambda ctx: STATUS.step(ctx, ""), "non-empty name"),
        (lambda ctx: WorkflowStatus(Needy).update(ctx), "does not accept these changes"),
    ],
)
async def test_bad_changes_are_terminal_usage_value_errors(call: Any, match: str) -> None:
    """Unknown fields, invalid values and empty step names fail terminally, nothing written."""
    ctx = _Ctx()
    with pytest.raises(UsageValueError, match=match):
        await call(ctx)
    assert ctx.state == {}


async def test_set_takes_the_declared_model() -> None:
    with pytest.raises(UsageTypeError, match="takes a Progress, not Needy"):
        await STATUS.set(_Ctx(), Needy(email="a"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"progress_type": dict}, UsageTypeError, "pydantic model"),
        ({"progress_type": Progress, "key": ""}, UsageValueError, "non-empty key"),
        ({"progress_type": Progress, "handler": ""}, UsageValueError, "handler name"),
        ({"progress_type": Progress, "max_steps": 0}, UsageValueError, "max_steps"),
        ({"progress_type": Progress, "workflow": "Signup"}, UsageTypeError, "restate.Workflow"),
    ],
)
def test_bad_declarations_fail_at_import_time(kwargs: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        WorkflowStatus(**kwargs)


def test_one_status_per_workflow() -> None:
    wf = tiny_workflow("UnitStatusTwice")
    first = WorkflowStatus(Progress, workflow=wf)
    assert status_of(wf) is first
    with pytest.raises(UsageValueError, match="has a WorkflowStatus already"):
        WorkflowStatus(Progress, workflow=wf)


async def test_a_shared_handler_cannot_write_the_status() -> None:
    """The state.write_in_shared guard: STRICT raises, WARN skips the write."""
    ctx = _Ctx(handler=tiny_workflow("UnitStatusShared").handlers["peek"])
    with rea.policy_override("strict"), pytest.raises(rea.PolicyViolation, match="shared"):
        await STATUS.update(ctx, stage="x")  # type: ignore[arg-type]
    with rea.policy_override("warn"):
        skipped = await STATUS.update(ctx, stage="x")  # type: ignore[arg-type]
    assert skipped == StatusReport[Progress]()
    assert ctx.state == {}
    assert ctx.journal == []


async def test_only_a_workflow_run_handler_writes_it() -> None:
    """An exclusive handler of a virtual object is told where status writes belong."""
    obj = restate.VirtualObject("UnitStatusObject")

    @obj.handler()
    async def touch(ctx: restate.ObjectContext) -> None:
        return None

    with pytest.raises(UsageTypeError, match="only a workflow's run handler"):
        await STATUS.update(_Ctx(handler=obj.handlers["touch"]), stage="x")  # type: ignore[arg-type]


# -- the status handler rea.app adds -------------------------------------------------------------
def test_rea_app_adds_a_typed_status_handler_to_its_copy_only() -> None:
    """The copy gets a shared ``status`` handler returning the report; the original nothing."""
    wf = tiny_workflow("UnitStatusServed")
    status = WorkflowStatus(Progress, workflow=wf)
    (served,) = [s for s in prepare([wf], dead_letters=False) if s.name == "UnitStatusServed"]
    assert "status" not in wf.handlers
    handler = served.handlers["status"]
    assert handler.kind == "shared"
    assert handler.handler_io.output_type is not None
    assert handler.handler_io.output_type.annotation is status.report_type
    again = prepare([wf], dead_letters=False)[0].handlers["status"]
    assert again.fn is not handler.fn  # one function per copy: the SDK keeps the handler on it


def test_the_handler_name_is_configurable() -> None:
    wf = tiny_workflow("UnitStatusNamed")
    WorkflowStatus(Progress, workflow=wf, handler="progress")
    assert "progress" in prepare([wf], dead_letters=False)[0].handlers


def test_a_handler_of_that_name_is_refused_clearly() -> None:
    """Declared first, a handler called ``status`` added later: rea.app says what to do."""
    wf = tiny_workflow("UnitStatusTaken")
    WorkflowStatus(Progress, workflow=wf)

    @wf.handler()
    async def status(ctx: restate.WorkflowSharedContext) -> str:
        return "mine"

    with pytest.raises(
        ValueError, match=r"has a handler named 'status' already.*handler='progress'"
    ):
        rea.app([wf])
    with pytest.raises(ValueError, match="has a handler named 'peek' already"):
        WorkflowStatus(Progress, workflow=tiny_workflow("UnitStatusTakenEarly"), handler="peek")
