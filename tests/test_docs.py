"""The docs describe what the code does: every guard rule is documented, and nothing else is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rules_in_code() -> set[str]:
    rules: set[str] = set()
    for path in (ROOT / "src" / "rea").rglob("*.py"):
        # Every guard goes through rea._policy.violation("<rule>", ...).
        rules |= set(re.findall(r'violation\(\s*"([a-z_]+\.[a-z_]+)"', path.read_text()))
    return rules


def _rules_in_policy_docs() -> set[str]:
    text = (ROOT / "docs" / "policy.md").read_text()
    table = text[text.index("## The guards") :]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", table, flags=re.MULTILINE))


def test_every_rule_in_the_code_is_in_the_policy_table_and_back() -> None:
    """docs/policy.md's table lists exactly the rules the code can report."""
    in_code = _rules_in_code()
    assert len(in_code) >= 10
    assert _rules_in_policy_docs() == in_code
