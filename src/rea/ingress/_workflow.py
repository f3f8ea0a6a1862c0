"""The workflow facade: ``client.workflow(run)`` submits, attaches, reads output and signals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, overload

from pydantic import BaseModel

from rea.ingress import _protocol as proto
from rea.ingress._core import Async, Output, SendResult, Sync
from rea.ingress._facades import CallOptions, Co, HeaderOptions, SubmitOptions, _Facade

if TYPE_CHECKING:
    from rea.workflow._status import StatusReport, WorkflowStatus

__all__ = ["IngressWorkflow"]

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
ModeT = TypeVar("ModeT", Async, Sync)
SigInT = TypeVar("SigInT")
SigOutT = TypeVar("SigOutT")
ProgressT = TypeVar("ProgressT", bound=BaseModel)


class IngressWorkflow(_Facade[InputT, OutputT, ModeT]):
    """A workflow, by its run handler; every method takes the workflow id first.

    A workflow id runs at most once: `submit` starts it (a second submit finds the same run),
    `attach` and `output` read its result, `signal` calls its shared handlers.
    """

    __slots__ = ()

    @overload
    def submit(
        self: IngressWorkflow[InputT, OutputT, Async],
        workflow_id: str,
        input: InputT = ...,
        **options: Unpack[SubmitOptions],
    ) -> Co[SendResult]: ...
    @overload
    def submit(
        self: IngressWorkflow[InputT, OutputT, Sync],
        workflow_id: str,
        input: InputT = ...,
        **options: Unpack[SubmitOptions],
    ) -> SendResult: ...
    def submit(
        self, workflow_id: str, input: Any = proto.NO_INPUT, **options: Unpack[SubmitOptions]
    ) -> Any:
        """Start the run of `workflow_id` (optionally after ``delay``) without waiting.

        Safe to retry, since the workflow id deduplicates it.

        Returns:
            The run's invocation id; ``previously_accepted`` when the id was submitted before.
        """
        request = proto.invoke(
            self._target, workflow_id, input, send=True, idempotent=True, **options
        )
        return self._perform(request)

    @overload
    def call(
        self: IngressWorkflow[InputT, OutputT, Async],
        workflow_id: str,
        input: InputT = ...,
        **options: Unpack[HeaderOptions],
    ) -> Co[OutputT]: ...
    @overload
    def call(
        self: IngressWorkflow[InputT, OutputT, Sync],
        workflow_id: str,
        input: InputT = ...,
        **options: Unpack[HeaderOptions],
    ) -> OutputT: ...
    def call(
        self, workflow_id: str, input: Any = proto.NO_INPUT, **options: Unpack[HeaderOptions]
    ) -> Any:
        """Start the run of `workflow_id` and wait for its result.

        Never retried: a repeat after a lost answer would find the run started and fail.

        Raises:
            AlreadyInvoked: `workflow_id` ran (or runs) already: use `attach` for its result.
        """
        hint = "submit() then attach() are safe to repeat"
        request = proto.invoke(self._target, workflow_id, input, retry_hint=hint, **options)
        return self._perform(request)

    @overload
    def attach(self: IngressWorkflow[InputT, OutputT, Async], workflow_id: str) -> Co[OutputT]: ...
    @overload
    def attach(self: IngressWorkflow[InputT, OutputT, Sync], workflow_id: str) -> OutputT: ...
    def attach(self, workflow_id: str) -> Any:
        """Wait for the result of the run of `workflow_id`.

        Raises:
            UnknownTarget: `workflow_id` was never submitted (or its result expired).
            InvocationFailed: the run ended with a terminal error.
        """
        path = proto.workflow_path(self._target, workflow_id)
        what = f"{self._target.endpoint.service} {workflow_id!r}"
        return self._perform(proto.attach(path, self._target.endpoint.output_serde, what))

    @overload
    def output(
        self: IngressWorkflow[InputT, OutputT, Async], workflow_id: str
    ) -> Co[Output[OutputT]]: ...
    @overload
    def output(
        self: IngressWorkflow[InputT, OutputT, Sync], workflow_id: str
    ) -> Output[OutputT]: ...
    def output(self, workflow_id: str) -> Any:
        """The result of the run of `workflow_id` if it finished; never waits.

        Returns:
            ``Output(ready=False)`` while the run goes on, else its value.

        Raises:
            UnknownTarget: `workflow_id` was never submitted.
        """
        path = proto.workflow_path(self._target, workflow_id)
        what = f"{self._target.endpoint.service} {workflow_id!r}"
        return self._perform(proto.output(path, self._target.endpoint.output_serde, what))

    @overload
    def signal(
        self: IngressWorkflow[InputT, OutputT, Async],
        workflow_id: str,
        handler: Callable[[Any, SigInT], Awaitable[SigOutT]],
        input: SigInT,
        **options: Unpack[CallOptions],
    ) -> Co[SigOutT]: ...
    @overload
    def signal(
        self: IngressWorkflow[InputT, OutputT, Sync],
        workflow_id: str,
        handler: Callable[[Any, SigInT], Awaitable[SigOutT]],
        input: SigInT,
        **options: Unpack[CallOptions],
    ) -> SigOutT: ...
    @overload
    def signal(
        self: IngressWorkflow[InputT, OutputT, Async],
        workflow_id: str,
        handler: Callable[[Any], Awaitable[SigOutT]],
        **options: Unpack[CallOptions],
    ) -> Co[SigOutT]: ...
    @overload
    def signal(
        self: IngressWorkflow[InputT, OutputT, Sync],
        workflow_id: str,
        handler: Callable[[Any], Awaitable[SigOutT]],
        **options: Unpack[CallOptions],
    ) -> SigOutT: ...
    @overload
    def signal(
        self: IngressWorkflow[InputT, OutputT, Async],
        workflow_id: str,
        handler: str,
        input: Any = ...,
        **options: Unpack[CallOptions],
    ) -> Co[Any]: ...
    @overload
    def signal(
        self: IngressWorkflow[InputT, OutputT, Sync],
        workflow_id: str,
        handler: str,
        input: Any = ...,
        **options: Unpack[CallOptions],
    ) -> Any: ...
    def signal(
        self,
        workflow_id: str,
        handler: Any,
        input: Any = proto.NO_INPUT,
        **options: Unpack[CallOptions],
    ) -> Any:
        """Call a shared handler of `workflow_id` (say, one resolving a promise the run awaits).

        Args:
            workflow_id: The workflow.
            handler: The shared handler, by reference (typed) or by name.
            input: Its input (leave it out for handlers without one).
            options: ``idempotency_key``, ``headers``.

        Returns:
            The shared handler's result.

        Raises:
            TypeError: `handler` belongs to another workflow.
        """
        service = self._target.endpoint.service
        if isinstance(handler, str):
            target = proto.target_by_name(service, handler, "workflow", ())
        else:
            target = proto.target_from_handler(handler, "workflow")
            if target.endpoint.service != service:
                raise TypeError(f"{target.name} is not a handler of the workflow {service}")
        return self._perform(proto.invoke(target, workflow_id, input, **options))

    @overload
    def status(
        self: IngressWorkflow[InputT, OutputT, Async],
        workflow_id: str,
        progress: type[ProgressT] | WorkflowStatus[ProgressT],
        *,
        handler: str | None = None,
    ) -> Co[StatusReport[ProgressT]]: ...
    @overload
    def status(
        self: IngressWorkflow[InputT, OutputT, Sync],
        workflow_id: str,
        progress: type[ProgressT] | WorkflowStatus[ProgressT],
        *,
        handler: str | None = None,
    ) -> StatusReport[ProgressT]: ...
    def status(self, workflow_id: str, progress: Any, *, handler: str | None = None) -> Any:
        """The progress of `workflow_id`, from the status handler `rea.WorkflowStatus` adds.

        It reads the workflow's state: while the run goes on, after it ended (for the
        workflow's retention), and before it started (an empty report). Safe to retry.

        Args:
            workflow_id: The workflow.
            progress: The progress model, or the `rea.WorkflowStatus` declaration (which also
                names the handler).
            handler: The status handler's name, if the declaration gave it another one.

        Returns:
            The report, typed with the progress model.
        """
        from rea.workflow._status import DEFAULT_HANDLER, StatusReport, WorkflowStatus

        if isinstance(progress, WorkflowStatus):
            report_type: Any = progress.report_type
            name = handler or progress.handler
        else:
            report_type = StatusReport[progress]
            name = handler or DEFAULT_HANDLER
        service = self._target.endpoint.service
        target = proto.target_by_name(service, name, "workflow", (None, report_type))
        request = proto.invoke(target, workflow_id, proto.NO_INPUT, idempotent=True)
        return self._perform(request)
