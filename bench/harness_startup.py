"""Cold start of a test environment: server + app + registration + first invocation.

Prints min / median / max over N cold starts (default 10) for:
  rea Harness, app in a child process   (``Harness("module:attr")``, as crash tests use)
  rea Harness, app in this process      (``Harness(app)``)
  bare SDK, by hand                     restate-server + ``python -m hypercorn`` + registration,
                                        the Docker-free equivalent of the SDK's own harness (which
                                        needs Docker and cannot run here)
Target (issue 2): median <= 0.8 s for the rea child-process form on a 2-core machine.

Run: .venv/bin/python bench/harness_startup.py [N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rea.testing import Harness, RestateServer  # noqa: E402
from rea.testing._ports import free_port  # noqa: E402

APP_REF = "examples.quickstart:app"


def first_call(ingress: str) -> None:
    response = httpx.post(f"{ingress}/Greeter/greet", json={"name": "bench"}, timeout=30)
    assert response.json() == "Hello, bench.", response.text


def rea_child() -> None:
    with Harness(APP_REF) as h:
        first_call(h.ingress_url)


def rea_in_process() -> None:
    from examples.quickstart import app

    with Harness(app) as h:
        first_call(h.ingress_url)


def _wait(url: str, deadline: float) -> None:
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def bare_sdk() -> None:
    # The same fast server settings, so that only the harness machinery differs.
    settings = RestateServer()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESTATE_")}
    env.update(settings.environment())
    base = tempfile.mkdtemp(prefix="bench-bare-")
    app_port = free_port()
    server = subprocess.Popen(
        [str(settings.binary), "--no-logo", "--base-dir", base],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{app_port}", APP_REF],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        _wait(f"{settings.admin_url}/health", deadline)
        _wait(f"{settings.ingress_url}/restate/health", deadline)
        _wait(f"http://127.0.0.1:{app_port}/health", deadline)
        httpx.post(
            f"{settings.admin_url}/deployments",
            json={"uri": f"http://127.0.0.1:{app_port}", "force": True},
            timeout=30,
        ).raise_for_status()
        first_call(settings.ingress_url)
    finally:
        for proc in (app, server):
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)


def measure(fn: Callable[[], None], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    modes: list[tuple[str, Callable[[], None]]] = [
        ("rea Harness, app in a child process", rea_child),
        ("rea Harness, app in this process", rea_in_process),
        ("bare SDK by hand (server + hypercorn)", bare_sdk),
    ]
    # Warm the OS page cache for the binary and the imports so that run 1 is not an outlier.
    rea_in_process()
    print(f"cold starts: server + app + registration + first invocation, {runs} runs each")
    print(f"{'mode':<40} {'min s':>7} {'median s':>9} {'max s':>7}")
    medians = {}
    for name, fn in modes:
        times = measure(fn, runs)
        medians[name] = statistics.median(times)
        print(f"{name:<40} {min(times):7.3f} {medians[name]:9.3f} {max(times):7.3f}")
    child = medians[modes[0][0]]
    bare = medians[modes[2][0]]
    print(f"rea child-process median / bare median: {child / bare:.2f}x")
    print(f"target median <= 0.800 s: {'met' if child <= 0.8 else 'NOT met'} ({child:.3f} s)")


if __name__ == "__main__":
    main()
