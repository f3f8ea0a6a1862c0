"""`make demo`: run the quickstart app end to end on an embedded Restate server.

A real restate-server starts on free loopback ports, the app is served by hypercorn and
registered, and each kind of service is invoked through the ingress.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.quickstart import app
from rea.testing import Harness

console = Console(highlight=False, soft_wrap=True)


def step(label: str, value: object) -> None:
    console.print(f"  [bold]{label:<44}[/bold] {value}")


def main() -> int:
    started = time.perf_counter()
    with Harness(app) as h:
        console.print(
            f"Restate server up and app registered in {time.perf_counter() - started:.2f} s "
            f"(ingress {h.ingress_url}, admin {h.admin_url})"
        )
        services = ", ".join(sorted(s["name"] for s in h.deployment["services"]))
        step("registered services", services)

        console.print("[bold cyan]Service[/] Greeter")
        greeting = h.client.post("/Greeter/greet", json={"name": "Ada", "excited": True})
        greeting.raise_for_status()
        step("greet({'name': 'Ada', 'excited': true})", greeting.json())

        console.print("[bold cyan]VirtualObject[/] Counter: state per key, across calls")
        for amount in (3, 4):
            total = h.client.post("/Counter/apples/add", json=amount).json()
            step(f"Counter/apples add({amount})", total)
        step("Counter/pears add(10)", h.client.post("/Counter/pears/add", json=10).json())
        apples = h.client.post("/Counter/apples/current").json()
        step("Counter/apples current()", apples)

        console.print("[bold cyan]Workflow[/] Signup: a durable timer and a durable promise")
        sent = h.client.post("/Signup/ada/run/send", json="ada@example.com").json()
        step("submit run('ada@example.com')", f"{sent['status']} {sent['invocationId']}")
        status = "not started"
        deadline = time.monotonic() + 5
        while status == "not started" and time.monotonic() < deadline:
            status = h.client.post("/Signup/ada/status").json()
        step("status()", status)
        h.client.post("/Signup/ada/confirm", json="4711").raise_for_status()
        step("confirm('4711')", "promise resolved")
        result = h.client.get("/restate/workflow/Signup/ada/attach").json()
        step("attach (workflow output)", result)
        step("status()", h.client.post("/Signup/ada/status").json())

        ok = (
            greeting.json() == "Hello, Ada!"
            and apples == 7
            and result == "ada@example.com confirmed with code 4711"
        )
    console.print(
        f"[bold green]Demo finished in {time.perf_counter() - started:.2f} s[/]"
        if ok
        else "[bold red]Demo produced unexpected results[/]"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
