"""The Grafana dashboard shipped in docs/grafana: every query names a metric that exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from rea.observability import (
    AttemptFinished,
    BreakerChanged,
    CallSent,
    PolicyViolated,
    RunFinished,
    SagaEvent,
    SecurityRejected,
)
from rea.observability._metrics import MetricsSink

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "rea-dashboard.json"
METRIC = re.compile(r"\b((?:rea|restate)_[a-z0-9_]+)")
SUFFIXES = ("_bucket", "_count", "_sum")


def queries() -> list[str]:
    document = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in document["panels"] for t in p.get("targets", [])]


def names(prefix: str) -> set[str]:
    """The metric names the dashboard's queries use, with this prefix."""
    return {m for q in queries() for m in METRIC.findall(q) if m.startswith(prefix)}


def sample_names(text: str) -> set[str]:
    """The names a page's samples have, and a counter family's ``_total`` even before a sample."""
    found = set()
    for family in text_string_to_metric_families(text):
        found |= {s.name for s in family.samples}
        if family.type == "counter":
            found.add(f"{family.name}_total")
    return found


def test_the_dashboard_is_grafana_json_with_a_datasource_variable() -> None:
    """Every panel queries through the ${datasource} variable; ids are unique."""
    document = json.loads(DASHBOARD.read_text())
    assert document["uid"]
    assert document["title"]
    assert document["templating"]["list"][0]["name"] == "datasource"
    ids = [p["id"] for p in document["panels"]]
    assert len(ids) == len(set(ids))
    for panel in document["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"


def test_every_rea_metric_it_queries_is_one_rea_exports() -> None:
    """The rea_ names in the queries are among what rea's registry exposes, all of it used."""
    sink = MetricsSink(CollectorRegistry())
    sink.attempt_finished(AttemptFinished("S", "h", "inv_1", None, "success", 0.1, None))
    sink.run_finished(RunFinished("S", "h", "r", "success", 0.1, None))
    sink.call_sent(CallSent("S", "h", "T", "g", "call"))
    for kind in ("step", "compensation", "dead_letter"):
        sink.saga_event(SagaEvent("saga", "step", kind, "success"))  # type: ignore[arg-type]
    sink.policy_violated(PolicyViolated("ctx.inside_run", "warn"))
    sink.security_rejected(SecurityRejected("identity.missing", "/discover", False))
    sink.breaker_changed(BreakerChanged("payments", "closed", "open"))
    exported = sample_names(generate_latest(sink.registry).decode())
    used = names("rea_")
    assert used <= exported, used - exported
    families = {n.removesuffix(s) for n in exported for s in SUFFIXES if n.endswith(s)} | {
        n for n in exported if n.endswith("_total")
    }
    assert {n for n in families if not n.endswith("_created")} <= {
        n.removesuffix("_bucket") for n in used
    } | used, "a rea metric the dashboard does not show"
