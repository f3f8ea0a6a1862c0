"""Errors raised by rea.

Every error rea raises on its own account derives from `ReaError`::

    ReaError
    ├── ServerNotInstalledError   the restate-server binary cannot be found or installed
    ├── ServerStartError          a restate-server process did not become healthy
    ├── AppStartError             an app process did not serve or could not be loaded
    └── RegistrationError         the Restate admin API refused a deployment
"""

from __future__ import annotations

__all__ = [
    "AppStartError",
    "ReaError",
    "RegistrationError",
    "ServerNotInstalledError",
    "ServerStartError",
]


class ReaError(Exception):
    """Root of every error raised by rea itself."""


class ServerNotInstalledError(ReaError):
    """The restate-server binary is missing and cannot be installed as asked."""


class ServerStartError(ReaError):
    """A restate-server process exited or did not become healthy in time."""


class AppStartError(ReaError):
    """An app could not be imported, is not an ASGI app, or did not start serving."""


class RegistrationError(ReaError):
    """The Restate admin API refused to register a deployment."""
