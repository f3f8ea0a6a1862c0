"""`make demo`: rea end to end on an embedded Restate server.

A real restate-server starts on free loopback ports; the app (examples/quickstart.py plus the
saga of examples/saga.py, built with `rea.app`) is served by hypercorn and registered; then
`rea.SyncIngressClient` drives it: typed state, a pydantic 400, a guard firing, typed calls
inside a workflow, and a saga rolling back.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rea
from examples import quickstart, saga
from rea.testing import Harness

console = Console(highlight=False, soft_wrap=True)
# What the app logs (rea's rejected inputs, failed invocations) shows too, marked as the app's.
logging.basicConfig(format="  app │ %(levelname)s %(name)s: %(message)s", stream=sys.stdout)

# The guard below fails loudly (STRICT), whatever the environment says.
rea.set_policy("strict")
app = rea.app([quickstart.greeter, quickstart.counter, quickstart.signup, *saga.services])


def step(label: str, value: object) -> None:
    console.print(f"  [bold]{escape(label):<46}[/bold] {escape(str(value))}")


def main() -> int:
    started = time.perf_counter()
    with Harness(app) as h, rea.SyncIngressClient(h.ingress_url) as client:
        up = time.perf_counter() - started
        console.print(f"Restate server up and app registered in {up:.2f} s")
        checks: list[bool] = []

        console.print("[bold cyan]Typed state[/] Counter (rea.StateKey, atomic update)")
        add = client.object(quickstart.add)
        for amount in (3, 4):
            step(f"Counter/apples add({amount})", add.call("apples", amount))
        apples = client.object(quickstart.current).call("apples")
        step("Counter/apples current()", apples)
        checks.append(apples == 7)

        console.print("[bold cyan]Validation[/] Greeter.greet takes a pydantic model")
        greet = client.service(quickstart.greet)
        hello = greet.call(quickstart.Greeting(name="Ada", excited=True))
        step("greet(Greeting(name='Ada', excited=True))", hello)
        try:
            client.service("Greeter", "greet").call({"name": ""})
        except rea.InvocationFailed as exc:
            step("greet({'name': ''})", f"HTTP {exc.status}: {exc.message}")
            checks.append(exc.status == 400)

        console.print("[bold cyan]A guard[/] Counter.reset writes state from a shared handler")
        try:
            client.object(quickstart.reset).call("apples")
        except rea.InvocationFailed as exc:
            step("reset() (policy STRICT)", f"HTTP {exc.status}: {exc.message[:72]}...")
            checks.append("[state.write_in_shared]" in exc.message)

        console.print("[bold cyan]Workflow[/] Signup: typed calls, a timer and a promise")
        signup = client.workflow(quickstart.run)
        sent = signup.submit("ada", "ada@example.com")
        step("submit('ada', 'ada@example.com')", f"{sent.status} {sent.invocation_id}")
        client.workflow(quickstart.run).signal("ada", quickstart.confirm, "4711")
        result = signup.attach("ada")
        step("attach('ada')", result)
        checks.append(result == "Hello, ada. ada@example.com confirmed with code 4711")

        console.print("[bold cyan]Saga[/] Checkout: reserve, charge, ship; undone in reverse")
        saga.LEDGER.clear()
        try:
            client.workflow(saga.run).call("B2", {"id": "B2", "amount": 12.5, "address": ""})
        except rea.InvocationFailed as exc:
            step("Checkout B2 (no address)", f"HTTP {exc.status}: {exc.message}")
        step("  ledger", saga.LEDGER)
        checks.append(saga.LEDGER[-3:] == ["cancel shipment B2", "refund 12.5", "release B2"])

        console.print("[bold cyan]Where to look next[/]")
        step("Restate's web UI (while a server runs)", f"{h.admin_url}/ui/")
        step("your own app, live", "rea dev examples.quickstart:app")
        step("its invocations", "rea invocations")
    ok = all(checks)
    console.print(
        f"[bold green]Demo finished in {time.perf_counter() - started:.2f} s[/]"
        if ok
        else "[bold red]Demo produced unexpected results[/]"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
