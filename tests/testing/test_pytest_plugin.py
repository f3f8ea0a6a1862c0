"""The pytest plugin lists rea's warnings from the code under test, even for passing tests."""

from __future__ import annotations

import pytest

from rea._engine import server_binary

pytest_plugins = ["pytester"]

#: Found before pytester moves HOME (and with it rea's cache) for the inner run.
BINARY = str(server_binary())

APP = """
import restate
import rea

obj = restate.VirtualObject("PluginCounter")


@obj.handler(kind="shared")
async def reset(ctx: restate.ObjectSharedContext) -> None:
    rea.State(ctx, "total", int, default=0).set(0)


app = rea.app([obj])
"""

TEST = """
import logging

import rea


def test_in_process_warning():
    with rea.policy_override("warn"):
        logging.getLogger("rea.policy").warning("[unit.rule] something was skipped")


def test_app_process_warning(rea_harness):
    h = rea_harness("plugin_app:app", app_env={"RESTATE_FRAMEWORK_POLICY": "warn"})
    assert h.client.post("/PluginCounter/k/reset").status_code == 200


def test_quiet():
    pass
"""


@pytest.mark.integration
def test_warnings_of_passing_tests_are_summarized(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process and app-process warnings show in a 'rea warnings' section, per test."""
    # pytester gives the inner run its own HOME: point it at this run's restate-server.
    monkeypatch.setenv("REA_RESTATE_SERVER", BINARY)
    pytester.makepyfile(plugin_app=APP, test_it=TEST)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*rea warnings (logged by the code under test)*",
            "test_it.py::test_app_process_warning",
            "  WARNING rea.policy: [[]state.write_in_shared[]]*",
            "test_it.py::test_in_process_warning",
            "  WARNING rea.policy: [[]unit.rule[]] something was skipped",
        ]
    )
    assert "test_it.py::test_quiet" not in result.stdout.str()
