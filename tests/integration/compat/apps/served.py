"""The same service objects served twice: ``restate.app`` and ``rea.app``.

Both apps are built in every process that imports this module, in that order, so a ``rea.app``
that changed the objects would change the plain app too; each harness serves one of them.
"""

from __future__ import annotations

import restate

import rea
from tests.integration.compat.apps import build_all

services = build_all()
plain_app = restate.app(services)
rea_app = rea.app(services)
