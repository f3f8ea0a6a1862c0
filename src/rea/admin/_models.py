"""Typed views of the admin API's answers; each keeps the server's JSON in `raw`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from rea._durations import parse_duration, parse_timestamp

__all__ = [
    "INVOCATION_STATUSES",
    "Deployment",
    "HandlerInfo",
    "InvocationInfo",
    "ServerVersion",
    "ServiceInfo",
]

#: The statuses ``sys_invocation.status`` takes on restate-server 1.7.
INVOCATION_STATUSES = (
    "pending",
    "scheduled",
    "ready",
    "running",
    "paused",
    "backing-off",
    "suspended",
    "completed",
)


def _duration(data: Mapping[str, Any], key: str) -> timedelta | None:
    value = data.get(key)
    return parse_duration(value) if isinstance(value, str) else None


def _time(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return parse_timestamp(value) if isinstance(value, str) else None


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else int(value)


_NamedT = TypeVar("_NamedT", "HandlerInfo", "ServiceInfo")


def _named(items: tuple[_NamedT, ...], name: str, missing: str) -> _NamedT:
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"{missing} {name!r}")


def _bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return None if value is None else bool(value)


def _retention(data: Mapping[str, Any]) -> dict[str, timedelta | None]:
    return {
        "idempotency_retention": _duration(data, "idempotency_retention"),
        "journal_retention": _duration(data, "journal_retention"),
        "inactivity_timeout": _duration(data, "inactivity_timeout"),
        "abort_timeout": _duration(data, "abort_timeout"),
    }


@dataclass(frozen=True, slots=True)
class HandlerInfo:
    """One handler of a registered service.

    Attributes:
        name: The handler's name.
        type: ``"Exclusive"``, ``"Shared"`` or ``"Workflow"``; None for a Service's handlers.
        public: Whether the ingress accepts calls to it.
        input_description, output_description: The server's summary (``"JSON 'Person'"``).
        input_schema, output_schema: JSON schemas, where the SDK published them.
        documentation: The handler's docstring, as the SDK sent it.
        idempotency_retention, journal_retention, inactivity_timeout, abort_timeout:
            The handler's own overrides of the service settings (None: the service's apply).
    """

    name: str
    type: str | None
    public: bool | None
    input_description: str | None
    output_description: str | None
    documentation: str | None
    idempotency_retention: timedelta | None
    journal_retention: timedelta | None
    inactivity_timeout: timedelta | None
    abort_timeout: timedelta | None
    input_schema: Mapping[str, Any] | None = field(repr=False)
    output_schema: Mapping[str, Any] | None = field(repr=False)
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HandlerInfo:
        return cls(
            name=str(data["name"]),
            type=_str(data, "ty"),
            public=_bool(data, "public"),
            input_description=_str(data, "input_description"),
            output_description=_str(data, "output_description"),
            input_schema=data.get("input_json_schema"),
            output_schema=data.get("output_json_schema"),
            documentation=_str(data, "documentation"),
            raw=data,
            **_retention(data),
        )


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """A registered service, virtual object or workflow with its settings.

    Attributes:
        name: The service's name.
        type: ``"Service"``, ``"VirtualObject"`` or ``"Workflow"``.
        handlers: Its handlers, sorted by name.
        public: Whether the ingress accepts calls to it.
        deployment_id: The deployment serving its latest revision.
        revision: The service's schema revision (it grows with each registration).
        idempotency_retention, journal_retention, inactivity_timeout, abort_timeout: The
            effective settings (the server's defaults where the service sets none).
        workflow_completion_retention: Workflows only; None for other kinds.
        documentation: The service's docstring, as the SDK sent it.
        metadata: The service's metadata (rea's plane tag is ``rea.plane``).
    """

    name: str
    type: str
    handlers: tuple[HandlerInfo, ...]
    public: bool | None
    deployment_id: str | None
    revision: int | None
    idempotency_retention: timedelta | None
    journal_retention: timedelta | None
    workflow_completion_retention: timedelta | None
    inactivity_timeout: timedelta | None
    abort_timeout: timedelta | None
    documentation: str | None
    metadata: Mapping[str, str]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def keyed(self) -> bool:
        """True for virtual objects and workflows: calls name a key."""
        return self.type in ("VirtualObject", "Workflow")

    def handler(self, name: str) -> HandlerInfo:
        """The handler called `name`.

        Raises:
            KeyError: no such handler.
        """
        return _named(self.handlers, name, f"service {self.name!r} has no handler")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServiceInfo:
        handlers = sorted(
            (HandlerInfo.from_json(h) for h in data.get("handlers") or ()), key=lambda h: h.name
        )
        return cls(
            name=str(data["name"]),
            type=str(data["ty"]),
            handlers=tuple(handlers),
            public=_bool(data, "public"),
            deployment_id=_str(data, "deployment_id"),
            revision=_int(data, "revision"),
            workflow_completion_retention=_duration(data, "workflow_completion_retention"),
            documentation=_str(data, "documentation"),
            metadata=dict(data.get("metadata") or {}),
            raw=data,
            **_retention(data),
        )


def _services(items: Any) -> tuple[ServiceInfo, ...]:
    services = (ServiceInfo.from_json(s) for s in items or ())
    return tuple(sorted(services, key=lambda s: s.name))


@dataclass(frozen=True, slots=True)
class Deployment:
    """A registered deployment: its id and the services discovery found behind its URI.

    Attributes:
        id: The deployment id (``dp_...``).
        services: The services it serves, sorted by name.
        sdk_version: The SDK the deployment declared (``restate-sdk-python/1.3.0``).
    """

    id: str
    services: tuple[ServiceInfo, ...]
    sdk_version: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def service(self, name: str) -> ServiceInfo:
        """The service called `name`.

        Raises:
            KeyError: the deployment does not serve it.
        """
        return _named(self.services, name, f"deployment {self.id} has no service")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deployment:
        return cls(
            id=str(data["id"]),
            services=_services(data.get("services")),
            sdk_version=_str(data, "sdk_version"),
            raw=data,
        )


#: `InvocationInfo` fields that are a ``sys_invocation`` text column, or None where it is NULL.
_OPTIONAL_TEXT = {
    "key": "target_service_key",
    "service_type": "target_service_ty",
    "last_failure": "last_failure",
    "last_failure_code": "last_failure_error_code",
    "completion_result": "completion_result",
    "completion_failure": "completion_failure",
    "idempotency_key": "idempotency_key",
    "invoked_by": "invoked_by",
    "invoked_by_id": "invoked_by_id",
    "deployment_id": "pinned_deployment_id",
    "restarted_from": "restarted_from",
    "trace_id": "trace_id",
}


@dataclass(frozen=True, slots=True)
class InvocationInfo:
    """One row of ``sys_invocation``: an invocation, where it stands and how it ended.

    Attributes:
        id: The invocation id (``inv_...``).
        target: ``Service/handler`` or ``Object/key/handler``.
        service, key, handler: The target's parts (`key` is None for a Service).
        service_type: ``"service"``, ``"virtual_object"`` or ``"workflow"``.
        status: One of ``pending``, ``scheduled``, ``ready``, ``running``, ``paused``,
            ``backing-off``, ``suspended``, ``completed``.
        created_at, modified_at: When it was created and last changed (UTC).
        scheduled_at: For delayed sends, when it was scheduled to start.
        completed_at: When it completed, if it did.
        retry_count: Restate's ``retry_count``, which counts *attempts*, the current one
            included: 1 while the first attempt runs, 3 once a third one started. Restate
            keeps it only until the invocation completes (then 0 here); see `attempts` and
            `retries`.
        next_retry_at: When a ``backing-off`` invocation tries again.
        last_failure: The message of the last failed attempt, if one failed.
        last_failure_code: Its error code (``RT0007`` for a retryable exception).
        completion_result: ``"success"`` or ``"failure"`` once completed.
        completion_failure: The terminal error of a failed completion (``[409] cancelled``).
        idempotency_key: The key the invocation was made with, if any.
        invoked_by: ``"ingress"``, ``"service"`` or ``"subscription"``.
        invoked_by_id: The caller's invocation id, when a handler made the call.
        deployment_id: The deployment it is pinned to, once it started.
        journal_size: Entries in its journal.
        restarted_from: For `restart_as_new` copies, the original invocation's id.
        trace_id: The tracing id, if tracing is on.
    """

    id: str
    target: str
    service: str
    key: str | None
    handler: str
    service_type: str | None
    status: str
    created_at: datetime
    modified_at: datetime
    scheduled_at: datetime | None
    completed_at: datetime | None
    retry_count: int
    next_retry_at: datetime | None
    last_failure: str | None
    last_failure_code: str | None
    completion_result: str | None
    completion_failure: str | None
    idempotency_key: str | None
    invoked_by: str | None
    invoked_by_id: str | None
    deployment_id: str | None
    journal_size: int | None
    restarted_from: str | None
    trace_id: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def attempts(self) -> int | None:
        """Attempts made so far, the running one included; None once completed.

        Restate drops the count when an invocation completes, so a completed one's is unknown
        (not 0).
        """
        return None if self.status == "completed" else self.retry_count

    @property
    def retries(self) -> int | None:
        """Attempts after the first (0 while the first one runs); None once completed."""
        attempts = self.attempts
        return None if attempts is None else max(attempts - 1, 0)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> InvocationInfo:
        created = _time(row, "created_at")
        if created is None:
            raise ValueError("the row has no created_at")
        optional_text = {field: _str(row, column) for field, column in _OPTIONAL_TEXT.items()}
        return cls(
            id=str(row["id"]),
            target=str(row["target"]),
            service=str(row["target_service_name"]),
            handler=str(row["target_handler_name"]),
            status=str(row["status"]),
            created_at=created,
            modified_at=_time(row, "modified_at") or created,
            scheduled_at=_time(row, "scheduled_start_at") or _time(row, "scheduled_at"),
            completed_at=_time(row, "completed_at"),
            next_retry_at=_time(row, "next_retry_at"),
            retry_count=_int(row, "retry_count") or 0,
            journal_size=_int(row, "journal_size"),
            raw=row,
            **optional_text,
        )


@dataclass(frozen=True, slots=True)
class ServerVersion:
    """What ``GET /version`` says about the server.

    Attributes:
        version: The server's version (``"1.7.12"``).
        min_admin_api_version, max_admin_api_version: The admin API versions it speaks.
        ingress_endpoint: The ingress URL the server advertises, if any.
        features: Experimental features and whether each is enabled.
    """

    version: str
    min_admin_api_version: int
    max_admin_api_version: int
    ingress_endpoint: str | None
    features: Mapping[str, bool]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def supports(self, feature: str) -> bool:
        """Whether the server knows `feature` and has it enabled."""
        return self.features.get(feature) is True

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServerVersion:
        features = data.get("features") or {}
        return cls(
            version=str(data["version"]),
            min_admin_api_version=int(data.get("min_admin_api_version", 0)),
            max_admin_api_version=int(data.get("max_admin_api_version", 0)),
            ingress_endpoint=_str(data, "ingress_endpoint"),
            features={str(k): v is True for k, v in features.items()},
            raw=data,
        )
