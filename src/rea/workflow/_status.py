"""`WorkflowStatus`: a workflow's progress, written by its run handler, readable by anyone.

A workflow's state outlives its run for the workflow's retention, and its shared handlers can
read it while the run goes on, so progress belongs there. `WorkflowStatus` keeps it as one
state entry: a `StatusReport` holding the user's pydantic model, a step history and the
journaled times of the first and the latest write. Declared with ``workflow=``, `rea.app` adds
a shared handler (``status`` by default) to its copy of that workflow that returns the report.

Writing is one `rea.now` (the timestamp, a journaled run) and one plain ``ctx.set`` of the
report: the same journal as the hand-written code. No state read either: the run handler is
the report's only writer (shared handlers cannot write state), so rea keeps the report it last
wrote in memory for the attempt; a replay re-runs the same writes and rebuilds it.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import restate
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rea import _sdk
from rea._invocation import base_method as _base_method
from rea._invocation import checked, may_write_state
from rea._run import now
from rea._serde import serde_for
from rea._state import check_state_size
from rea.errors import UsageTypeError, UsageValueError

__all__ = ["StatusReport", "StatusStep", "WorkflowStatus", "install_status", "status_of"]

ProgressT = TypeVar("ProgressT", bound=BaseModel)

#: The state key of the report unless the declaration names another.
DEFAULT_KEY = "_rea.status"
#: The name of the shared handler `rea.app` adds unless the declaration names another.
DEFAULT_HANDLER = "status"

_RAW = _sdk.BytesSerde()


class StatusStep(BaseModel):
    """One named step of a workflow's history, with the journaled time it was reached."""

    model_config = ConfigDict(frozen=True)

    name: str
    at: datetime


class StatusReport(BaseModel, Generic[ProgressT]):
    """A workflow's progress as its run handler last wrote it (empty before the first write).

    Attributes:
        progress: The user's model; None until the run wrote one.
        steps: The steps reached, oldest first (the most recent ``max_steps`` of them).
        started_at: The journaled time of the first write.
        updated_at: The journaled time of the latest write.
    """

    progress: ProgressT | None = None
    steps: list[StatusStep] = Field(default_factory=list)
    started_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def last_step(self) -> str | None:
        """The name of the most recent step, if any."""
        return self.steps[-1].name if self.steps else None


#: The status declared for each workflow, keyed by the user's workflow object (never changed).
_declared: weakref.WeakKeyDictionary[restate.Workflow, WorkflowStatus[Any]] = (
    weakref.WeakKeyDictionary()
)
#: The report each attempt of a run handler wrote last, per state key: rebuilt by replay.
_written: weakref.WeakKeyDictionary[object, dict[str, StatusReport[Any]]] = (
    weakref.WeakKeyDictionary()
)


class WorkflowStatus(Generic[ProgressT]):
    """A workflow's typed progress, declared once at module level.

    ``PROGRESS = rea.WorkflowStatus(Progress, workflow=signup)``; then, in the run handler,
    ``await PROGRESS.set(ctx, Progress(...))``, ``await PROGRESS.update(ctx, stage="charging")``
    or ``await PROGRESS.step(ctx, "charged", stage="done")``; anyone reads it with the
    ``status`` handler rea adds, or ``await PROGRESS.get(ctx)`` in the workflow's own handlers.

    Args:
        progress_type: The user's pydantic model for the progress.
        workflow: The workflow whose copy `rea.app` gives a shared handler returning the report;
            None adds no handler (read it with `get` in a handler of your own).
        key: The state key the report is stored under.
        handler: The name of that shared handler.
        max_steps: Keep only this many most recent steps (the state stays bounded); None keeps
            them all.

    Raises:
        UsageTypeError: `progress_type` is no pydantic model, or `workflow` no `restate.Workflow`.
        UsageValueError: an empty key or handler name, `max_steps` below 1, or a second status
            for the same workflow.
    """

    __slots__ = ("_report_type", "_serde", "handler", "key", "max_steps", "progress_type")

    def __init__(
        self,
        progress_type: type[ProgressT],
        *,
        workflow: restate.Workflow | None = None,
        key: str = DEFAULT_KEY,
        handler: str = DEFAULT_HANDLER,
        max_steps: int | None = 100,
    ) -> None:
        if not (isinstance(progress_type, type) and issubclass(progress_type, BaseModel)):
            raise UsageTypeError(
                f"WorkflowStatus needs a pydantic model class for the progress, not "
                f"{progress_type!r}"
            )
        if not key or not handler:
            raise UsageValueError("WorkflowStatus needs a non-empty key and handler name")
        if max_steps is not None and max_steps < 1:
            raise UsageValueError(f"max_steps must be at least 1 or None, not {max_steps}")
        self.progress_type = progress_type
        self.key = key
        self.handler = handler
        self.max_steps = max_steps
        self._report_type: type[StatusReport[ProgressT]] = StatusReport[progress_type]  # type: ignore[valid-type]
        self._serde = serde_for(self._report_type)
        if workflow is not None:
            _declare(workflow, self)

    @property
    def report_type(self) -> type[StatusReport[ProgressT]]:
        """``StatusReport[progress_type]``: what `get` and the status handler return."""
        return self._report_type

    async def get(
        self, ctx: restate.WorkflowContext | restate.WorkflowSharedContext
    ) -> StatusReport[ProgressT]:
        """The report as stored (a plain state read); an empty one before the first write.

        Args:
            ctx: The context of any handler of the workflow, the run handler or a shared one.

        Returns:
            The report, typed with the progress model.
        """
        checked(ctx, "WorkflowStatus.get()")
        report: StatusReport[ProgressT] | None = await _base_method(ctx, "get")(
            self.key, serde=self._serde
        )
        return report if report is not None else self._report_type()

    async def set(
        self, ctx: restate.WorkflowContext, progress: ProgressT, /
    ) -> StatusReport[ProgressT]:
        """Replace the progress with `progress`.

        Args:
            ctx: The workflow run handler's context.
            progress: The new progress, an instance of the declared model.

        Returns:
            The report as written (rea builds the next write from it: treat it as read-only).

        Raises:
            UsageTypeError: `progress` is not an instance of the declared model, or `ctx`
                belongs to a handler that is not a workflow's run handler.
        """
        if not isinstance(progress, self.progress_type):
            raise UsageTypeError(
                f"WorkflowStatus.set() takes a {self.progress_type.__name__}, not "
                f"{type(progress).__name__}"
            )
        return await self._write(ctx, "set", lambda _current: progress, None)

    async def update(
        self, ctx: restate.WorkflowContext, /, **changes: Any
    ) -> StatusReport[ProgressT]:
        """Change some fields of the progress (validated by the model); the rest stays.

        Before the first write the changes must make a valid model on their own (the model's
        defaults fill the rest).

        Args:
            ctx: The workflow run handler's context.
            changes: Field names and their new values.

        Returns:
            The report as written (rea builds the next write from it: treat it as read-only).

        Raises:
            UsageValueError: a field the model does not have, or values it does not accept.
            UsageTypeError: `ctx` belongs to a handler that is not a workflow's run handler.
        """
        return await self._write(ctx, "update", self._changer(changes), None)

    async def step(
        self, ctx: restate.WorkflowContext, name: str, /, **changes: Any
    ) -> StatusReport[ProgressT]:
        """Record that step `name` was reached (now, journaled), changing fields at once.

        Args:
            ctx: The workflow run handler's context.
            name: The step's name, e.g. ``"charged"``.
            changes: Fields of the progress to change in the same write, as in `update`.

        Returns:
            The report as written (rea builds the next write from it: treat it as read-only).

        Raises:
            UsageValueError: an empty name, or changes the model does not accept.
            UsageTypeError: `ctx` belongs to a handler that is not a workflow's run handler.
        """
        if not isinstance(name, str) or not name:
            raise UsageValueError(f"a step needs a non-empty name, not {name!r}")
        change = self._changer(changes) if changes else _keep
        return await self._write(ctx, "step", change, name)

    def _changer(
        self, changes: Mapping[str, Any]
    ) -> Callable[[ProgressT | None], ProgressT | None]:
        unknown = sorted(set(changes) - set(self.progress_type.model_fields))
        if unknown:
            raise UsageValueError(
                f"{self.progress_type.__name__} has no field {', '.join(map(repr, unknown))}"
            )

        def change(current: ProgressT | None) -> ProgressT:
            fields = {} if current is None else dict(current)
            try:
                return self.progress_type.model_validate({**fields, **changes})
            except ValidationError as exc:
                raise UsageValueError(
                    f"{self.progress_type.__name__} does not accept these changes: {exc}"
                ) from None

        return change

    async def _write(
        self,
        ctx: restate.WorkflowContext,
        operation: str,
        change: Callable[[ProgressT | None], ProgressT | None],
        step: str | None,
    ) -> StatusReport[ProgressT]:
        what = f"WorkflowStatus.{operation}()"
        reports = _written.setdefault(ctx, {})
        if not may_write_state(ctx, what):
            return self._current(reports)
        handler = _sdk.running_handler(ctx)
        if handler is not None and handler.kind != "workflow":
            raise UsageTypeError(
                f"{what} in {handler.service}/{handler.name}: only a workflow's run handler "
                "writes its status; read it elsewhere with WorkflowStatus.get()"
            )
        at = await now(ctx)
        # Read after the await: nothing can run between this read and the write below, so
        # concurrent writers of one run never lose each other's changes.
        current = self._current(reports)
        steps = current.steps
        if step is not None:
            steps = [*steps, StatusStep.model_construct(name=step, at=at)]
            if self.max_steps is not None:
                steps = steps[-self.max_steps :]
        # Every part is valid already (the progress validated by `change`, the times journaled
        # datetimes): construct without validating them again, on each write of every run.
        report = self._report_type.model_construct(
            progress=change(current.progress),
            steps=steps,
            started_at=current.started_at or at,
            updated_at=at,
        )
        data = self._serde.serialize(report)
        check_state_size(self.key, data)
        _base_method(ctx, "set")(self.key, data, serde=_RAW)
        # Kept to build the next write from, and returned as is: a deep copy per write cost
        # more than the rest of the write (bench/workflow.py). The docs say: read-only.
        reports[self.key] = report
        return report

    def _current(self, reports: Mapping[str, StatusReport[Any]]) -> StatusReport[ProgressT]:
        report = reports.get(self.key)
        return self._report_type() if report is None else report

    def __repr__(self) -> str:
        return f"WorkflowStatus({self.progress_type.__name__}, key={self.key!r})"


def _keep(current: Any) -> Any:
    return current


def _declare(workflow: restate.Workflow, status: WorkflowStatus[Any]) -> None:
    if not isinstance(workflow, restate.Workflow):
        raise UsageTypeError(
            f"WorkflowStatus(workflow=...) takes a restate.Workflow, not {workflow!r}"
        )
    name = _sdk.service_name(workflow)
    if workflow in _declared:
        raise UsageValueError(f"the workflow {name} has a WorkflowStatus already; declare one")
    if status.handler in _sdk.handlers(workflow):
        raise UsageValueError(_taken(name, status.handler))
    _declared[workflow] = status


def _taken(workflow: str, handler: str) -> str:
    return (
        f"the workflow {workflow} has a handler named {handler!r} already, which rea would add "
        "for its WorkflowStatus; name rea's another way: "
        "rea.WorkflowStatus(..., handler='progress')"
    )


def status_of(workflow: restate.Workflow) -> WorkflowStatus[Any] | None:
    """The `WorkflowStatus` declared for `workflow` (the user's object), if any."""
    return _declared.get(workflow)


def _status_handler(status: WorkflowStatus[Any]) -> Callable[..., Awaitable[Any]]:
    async def handler(ctx: restate.WorkflowSharedContext) -> Any:
        return await status.get(ctx)

    # A new function per copy (the SDK keeps the handler on the function object), typed so that
    # rea's serde and the published JSON schema are the report's.
    handler.__name__ = handler.__qualname__ = status.handler
    handler.__doc__ = "rea: the workflow's progress (rea.WorkflowStatus), while it runs and after."
    handler.__annotations__ = {"ctx": restate.WorkflowSharedContext, "return": status.report_type}
    return handler


def install_status(original: restate.Workflow, served: restate.Workflow) -> None:
    """Add the status handler declared for `original` to `served`, rea's copy of it.

    Raises:
        ValueError: the workflow has a handler of that name already.
    """
    status = _declared.get(original)
    if status is None:
        return
    if status.handler in _sdk.handlers(served):
        raise UsageValueError(_taken(_sdk.service_name(served), status.handler))
    served.handler(name=status.handler)(_status_handler(status))
