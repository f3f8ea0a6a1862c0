"""The cases where rea.app does not match restate.app yet (cases.PENDING), run on demand.

Not collected by ``make test`` (the name does not start with ``test_``): run it with
``.venv/bin/pytest tests/integration/compat/check_pending.py``.
"""

from __future__ import annotations

import pytest

from tests.integration.compat._driver import Apps
from tests.integration.compat.cases import PENDING
from tests.integration.compat.test_compat import report, run


@pytest.mark.parametrize("case", list(PENDING))
def test_pending_case_matches(apps: Apps, case: str) -> None:
    """rea.app answers every step of a pending case with the SDK's status and body bytes."""
    sdk, rea = run(apps, case)
    differing = [step for step in sdk.steps if sdk.steps[step] != rea.steps[step]]
    assert not differing, report(case, sdk, rea, differing) + f"\n(pending: {PENDING[case]})"
