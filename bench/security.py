"""Invocations per second with strict request security on vs off, same run, same server.

Target (issue 14): strict / off >= 0.95. The server signs every request (Restate's request
identity); the "strict" process checks each one (rea's guards: identity with cached tokens,
replay protection reading the start message, and the SDK's own check behind them), the "off"
process serves the same rea.app without guards, and the bare SDK is shown for context. The
handler does almost nothing, so the guards' share of the work is as large as it gets. See
bench/_compare.py for the method.

Run: .venv/bin/python bench/security.py [requests-per-round] [rounds]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench._compare import Variant, compare
from rea.testing import Harness, RestateServer


def _strict_refuses() -> bool:
    """Whether the strict variant's process really checks: an unsigned request gets a 401."""
    with (
        RestateServer(always_replay=False, signing_key=True) as server,
        Harness("bench.security_apps:strict_app", server=server, signing=True) as h,
    ):
        signed = h.client.post("/StrictGreeter/greet", json="x").status_code
        unsigned = httpx.post(f"{h.app_url}/invoke/StrictGreeter/greet", content=b"").status_code
    return (signed, unsigned) == (200, 401)


if __name__ == "__main__":
    checks = "yes" if _strict_refuses() else "NO (the comparison below means nothing)"
    print(f"strict variant: signed call 200, unsigned request to the app 401: {checks}")
    compare(
        "service calls (security strict vs off)",
        (
            Variant(
                "strict", "bench.security_apps:strict_app", "/StrictGreeter/greet", signing=True
            ),
            Variant("off", "bench.security_apps:off_app", "/OffGreeter/greet"),
            Variant("bare SDK", "bench.security_apps:bare_app", "/BareGreeter/greet"),
        ),
        body=lambda n: f"n{n}",
        check=lambda result: isinstance(result, str) and result.startswith("hello"),
        target=0.95,
        server_options={"signing_key": True},
    )
