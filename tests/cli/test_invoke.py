"""`rea invoke` end to end on a real server; one line and exit 2 / 1 on failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rea.admin import AdminClient
from rea.testing import Harness
from rea.testing.pytest_plugin import HarnessFactory
from tests.cli.test_register import app, one_error_line, run_rea, unused_url, write_local_state


@pytest.fixture
def h(rea_harness: HarnessFactory) -> Harness:
    return rea_harness(app)


def _invoke(h: Harness, tmp_path: Path, *args: str) -> str:
    result = run_rea("invoke", *args, "--ingress", h.ingress_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_service_calls_print_json(h: Harness, tmp_path: Path) -> None:
    """One argument after Service/handler is the JSON input; none means no input."""
    assert json.loads(_invoke(h, tmp_path, "AdminProbe/echo", '"ada"')) == "ADA"
    assert json.loads(_invoke(h, tmp_path, "AdminProbe/ping")) == {"pong": True}


def test_keyed_calls(h: Harness, tmp_path: Path) -> None:
    """``Object/handler KEY JSON`` and ``Object/KEY/handler [JSON]`` both call object KEY."""
    key = f"k{tmp_path.name}"
    assert _invoke(h, tmp_path, "AdminCounter/add", key, "5").strip() == "5"
    assert _invoke(h, tmp_path, f"AdminCounter/{key}/add", "2").strip() == "7"
    assert _invoke(h, tmp_path, f"AdminCounter/{key}/current").strip() == "7"


def test_send_with_delay_and_idempotency_key(h: Harness, tmp_path: Path) -> None:
    """--send prints the id and status; the same key finds the same invocation."""
    args = ["AdminProbe/echo", '"later"', "--send", "--delay", "1h", "--idempotency-key", "k-1"]
    first = _invoke(h, tmp_path, *args).split()
    invocation_id, status = first[:2]
    assert invocation_id.startswith("inv_")
    assert status == "Accepted"
    assert first[2] == "(runs"  # the delayed send's execution time follows
    again = _invoke(h, tmp_path, *args).split()
    assert again[:2] == [invocation_id, "PreviouslyAccepted"]
    with AdminClient(h.admin_url) as admin:
        assert admin.invocation(invocation_id).status == "scheduled"
        admin.cancel(invocation_id)

    plain = _invoke(h, tmp_path, "AdminProbe/ping", "--send").split()
    assert len(plain) == 2
    assert plain[1] == "Accepted"


def test_ingress_url_from_environment(h: Harness, tmp_path: Path) -> None:
    result = run_rea("invoke", "AdminProbe/echo", '"env"', cwd=tmp_path,
                     env={"REA_INGRESS_URL": h.ingress_url})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "ENV"


def test_ingress_url_from_the_local_server_state(h: Harness, tmp_path: Path) -> None:
    write_local_state(h, tmp_path)
    result = run_rea("invoke", "AdminProbe/echo", '"local"', cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == "LOCAL"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["Nope/echo", '"x"'], "[404] service 'Nope' not found"),
        (["AdminProbe/nope", '"x"'], "[404] the service 'AdminProbe' exists, but the handler"),
        (["AdminProbe/echo", "ada"], "the input 'ada' is not valid JSON"),
        (
            ["AdminCounter/get", "k7"],
            "if 'k7' is an object key or workflow id: rea invoke AdminCounter/k7/get",
        ),
        (["AdminProbe/echo", '"x"', "--send", "--delay", "10"], "delay '10' has no unit"),
        (["AdminProbe/echo", '"x"', "--send", "--delay", "soon"], "delay 'soon'"),
        (["AdminProbe/echo", '"x"', "--delay", "10s"], "--delay needs --send"),
        (["AdminProbe"], "must look like Service/handler or Object/key/handler"),
        (["AdminProbe//echo"], "must look like Service/handler or Object/key/handler"),
        (["AdminCounter/k/add", "k2", "1"], "names the key already"),
        (["AdminProbe/echo", '"x"', "--idempotency-key", " "], "must not be empty"),
        (["AdminProbe/echo", "42"], "[400] invalid input"),
        (["AdminProbe/ping", "5"], "[400]"),
        (["AdminCounter/add", "5"], "[400] bad path"),
        (["AdminProbe/echo", '"x"', "--ingress", "nowhere"], "--ingress: not an http(s) URL"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    h: Harness, tmp_path: Path, args: list[str], expected: str
) -> None:
    result = run_rea("invoke", *args, cwd=tmp_path, env={"REA_INGRESS_URL": h.ingress_url})
    assert expected in one_error_line(result, 2)


def test_failed_handler_is_exit_1(h: Harness, tmp_path: Path) -> None:
    result = run_rea("invoke", "AdminProbe/refuse", '"no"', "--ingress", h.ingress_url,
                     cwd=tmp_path)  # fmt: skip
    assert "[422] refused: no" in one_error_line(result, 1)


def test_unreachable_ingress_is_one_line_and_exit_1(tmp_path: Path) -> None:
    ingress = unused_url()
    result = run_rea("invoke", "AdminProbe/echo", '"x"', "--ingress", ingress, cwd=tmp_path)
    assert f"cannot reach the Restate ingress at {ingress}" in one_error_line(result, 1)
