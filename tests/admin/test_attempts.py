"""`InvocationInfo.attempts` / `.retries`: Restate's retry_count counts attempts, not retries."""

from __future__ import annotations

import pytest

from rea.admin import InvocationInfo
from tests.admin.test_clients import ROW


@pytest.mark.parametrize(
    ("status", "retry_count", "attempts", "retries"),
    [
        ("running", 1, 1, 0),  # the first attempt, still running: no retry yet
        ("backing-off", 1, 1, 0),  # the first attempt failed; the second is not made yet
        ("backing-off", 3, 3, 2),  # tried 3 times: retried twice
        ("pending", None, 0, 0),  # not started
        ("completed", None, None, None),  # Restate drops the count: unknown, not 0
    ],
)
def test_attempts_and_retries(
    status: str, retry_count: int | None, attempts: int | None, retries: int | None
) -> None:
    row = {**ROW, "status": status, "retry_count": retry_count}
    if retry_count is None:
        del row["retry_count"]  # NULL columns are absent from the admin API's rows
    info = InvocationInfo.from_row(row)
    assert (info.attempts, info.retries) == (attempts, retries)
    assert info.retry_count == (retry_count or 0)
