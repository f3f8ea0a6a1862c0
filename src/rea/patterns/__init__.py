"""Orchestration patterns: a durable circuit breaker and named fan-in (issue 16).

`rea` re-exports these names; import them from there (``rea.CircuitBreaker``).
"""

from rea.patterns._aggregate import Aggregated, AggregateFailed, Quorum, aggregate
from rea.patterns._breaker import BreakerStatus, CircuitBreaker, CircuitOpen, server_errors

__all__ = [
    "AggregateFailed",
    "Aggregated",
    "BreakerStatus",
    "CircuitBreaker",
    "CircuitOpen",
    "Quorum",
    "aggregate",
    "server_errors",
]
