"""Integration tests run on a real Restate server; shared fixtures for apps with a ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A sqlite file outside the app process: the external system an app's effects go to."""
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def h(request: pytest.FixtureRequest, rea_harness: HarnessFactory, ledger: Path) -> Harness:
    """The test module's ``APP``, served with ``REA_LEDGER`` pointing at `ledger`."""
    app: str = request.module.APP
    return rea_harness(app, app_env={"REA_LEDGER": str(ledger)})
