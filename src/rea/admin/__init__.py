"""Clients for the Restate admin API: deployments, services, SQL, invocation lifecycle.

``AdminClient`` blocks (scripts, the CLI, tests); ``AsyncAdminClient`` is its asyncio twin.
Both share one sans-IO core (``rea.admin._core``) that builds the requests and reads the answers,
and send through rea's one HTTP core (``rea._http``, the ingress clients' too): the same
retries, the same error model (`AdminError` and `AdminUnavailable` are `rea.RestateError` and
`rea.RestateUnavailable`), the same `cancel`.
"""

from rea._durations import format_duration, parse_duration
from rea.admin._client import AdminClient, AsyncAdminClient
from rea.admin._core import DEFAULT_ADMIN_URL
from rea.admin._errors import AdminError, AdminUnavailable
from rea.admin._models import (
    INVOCATION_STATUSES,
    Deployment,
    HandlerInfo,
    InvocationInfo,
    ServerVersion,
    ServiceInfo,
)

__all__ = [
    "DEFAULT_ADMIN_URL",
    "INVOCATION_STATUSES",
    "AdminClient",
    "AdminError",
    "AdminUnavailable",
    "AsyncAdminClient",
    "Deployment",
    "HandlerInfo",
    "InvocationInfo",
    "ServerVersion",
    "ServiceInfo",
    "format_duration",
    "parse_duration",
]
