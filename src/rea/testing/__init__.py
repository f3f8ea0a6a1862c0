"""Test rea and Restate apps against a real restate-server, without Docker.

`RestateServer` runs the engine on free loopback ports; `Harness` serves an app with hypercorn,
registers it, and gives HTTP clients. The pytest plugin (installed with rea) adds fixtures.
"""

from rea.testing._harness import Harness
from rea.testing._server import RemoteServer, RestateServer, ServerEndpoint

__all__ = ["Harness", "RemoteServer", "RestateServer", "ServerEndpoint"]
