"""`WorkflowConfig` without a server: validation, rea's copies, discovery, the state-size guard."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

import pytest
import restate
from pydantic import BaseModel

import rea
from rea._app import prepare
from rea._state import state_size_limit
from rea.errors import UsageTypeError, UsageValueError
from rea.workflow._config import WorkflowConfig
from rea.workflow._status import WorkflowStatus
from tests._discovery import discovery_manifest
from tests.workflow.fakes import tiny_workflow

FULL = WorkflowConfig(
    workflow_retention=timedelta(seconds=2),
    journal_retention=timedelta(hours=2),
    idempotency_retention=timedelta(hours=3),
    inactivity_timeout=timedelta(seconds=30),
    abort_timeout=timedelta(minutes=1),
    state_size_warning=1_000,
)


def _served(wf: restate.Workflow, config: WorkflowConfig) -> restate.Workflow:
    (served,) = [s for s in prepare([wf], dead_letters=False, workflows={wf: config})]
    assert isinstance(served, restate.Workflow)
    return served


# -- the dataclass -------------------------------------------------------------------------------
def test_a_config_is_frozen_and_keyword_only() -> None:
    with pytest.raises(TypeError):
        WorkflowConfig(timedelta(seconds=1))  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        FULL.state_size_warning = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"workflow_retention": 2}, UsageTypeError, r"takes a timedelta, not 2"),
        ({"abort_timeout": "1m"}, UsageTypeError, "abort_timeout"),
        ({"journal_retention": timedelta(seconds=-1)}, UsageValueError, "must not be negative"),
        ({"state_size_warning": 0}, UsageValueError, "at least 1 byte"),
        ({"state_size_warning": True}, UsageTypeError, "number of bytes"),
        ({"state_size_warning": 1.5}, UsageTypeError, "number of bytes"),
    ],
)
def test_bad_values_fail_when_the_config_is_made(kwargs: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        WorkflowConfig(**kwargs)


def test_service_options_are_the_sdks_names_of_the_set_fields() -> None:
    assert WorkflowConfig(journal_retention=timedelta(hours=1)).service_options() == {
        "journal_retention": timedelta(hours=1)
    }
    assert set(FULL.service_options()) == {
        "journal_retention",
        "idempotency_retention",
        "inactivity_timeout",
        "abort_timeout",
    }


# -- rea.app applies it to its copy --------------------------------------------------------------
def test_the_copy_carries_every_setting_in_discovery() -> None:
    """Service options on the service, the completion retention on the run handler, in ms."""
    wf = tiny_workflow("UnitConfigFull", journal_retention=timedelta(days=9))
    manifest = discovery_manifest([_served(wf, FULL)])
    (service,) = manifest["services"]
    assert service["journalRetention"] == 2 * 3600 * 1000
    assert service["idempotencyRetention"] == 3 * 3600 * 1000
    assert service["inactivityTimeout"] == 30_000
    assert service["abortTimeout"] == 60_000
    handlers = {h["name"]: h for h in service["handlers"]}
    assert handlers["run"]["workflowCompletionRetention"] == 2_000
    assert "workflowCompletionRetention" not in handlers["peek"]


def test_the_users_workflow_is_left_as_it_was() -> None:
    """Options, handlers and discovery of the given object are unchanged by rea.app."""
    wf = tiny_workflow("UnitConfigUntouched", journal_retention=timedelta(days=9))
    before = discovery_manifest([wf])
    rea.app([wf], workflows={wf: FULL})
    assert discovery_manifest([wf]) == before
    assert wf.journal_retention == timedelta(days=9)
    assert wf.inactivity_timeout is None
    assert wf.handlers["run"].workflow_retention is None
    assert not wf.handlers["run"].context_managers


def test_none_fields_keep_the_workflows_own_settings() -> None:
    """Only what the config sets changes: journal_retention=9 days from the constructor stays."""
    served = _served(
        tiny_workflow("UnitConfigPartial", journal_retention=timedelta(days=9)),
        WorkflowConfig(abort_timeout=timedelta(1)),
    )
    assert served.journal_retention == timedelta(days=9)
    assert served.abort_timeout == timedelta(days=1)
    assert served.handlers["run"].workflow_retention is None


def test_the_state_size_hook_is_on_the_run_handler_only() -> None:
    served = _served(
        tiny_workflow("UnitConfigHook", journal_retention=timedelta(days=9)),
        WorkflowConfig(state_size_warning=10),
    )
    # rea's invocation scope first, then the size threshold.
    assert len(served.handlers["run"].context_managers or []) == 2
    assert len(served.handlers["peek"].context_managers or []) == 1


@pytest.mark.parametrize(
    ("workflows", "error", "match"),
    [
        ({"UnitConfig": FULL}, UsageTypeError, "keyed by restate.Workflow"),
        (None, UsageTypeError, "maps each workflow to a rea.WorkflowConfig"),
        ({}, UsageValueError, "not among the services"),
    ],
)
def test_workflows_must_be_served_workflows_with_configs(
    workflows: Any, error: type, match: str
) -> None:
    wf = tiny_workflow("UnitConfigChecked", journal_retention=timedelta(days=9))
    if workflows is None:
        workflows = {wf: {"workflow_retention": timedelta(1)}}
    elif workflows == {}:
        workflows = {
            tiny_workflow("UnitConfigElsewhere", journal_retention=timedelta(days=9)): FULL
        }
    with pytest.raises(error, match=match):
        rea.app([wf], workflows=workflows)


# -- the state-size warning ----------------------------------------------------------------------
class _Ctx:
    """A run handler's context, for state writes only."""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}
        self.clock = 0.0

    def set(self, name: str, value: Any, serde: Any = None) -> None:
        self.state[name] = serde.serialize(value)

    def time(self) -> Any:
        async def now() -> float:
            return self.clock

        return now()


class Note(BaseModel):
    text: str = ""


async def _measured(service: str, limit: int) -> Any:
    scope = state_size_limit(service, limit)()
    await scope.__aenter__()
    return scope


def _reports(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "[state.too_large]" in r.getMessage()]


async def test_warn_reports_once_per_key_and_stores_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Above the threshold: one warning per key (State and WorkflowStatus), every write stored."""
    ctx = _Ctx()
    state = rea.State(ctx, "blob", str)  # type: ignore[arg-type, type-var]
    note = WorkflowStatus(Note)
    scope = await _measured("UnitSizeWarn", 50)
    try:
        with rea.policy_override("warn"), caplog.at_level(logging.WARNING, "rea.policy"):
            state.set("x" * 10)  # below: nothing
            state.set("x" * 60)
            state.set("x" * 70)
            await note.update(ctx, text="n" * 60)  # type: ignore[arg-type]
            await note.update(ctx, text="n" * 61)  # type: ignore[arg-type]
    finally:
        await scope.__aexit__(None, None, None)
    reports = _reports(caplog)
    assert len(reports) == 2, reports
    assert (
        "state 'blob' of UnitSizeWarn is 62 bytes, above the state-size warning of 50"
        in (reports[0])
    )
    assert "'_rea.status'" in reports[1]
    assert ctx.state["blob"] == b'"' + b"x" * 70 + b'"'


async def test_strict_raises_for_every_oversized_write_and_stores_nothing() -> None:
    ctx = _Ctx()
    state = rea.State(ctx, "blob", str)  # type: ignore[arg-type, type-var]
    scope = await _measured("UnitSizeStrict", 50)
    try:
        with rea.policy_override("strict"):
            for _ in range(2):
                with pytest.raises(rea.PolicyViolation, match=r"\[state.too_large\]"):
                    state.set("x" * 60)
            state.set("small")
    finally:
        await scope.__aexit__(None, None, None)
    assert ctx.state == {"blob": b'"small"'}


async def test_disabled_and_unconfigured_writes_are_not_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No threshold: the value goes to the SDK as it is (not even serialized by rea)."""
    ctx = _Ctx()
    state = rea.State(ctx, "blob", str)  # type: ignore[arg-type, type-var]
    with caplog.at_level(logging.WARNING, "rea.policy"):
        state.set("x" * 5_000)
        scope = await _measured("UnitSizeDisabled", 50)
        try:
            with rea.policy_override("disabled"):
                state.set("x" * 60)
        finally:
            await scope.__aexit__(None, None, None)
    assert _reports(caplog) == []
    assert ctx.state["blob"] == b'"' + b"x" * 60 + b'"'
