"""mypy infers the facades' types for both clients and reports misuse (mypy --strict)."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.test_typing import _mypy

SOURCE = """
import restate
from pydantic import BaseModel
from rea.ingress import IngressClient, SyncIngressClient

class Order(BaseModel):
    id: str

class Receipt(BaseModel):
    total: float

svc = restate.Service("S")
obj = restate.VirtualObject("O")
wf = restate.Workflow("W")

@svc.handler()
async def create(ctx: restate.Context, order: Order) -> Receipt: raise NotImplementedError
@svc.handler()
async def health(ctx: restate.Context) -> str: raise NotImplementedError
@obj.handler()
async def add(ctx: restate.ObjectContext, n: int) -> int: raise NotImplementedError
@wf.main()
async def run(ctx: restate.WorkflowContext, email: str) -> list[Receipt]: raise NotImplementedError
@wf.handler()
async def confirm(ctx: restate.WorkflowSharedContext, code: int) -> bool: raise NotImplementedError

async def use(a: IngressClient, s: SyncIngressClient) -> None:
    reveal_type(await a.service(create).call(Order(id="1")))  # R1
    reveal_type(s.service(create).call(Order(id="1"), idempotency_key="k"))  # R2
    reveal_type(await a.service(health).send(delay="1s"))  # R3
    reveal_type(s.service(create).output(idempotency_key="k"))  # R4
    reveal_type(await a.object(add).call("k", 1))  # R5
    reveal_type(s.object(add).attach("k", idempotency_key="i"))  # R6
    reveal_type(await a.workflow(run).attach("w"))  # R7
    reveal_type(s.workflow(run).output("w"))  # R8
    reveal_type(await a.workflow(run).signal("w", confirm, 7))  # R9
    reveal_type(s.workflow(run).signal("w", "confirm", 7))  # R10
    reveal_type(s.service("S", "h", Order, list[Receipt]).call(Order(id="1")))  # R11
    reveal_type(await a.attach("inv_1", Receipt))  # R12
    reveal_type(s.attach("inv_1"))  # R13
    reveal_type(await a.output("inv_1", int))  # R14
    reveal_type(s.cancel("inv_1"))  # R15
    reveal_type(s.workflow("W", str, int).submit("w", "x"))  # R16
    s.service(create).call(42)  # E1
    s.object(add).call("k", "one")  # E2
    x: int = s.service(health).call()  # E3
    s.service(create).call(Order(id="1"), idempotency=1)  # E4
    await a.workflow(run).signal("w", confirm, "seven")  # E5
    s.service(create).send(Order(id="1"), delay=5)  # E6
"""

EXPECTED = {
    "R1": "snippet.Receipt",
    "R2": "snippet.Receipt",
    "R3": "rea.ingress._core.SendResult",
    "R4": "rea.ingress._core.Output[snippet.Receipt]",
    "R5": "int",
    "R6": "int",
    "R7": "list[snippet.Receipt]",
    "R8": "rea.ingress._core.Output[list[snippet.Receipt]]",
    "R9": "bool",
    "R10": "Any",
    "R11": "list[snippet.Receipt]",
    "R12": "snippet.Receipt",
    "R13": "Any",
    "R14": "rea.ingress._core.Output[int]",
    "R15": "bool",
    "R16": "rea.ingress._core.SendResult",
}
ERRORS = ["E1", "E2", "E3", "E4", "E5", "E6"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """mypy's messages on the snippet, by the marker comment of their line."""
    source = tmp_path_factory.mktemp("typing") / "snippet.py"
    source.write_text(textwrap.dedent(SOURCE))
    lines = source.read_text().splitlines()
    by_marker: dict[str, str] = {}
    for row in _mypy(source).stdout.splitlines():
        match = re.match(r".*snippet\.py:(\d+): (.*)", row)
        if match:
            marker = lines[int(match[1]) - 1].rsplit("# ", 1)[-1]
            by_marker[marker] = by_marker.get(marker, "") + match[2] + "\n"
    return by_marker


@pytest.mark.parametrize(("marker", "revealed"), EXPECTED.items())
def test_types_are_inferred(report: dict[str, str], marker: str, revealed: str) -> None:
    """reveal_type shows the handler's types, unwrapped by await or by the sync client."""
    assert f'Revealed type is "{revealed}"' in report.get(marker, ""), report


@pytest.mark.parametrize("marker", ERRORS)
def test_misuse_is_an_error(report: dict[str, str], marker: str) -> None:
    """Wrong input types, wrong result types and unknown options are mypy errors."""
    assert "error:" in report.get(marker, ""), report
