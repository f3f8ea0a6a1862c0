"""The two apps of the compatibility suite, each on its own Restate server, once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rea.testing import Harness, RestateServer
from tests.integration.compat._driver import Apps

APPS = "tests.integration.compat.apps.served"
#: Both child processes get it; only rea.app reads it.
ENV = {"RESTATE_FRAMEWORK_POLICY": "strict"}


@pytest.fixture(scope="module")
def apps() -> Iterator[Apps]:
    """restate.app and rea.app, built from the same service objects, on two servers."""
    with (
        RestateServer() as sdk_server,
        RestateServer() as rea_server,
        Harness(f"{APPS}:plain_app", server=sdk_server, app_env=ENV) as sdk,
        Harness(f"{APPS}:rea_app", server=rea_server, app_env=ENV) as rea,
    ):
        yield Apps(sdk, rea)
