"""Only Restate may call the app: request identity, with every refusal logged and counted.

Run it: `python examples/security.py` (starts an embedded Restate server that signs its
requests). `make demo` runs it. In production the server gets its private key from
`rea keys generate` (see docs/security.md) and the app the public key, e.g. through
`REA_IDENTITY_KEYS`; here the test server makes a key pair and the app is built with its key.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import httpx
import jwt
import restate
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rea
from rea.security import rejection_counts
from rea.testing import Harness, RestateServer


class Transfer(BaseModel):
    account: str
    amount: float


bank = restate.Service("Bank")


@bank.handler()
async def pay_out(ctx: restate.Context, transfer: Transfer) -> str:
    return f"paid {transfer.amount:.2f} to {transfer.account}"


def _foreign_token() -> str:
    """A well-formed Restate v1 token for the right path, signed by a key the app does not know."""
    now = int(time.time())
    claims = {"aud": "/invoke/Bank/pay_out", "iat": now, "nbf": now - 60, "exp": now + 60}
    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA")


def main() -> int:
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stdout,
        format="  log: %(levelname)s %(name)s: %(message)s",
    )
    with RestateServer(signing_key=True) as server:
        assert server.identity_key is not None
        print(f"The Restate server signs every request; its public key: {server.identity_key}")
        # Loopback without TLS here; in production keep require_https (the default).
        security = rea.SecurityConfig(identity_keys=[server.identity_key], require_https=False)
        app = rea.app([bank], security=security)
        with Harness(app, server=server) as h:
            print("1. Through Restate's ingress (Restate signs the request):")
            paid = h.client.post("/Bank/pay_out", json={"account": "ada", "amount": 10})
            print(f"  -> {paid.status_code} {paid.json()}")

            print("2. Straight to the app's endpoint, unsigned (anyone on the network):")
            forged = httpx.post(f"{h.app_url}/invoke/Bank/pay_out", content=b"", timeout=10)
            print(f"  -> {forged.status_code} {forged.text.strip()}")

            print("3. With a token that looks right but is signed by another key:")
            headers = {"x-restate-signature-scheme": "v1", "x-restate-jwt-v1": _foreign_token()}
            bogus = httpx.post(
                f"{h.app_url}/invoke/Bank/pay_out", content=b"", headers=headers, timeout=10
            )
            print(f"  -> {bogus.status_code}")
    counts = rejection_counts()
    print(f"Refusals by reason: {counts}")
    ok = paid.status_code == 200 and forged.status_code == 401 and bogus.status_code == 401
    expected = {"identity.missing": 1, "identity.unknown_key": 1}
    return 0 if ok and counts == expected else 1


if __name__ == "__main__":
    sys.exit(main())
