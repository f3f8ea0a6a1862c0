"""`await_approval`'s arguments and result types, without a server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import rea
from rea.workflow._approval import Approval, Decision, await_approval


def _notify(request: Any) -> None:
    return None


@pytest.mark.parametrize(
    ("name", "timeout", "match"),
    [
        ("", timedelta(seconds=1), "needs a name"),
        ("expense", timedelta(0), "positive timedelta"),
        ("expense", 5, "positive timedelta"),
    ],
)
async def test_bad_arguments_are_usage_errors(name: str, timeout: Any, match: str) -> None:
    """An empty name or a timeout that is no positive timedelta is a terminal UsageError."""
    with pytest.raises(rea.UsageError, match=match):
        await await_approval(object(), name, notify=_notify, timeout=timeout)  # type: ignore[arg-type]


def test_an_approval_says_whether_it_was_approved() -> None:
    """Only the outcome "approved" counts as approved."""
    assert Approval("approved", approver="ann").approved
    assert not Approval("rejected", reason="no").approved
    assert not Approval("timed_out", escalated=True).approved


def test_a_decision_needs_only_the_answer() -> None:
    """An approver may send just {"approved": true}."""
    assert Decision.model_validate({"approved": True}) == Decision(approved=True)
