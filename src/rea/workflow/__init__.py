"""Workflow helpers: timers, races, bounded loops, continue-as-new, status, approvals (area 4).

`rea` re-exports these names; import them from there (``rea.sleep_until``).
"""

from rea.workflow._approval import Approval, ApprovalRequest, Decision, await_approval
from rea.workflow._config import WorkflowConfig
from rea.workflow._loop import (
    DurableLoop,
    LoopLimitExceeded,
    continue_as_new,
    generation,
    loop,
)
from rea.workflow._status import StatusReport, StatusStep, WorkflowStatus
from rea.workflow._timers import PromiseRacer, RaceResult, RaceWinner, race, sleep_until

__all__ = [
    "Approval",
    "ApprovalRequest",
    "Decision",
    "DurableLoop",
    "LoopLimitExceeded",
    "PromiseRacer",
    "RaceResult",
    "RaceWinner",
    "StatusReport",
    "StatusStep",
    "WorkflowConfig",
    "WorkflowStatus",
    "await_approval",
    "continue_as_new",
    "generation",
    "loop",
    "race",
    "sleep_until",
]
