"""`IdentityGuard`: only requests signed by the Restate server (v1 JWT) reach the app."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Final

import jwt

from rea._loader import ASGIApp
from rea._observe import Hooks
from rea.errors import UsageValueError
from rea.security._config import parse_identity_key
from rea.security._paths import HEALTH, route
from rea.security._rejections import Rejector

__all__ = ["EXP_SCOPE_KEY", "IdentityGuard"]

#: Where a verified token's expiry (Unix seconds) is left in the scope for the replay guard.
EXP_SCOPE_KEY: Final = "rea.security.token_exp"

_SCHEME = b"x-restate-signature-scheme"
_TOKEN = b"x-restate-jwt-v1"
# What the SDK's verifier (shared-core, jsonwebtoken) checks: EdDSA only, these four claims
# required, leeway 0, exp and nbf checked. It does not compare iat with the clock, so neither do
# we: a server clock a second ahead must not be refused. aud is compared below, so that a
# verified token can be cached whatever path it is presented on.
_OPTIONS: Final[Any] = {
    "require": ["aud", "exp", "iat", "nbf"],
    "verify_aud": False,
    "verify_iat": False,
}
_ALGORITHMS: Final = ["EdDSA"]
_CACHE_LIMIT = 1024

# (exp, audiences) of a verified token; the reason and detail of a failed check.
_Claims = tuple[int, tuple[str, ...]]
_Failure = tuple[str, str]


class _Refused(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        self.failure: _Failure = (reason, detail)


class IdentityGuard:
    """Refuses requests that do not carry a valid Restate request-identity token for their path.

    The check is the SDK's (``restate.app(identity_keys=...)``): header
    ``x-restate-signature-scheme: v1`` and an EdDSA JWT in ``x-restate-jwt-v1`` signed by one of
    the keys, with ``aud`` equal to the path (``/invoke/{service}/{handler}`` or ``/discover``,
    any mount prefix removed), ``exp``/``nbf`` honoured with no leeway. Unlike the SDK, each
    refusal says why (log, counter, response body). ``/health`` is never checked. Verified
    tokens are cached until they expire: Restate signs deterministically, so it sends the same
    token for every request to one path within a second.

    Args:
        app: The ASGI app to protect.
        identity_keys: ``publickeyv1_...`` keys; a token signed by any of them is accepted.
        permissive: Log and count failures, then let the request through.

    Raises:
        UsageValueError: no keys, or a malformed one.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        identity_keys: Sequence[str],
        permissive: bool = False,
        hooks: Sequence[Hooks] = (),
    ) -> None:
        if isinstance(identity_keys, str):
            identity_keys = [identity_keys]
        if not identity_keys:
            raise UsageValueError("IdentityGuard needs at least one identity key")
        self.app = app
        self._keys = tuple(parse_identity_key(key) for key in identity_keys)
        self._rejector = Rejector(permissive=permissive, hooks=hooks)
        self._verified: OrderedDict[bytes, _Claims] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind, audience = route(scope["path"])
        if kind == HEALTH:
            await self.app(scope, receive, send)
            return
        scheme = token = None
        for name, value in scope["headers"]:
            if name == _SCHEME:
                scheme = value
            elif name == _TOKEN:
                token = value
        failure = self._check(scheme, token, audience, scope)
        if failure is not None and await self._rejector.reject(failure[0], scope, send, failure[1]):
            return
        await self.app(scope, receive, send)

    def _check(
        self, scheme: bytes | None, token: bytes | None, audience: str, scope: Any
    ) -> _Failure | None:
        if scheme != b"v1":
            if scheme is None:
                return "identity.missing", ""
            if scheme == b"unsigned":
                return "identity.unsigned", ""
            return "identity.bad_scheme", f"x-restate-signature-scheme is {scheme[:32]!r}"
        if token is None:
            return "identity.malformed", "scheme v1 but no x-restate-jwt-v1 header"
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = self._verify(token)
            except _Refused as refused:
                return refused.failure
        exp, audiences = claims
        if exp <= time.time():
            return "identity.expired", f"the token expired at {exp} (Unix time)"
        if audience not in audiences:
            return "identity.wrong_path", f"the token is for {audiences[0][:100]!r}"
        scope[EXP_SCOPE_KEY] = exp
        return None

    def _verify(self, token: bytes) -> _Claims:
        for key in self._keys:
            try:
                payload = jwt.decode(token, key, algorithms=_ALGORITHMS, options=_OPTIONS)
            except jwt.InvalidSignatureError:
                continue  # perhaps the next key (rotation)
            except jwt.ExpiredSignatureError:
                raise _Refused("identity.expired") from None
            except jwt.ImmatureSignatureError:
                raise _Refused("identity.not_yet_valid") from None
            except jwt.InvalidTokenError as exc:
                raise _Refused("identity.malformed", str(exc)[:200]) from None
            claims = _claims(payload)
            with self._lock:
                self._verified[token] = claims
                if len(self._verified) > _CACHE_LIMIT:
                    self._verified.popitem(last=False)
            return claims
        raise _Refused("identity.unknown_key")


def _claims(payload: dict[str, Any]) -> _Claims:
    aud, exp = payload["aud"], payload["exp"]
    if isinstance(aud, str):
        audiences: tuple[str, ...] = (aud,)
    elif isinstance(aud, list) and aud and all(isinstance(item, str) for item in aud):
        audiences = tuple(aud)
    else:
        raise _Refused("identity.malformed", "aud is neither a string nor a list of strings")
    # PyJWT already refused an exp that int() cannot read.
    return int(exp), audiences
