"""IdentityGuard: Restate's v1 request identity, with a reason for every refusal."""

from __future__ import annotations

import logging
import time

import jwt
import pytest

from rea.errors import UsageValueError
from rea.security import IdentityGuard, rejection_counts
from rea.security import _identity as identity_module
from rea.security._identity import EXP_SCOPE_KEY
from tests.security.helpers import Echo, Signer, call, signed


def guard(*signers: Signer, permissive: bool = False) -> tuple[IdentityGuard, Echo]:
    app = Echo()
    keys = [s.public_key for s in signers]
    return IdentityGuard(app, identity_keys=keys, permissive=permissive), app


async def test_signed_request_reaches_the_app(signer: Signer) -> None:
    """A request signed for its path passes, and the token's expiry is left in the scope."""
    g, app = guard(signer)
    result = await call(g, headers=signer.headers("/invoke/Svc/greet"), body=b"hi")
    assert (result.status, result.body, app.calls) == (200, b"ok", 1)
    assert app.bodies == [b"hi"]
    assert app.scopes[0][EXP_SCOPE_KEY] > time.time()
    assert rejection_counts() == {}


async def test_mount_prefix_and_discover(signer: Signer) -> None:
    """The audience is the path without a mount prefix, as the SDK normalizes it."""
    g, app = guard(signer)
    assert (await call(g, path="/x/y/invoke/Svc/greet", headers=signer.headers())).status == 200
    assert (await call(g, path="/discover", headers=signer.headers("/discover"))).status == 200
    assert (await call(g, path="/a/discover", headers=signer.headers("/discover"))).status == 200
    assert app.calls == 3


async def test_health_is_never_checked(signer: Signer) -> None:
    """/health (also under a prefix) passes without any header."""
    g, app = guard(signer)
    assert (await call(g, path="/health")).status == 200
    assert (await call(g, path="/restate/health")).status == 200
    assert app.calls == 2
    assert rejection_counts() == {}


async def test_non_http_scopes_pass_through(signer: Signer) -> None:
    """Lifespan events reach the app untouched."""
    g, _app = guard(signer)
    sent: list[dict[str, str]] = []

    async def receive() -> dict[str, str]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    await g({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}]


@pytest.mark.parametrize(
    ("reason", "headers"),
    [
        ("identity.missing", []),
        ("identity.unsigned", [(b"x-restate-signature-scheme", b"unsigned")]),
        ("identity.bad_scheme", [(b"x-restate-signature-scheme", b"v2")]),
        ("identity.malformed", [(b"x-restate-signature-scheme", b"v1")]),
        ("identity.malformed", signed("abc.def.ghi")),
        ("identity.malformed", signed("not a token")),
    ],
)
async def test_refusals_without_a_usable_token(
    signer: Signer, reason: str, headers: list[tuple[bytes, bytes]]
) -> None:
    """Each missing or unusable signature is a 401 naming its reason, and the app never runs."""
    g, app = guard(signer)
    result = await call(g, headers=headers)
    assert result.status == 401
    assert reason in result.text
    assert app.calls == 0
    assert rejection_counts() == {reason: 1}


async def test_token_signed_by_another_key(signer: Signer, other_signer: Signer) -> None:
    """A signature no configured key verifies is identity.unknown_key."""
    g, app = guard(signer)
    result = await call(g, headers=other_signer.headers())
    assert (result.status, app.calls) == (401, 0)
    assert rejection_counts() == {"identity.unknown_key": 1}


async def test_expired_not_yet_valid_and_wrong_path(signer: Signer) -> None:
    """Expiry and not-before are enforced with no leeway; aud must be this path."""
    g, app = guard(signer)
    now = time.time()
    expired = signer.headers(now=now - 120)  # exp one minute ago
    just_expired = signer.headers(now=now - 60)  # exp == now: expired (leeway 0)
    early = signer.headers(now=now + 120)  # nbf one minute ahead
    other_path = signer.headers("/invoke/Svc/other")
    for headers, reason in [
        (expired, "identity.expired"),
        (just_expired, "identity.expired"),
        (early, "identity.not_yet_valid"),
        (other_path, "identity.wrong_path"),
    ]:
        result = await call(g, headers=headers)
        assert result.status == 401, reason
        assert reason in result.text
    assert app.calls == 0
    assert rejection_counts() == {
        "identity.expired": 2,
        "identity.not_yet_valid": 1,
        "identity.wrong_path": 1,
    }


async def test_discover_token_cannot_invoke(signer: Signer) -> None:
    """A token issued for /discover is refused on an invoke path (the SDK's own finding)."""
    g, _ = guard(signer)
    result = await call(g, headers=signer.headers("/discover"))
    assert result.status == 401
    assert rejection_counts() == {"identity.wrong_path": 1}


@pytest.mark.parametrize("missing", ["aud", "exp", "iat", "nbf"])
async def test_required_claims(signer: Signer, missing: str) -> None:
    """aud, exp, iat and nbf are all required."""
    g, _ = guard(signer)
    result = await call(g, headers=signed(signer.token(omit=[missing])))
    assert result.status == 401
    assert rejection_counts() == {"identity.malformed": 1}


async def test_other_algorithms_are_refused(signer: Signer) -> None:
    """Only EdDSA: an HMAC token keyed with the public key string is not accepted."""
    g, _ = guard(signer)
    forged = signer.token(algorithm="HS256", key=signer.public_key.encode() * 2)
    result = await call(g, headers=signed(forged))
    assert result.status == 401
    assert rejection_counts() == {"identity.malformed": 1}


async def test_bad_audience_type(signer: Signer) -> None:
    """An aud that is neither a string nor a list of strings is malformed."""
    g, _ = guard(signer)
    assert (await call(g, headers=signed(signer.token(aud=[])))).status == 401  # type: ignore[arg-type]
    assert rejection_counts() == {"identity.malformed": 1}


async def test_audience_list(signer: Signer) -> None:
    """An aud list containing this path is accepted, as JWT audiences may be lists."""
    g, _ = guard(signer)
    token = signer.token(aud=["/discover", "/invoke/Svc/greet"])
    assert (await call(g, headers=signed(token))).status == 200


async def test_issued_at_in_the_future_is_not_checked(signer: Signer) -> None:
    """Like the SDK, iat is required but not compared with the clock (server a bit ahead)."""
    g, _ = guard(signer)
    now = int(time.time())
    token = signer.token(iat=now + 5, nbf=now - 55, exp=now + 65)
    assert (await call(g, headers=signed(token))).status == 200


async def test_rotation(signer: Signer, other_signer: Signer) -> None:
    """With two keys either signer passes; without the old key its tokens are refused."""
    both, app = guard(signer, other_signer)
    assert (await call(both, headers=signer.headers())).status == 200
    assert (await call(both, headers=other_signer.headers())).status == 200
    assert app.calls == 2
    new_only, _ = guard(other_signer)
    assert (await call(new_only, headers=other_signer.headers())).status == 200
    assert (await call(new_only, headers=signer.headers())).status == 401
    assert rejection_counts() == {"identity.unknown_key": 1}


async def test_expired_and_wrong_path_after_caching(
    signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached token is refused once it expires, and on any path but its own."""
    g, app = guard(signer)
    now = time.time()
    headers = signer.headers(now=now)
    assert (await call(g, headers=headers)).status == 200
    assert (await call(g, path="/invoke/Svc/other", headers=headers)).status == 401
    monkeypatch.setattr(identity_module.time, "time", lambda: now + 61)
    result = await call(g, headers=headers)
    assert result.status == 401
    assert "identity.expired" in result.text
    assert app.calls == 1
    assert rejection_counts() == {"identity.wrong_path": 1, "identity.expired": 1}


async def test_verification_is_cached(signer: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same token twice is verified once: the steady state is a dict lookup."""
    g, _ = guard(signer)
    decodes = 0
    real = jwt.decode

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal decodes
        decodes += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(identity_module.jwt, "decode", counting)
    headers = signer.headers()
    for _ in range(5):
        assert (await call(g, headers=headers)).status == 200
    assert decodes == 1


async def test_permissive_logs_counts_and_lets_through(
    signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    """In permissive mode a bad request is logged and counted, then served."""
    g, app = guard(signer, permissive=True)
    with caplog.at_level(logging.WARNING, logger="rea.security"):
        result = await call(g, headers=signer.headers("/invoke/Svc/other"))
    assert (result.status, app.calls) == (200, 1)
    assert rejection_counts() == {"identity.wrong_path": 1}
    assert "let through: permissive mode" in caplog.text


async def test_log_line_names_reason_path_and_client_never_the_token(
    signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    """One WARNING on rea.security per refusal, with reason, path and client, without the token."""
    g, _ = guard(signer)
    token = signer.token(now=time.time() - 300)
    with caplog.at_level(logging.WARNING, logger="rea.security"):
        await call(g, headers=signed(token), client=("10.1.2.3", 5555))
    records = [r for r in caplog.records if r.name == "rea.security"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert records[0].levelno == logging.WARNING
    assert "[identity.expired]" in message
    assert "/invoke/Svc/greet" in message
    assert "10.1.2.3:5555" in message
    assert "refused with 401" in message
    assert token not in message
    assert token.split(".")[2] not in caplog.text


def test_keys_are_required_and_validated() -> None:
    """No key, or a malformed one, is a usage error at construction."""
    with pytest.raises(UsageValueError, match="at least one"):
        IdentityGuard(Echo(), identity_keys=[])
    with pytest.raises(UsageValueError, match="publickeyv1_"):
        IdentityGuard(Echo(), identity_keys=["nope"])


async def test_single_key_string(signer: Signer) -> None:
    """A single key given as a string is one key, not its characters."""
    g = IdentityGuard(Echo(), identity_keys=signer.public_key)
    assert (await call(g, headers=signer.headers())).status == 200


async def test_cache_stays_bounded(signer: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    """More distinct verified tokens than the cache holds drop the oldest."""
    monkeypatch.setattr(identity_module, "_CACHE_LIMIT", 3)
    g, _ = guard(signer)
    for i in range(6):
        assert (await call(g, headers=signed(signer.token(jti=str(i))))).status == 200
    assert len(g._verified) == 3


def test_key_of_the_wrong_length_is_refused() -> None:
    """An identity key string must decode to 32 bytes."""
    with pytest.raises(UsageValueError, match="32"):
        IdentityGuard(Echo(), identity_keys=["publickeyv1_abc"])
