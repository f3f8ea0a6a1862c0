"""Orchestration patterns: a durable circuit breaker, rate and concurrency limits, named fan-in.

`rea` re-exports these names; import them from there (``rea.CircuitBreaker``).
"""

from rea.patterns._aggregate import Aggregated, AggregateFailed, Quorum, aggregate
from rea.patterns._breaker import BreakerStatus, CircuitBreaker, CircuitOpen, server_errors
from rea.patterns._limiter import LimiterStatus, Permit, RateLimiter

__all__ = [
    "AggregateFailed",
    "Aggregated",
    "BreakerStatus",
    "CircuitBreaker",
    "CircuitOpen",
    "LimiterStatus",
    "Permit",
    "Quorum",
    "RateLimiter",
    "aggregate",
    "server_errors",
]
