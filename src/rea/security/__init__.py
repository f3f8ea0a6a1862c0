"""Request security for Restate endpoints: who may call the app, and how.

`SecurityConfig` says what to check; `secure(app, config)` wraps an ASGI app in small
pure-ASGI guards (outermost first):

- `AllowlistGuard`: the client address must be in the allowed networks (the Restate cluster);
- `HttpsGuard`: TLS, directly or through a trusted proxy that says so;
- `IdentityGuard`: Restate's request-identity token (Ed25519 JWT) for this path;
- `ReplayGuard`: one invocation request (token and start message) accepted once.

`generate_key_pair`, `public_key_from_pem` and `write_private_key` make and read the keys
(``rea keys`` on the command line).

Every refusal has a reason id (`REASONS`), is logged on the ``rea.security`` logger and counted
(`rejection_counts`). ``/health`` is never checked.
"""

from rea.security._allowlist import AllowlistGuard
from rea.security._compose import secure
from rea.security._config import Mode, SecurityConfig, parse_identity_key
from rea.security._https import HttpsGuard
from rea.security._identity import IdentityGuard
from rea.security._keys import KeyPair, generate_key_pair, public_key_from_pem, write_private_key
from rea.security._rejections import (
    REASONS,
    rejection_counts,
    replay_evictions,
    reset_rejection_counts,
)
from rea.security._replay import ReplayCache, ReplayGuard

__all__ = [
    "REASONS",
    "AllowlistGuard",
    "HttpsGuard",
    "IdentityGuard",
    "KeyPair",
    "Mode",
    "ReplayCache",
    "ReplayGuard",
    "SecurityConfig",
    "generate_key_pair",
    "parse_identity_key",
    "public_key_from_pem",
    "rejection_counts",
    "replay_evictions",
    "reset_rejection_counts",
    "secure",
    "write_private_key",
]
