"""rea: opinionated, type-safe building blocks for durable applications on Restate."""

from rea._version import __version__
from rea.errors import (
    AppStartError,
    ReaError,
    RegistrationError,
    ServerNotInstalledError,
    ServerStartError,
)

__all__ = [
    "AppStartError",
    "ReaError",
    "RegistrationError",
    "ServerNotInstalledError",
    "ServerStartError",
    "__version__",
]
