"""Idempotency keys: build them from business data, and check the ones handlers send.

Restate deduplicates calls and sends that carry an idempotency key. From inside a handler every
call is already deduplicated by the journal (a retry or replay never calls twice), so a key only
means something when it names a *business operation* that different invocations may attempt
("charge order 42"). A key derived from the current invocation (its id, or a uuid drawn with
`rea.uuid` in it) can never match another invocation's key: it is redundant.

Rules (see docs/idempotency.md):
- ``idempotency.malformed``: empty or blank, longer than `MAX_KEY_LENGTH`, or with control
  characters. Under WARN a well-formed key derived from it is sent instead (a blank one is
  dropped).
- ``idempotency.redundant``: the key contains the invocation id or a uuid drawn with `rea.uuid`
  in this invocation. Under WARN the key is sent unchanged: it is useless, not harmful.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import hashlib
import math
import unicodedata
import uuid
from typing import Any

import restate

from rea._invocation import current_state
from rea._policy import Policy, violation
from rea.errors import UsageTypeError, UsageValueError

__all__ = ["MAX_KEY_LENGTH", "check_key", "idempotency_key"]

#: Longest key `idempotency_key` builds and `check_key` accepts. Restate sets no small limit, but
#: keys travel in every call, in logs and in the ``idempotency-key`` ingress header: 256 keeps
#: them readable and far below header limits, and leaves room for a few ids plus a digest.
MAX_KEY_LENGTH = 256
#: Parts longer than this are shortened to a prefix and a digest of the whole part.
MAX_PART_LENGTH = 64
#: Characters kept of a long part: enough for a leading uuid (36) or invocation id (38), so
#: `check_key` still sees it.
_PART_PREFIX = 40
_DIGEST_CHARS = 32  # 128 bits of sha256: collisions are not a practical concern

SEPARATOR = ":"
ESCAPE = "%"
# After ESCAPE an escaped character always has two hex digits, so these markers ("%#" before a
# part's digest, "%*" before the whole key's) never occur in escaped text: no collisions.
_PART_DIGEST = ESCAPE + "#"
_KEY_DIGEST = ESCAPE + "*"

_INVOCATION_PREFIX = "inv_"


def _is_control(char: str) -> bool:
    # Cc: C0, DEL and C1 controls; Cs: lone surrogates, which cannot even be encoded as UTF-8.
    return unicodedata.category(char) in ("Cc", "Cs")


def _escape(text: str) -> str:
    # Percent-encoding of the separator, the escape character and control characters, byte by
    # byte in UTF-8: injective, and readable for the plain ids that make up most keys.
    out: list[str] = []
    for char in text:
        if char in (SEPARATOR, ESCAPE) or _is_control(char):
            out.extend(f"{ESCAPE}{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            out.append(char)
    return "".join(out)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_DIGEST_CHARS]


def _text(part: object) -> str:
    """The stable text of one key part.

    Raises:
        ValueError: the part is None, blank, or a float that is not finite.
        TypeError: its type has no text that is stable across processes.
    """
    if part is None:
        raise UsageValueError("an idempotency key part must not be None")
    if isinstance(part, enum.Enum):
        # Before str/int: str() of a (str, Enum) member is "Cls.NAME", which is not the value.
        return _text(part.value)
    if isinstance(part, str):
        text = part
    elif isinstance(part, int | uuid.UUID | decimal.Decimal):
        text = str(part)
    elif isinstance(part, float):
        if not math.isfinite(part):
            raise UsageValueError(f"an idempotency key part must be a finite number, not {part!r}")
        text = repr(part)  # shortest round-trip form: the same on every CPython 3
    elif isinstance(part, dt.date | dt.time):
        text = part.isoformat()
    else:
        # str() of most objects falls back to a repr with a memory address, different in every
        # process: a key built from it would never dedupe anything.
        raise UsageTypeError(
            f"cannot build an idempotency key from a {type(part).__name__}; pass str, int, "
            "UUID, Enum, Decimal, float or date/time values (or str(x) if its text is stable)"
        )
    if not text.strip():
        raise UsageValueError("an idempotency key part must not be empty or blank")
    return text


def _part(part: object) -> str:
    text = _text(part)
    if len(text) > MAX_PART_LENGTH:
        return _escape(text[:_PART_PREFIX]) + _PART_DIGEST + _digest(text)
    return _escape(text)


def _bounded(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    cut = MAX_KEY_LENGTH - len(_KEY_DIGEST) - _DIGEST_CHARS
    while ESCAPE in key[cut - 2 : cut]:  # never cut an escape sequence in half
        cut -= 1
    return key[:cut] + _KEY_DIGEST + _digest(key)


def idempotency_key(*parts: object) -> str:
    """A well-formed idempotency key made of `parts`, the same in every process and version.

    Parts are joined with ``:``; ``:``, ``%`` and control characters inside a part are
    percent-escaped, so different parts never give the same key (``("a:b", "c")`` and
    ``("a", "b:c")`` differ). A part longer than 64 characters becomes its first 40 characters,
    ``%#`` and a sha256 digest; a key longer than `MAX_KEY_LENGTH` is shortened the same way.
    Parts compare by their text: ``42`` and ``"42"`` give the same key.

    Args:
        parts: str, int, UUID, Enum (its value), Decimal, finite float, date, time or datetime.

    Returns:
        A key that `check_key` accepts as well-formed.

    Raises:
        ValueError: no parts, or a part that is None, empty or blank.
        TypeError: a part of another type (its text may change between processes).
    """
    if not parts:
        raise UsageValueError("idempotency_key() needs at least one part")
    return _bounded(SEPARATOR.join(_part(part) for part in parts))


def _show(key: str) -> str:
    return repr(key if len(key) <= 80 else key[:77] + "...")


def _malformation(key: str) -> str | None:
    if not key.strip():
        return "is empty" if not key else "is blank"
    if len(key) > MAX_KEY_LENGTH:
        return f"is {len(key)} characters long, more than {MAX_KEY_LENGTH}"
    if any(_is_control(char) for char in key):
        return "contains control characters"
    return None


def _invocation_id(ctx: object | None) -> str | None:
    # Any object may come in (a test double, an SDK context of another kind): read defensively.
    request = getattr(ctx, "request", None) if ctx is not None else None
    if not callable(request):
        return None
    try:
        value: Any = getattr(request(), "id", None)
    except Exception:  # a context that cannot describe its request has no id to compare
        return None
    return value if isinstance(value, str) and value else None


def _derived_from(key: str, ctx: object | None) -> str | None:
    """What of the current invocation `key` contains, if anything."""
    invocation = _invocation_id(ctx)
    if invocation is not None:
        body = invocation.removeprefix(_INVOCATION_PREFIX)
        # The id without "inv_" is still ~34 random characters: no business key contains it.
        if invocation in key or (len(body) >= 16 and body in key):
            return f"the invocation id {invocation}"
    state = current_state()
    if state is not None and state.drawn_uuids:
        lowered = key.lower()
        for drawn in state.drawn_uuids:
            # str(uuid), uuid.hex and their upper-case forms all count.
            if drawn.lower() in lowered or drawn.replace("-", "").lower() in lowered:
                return f"the uuid {drawn} drawn with rea.uuid() in this invocation"
    return None


def check_key(key: str | None, *, ctx: restate.Context | None, target: str) -> str | None:
    """Check an idempotency key about to be sent from a handler; return the key to send.

    Every outgoing call rea makes from a handler passes its key through here. Business keys
    ("order-42:charge") pass unchanged; only malformed and invocation-derived keys are reported.

    Args:
        key: The key the caller gave, or None.
        ctx: The handler's context, to read the invocation id from (None: outside a handler,
            nothing to compare).
        target: What is called, e.g. ``"Orders/create"``, for the messages.

    Returns:
        None for no key; else the key, or under WARN a well-formed replacement for a malformed
        one (None for an empty or blank key). Under DISABLED the key is sent as given.

    Raises:
        PolicyViolation: under STRICT, rule ``idempotency.malformed`` or
            ``idempotency.redundant``.
        TypeError: `key` is not a str.
    """
    if key is None:
        return None
    if not isinstance(key, str):
        raise UsageTypeError(f"an idempotency key must be a str, not {type(key).__name__}")
    problem = _malformation(key)
    if problem is not None:
        applied = violation(
            "idempotency.malformed",
            f"the idempotency key {_show(key)} for {target} {problem}",
            fix="build keys with rea.idempotency_key(*parts) from the business data that "
            "identifies the operation, e.g. rea.idempotency_key('order', order_id, 'charge')",
        )
        if applied is Policy.WARN:
            # Derived from the bad key, so equal bad keys still dedupe together; a blank key
            # carries nothing to derive from (and usually means a missing field): drop it.
            key = idempotency_key(key) if key.strip() else None
            if key is None:
                return None
    derived = _derived_from(key, ctx)
    if derived is not None:
        # A key unique to this invocation can never match another invocation's key, so it only
        # dedupes within this invocation, which the journal already does.
        violation(
            "idempotency.redundant",
            f"the idempotency key {_show(key)} for {target} contains {derived}; calls from a "
            "handler are deduplicated by the journal, so this key can never deduplicate anything",
            fix="drop the key: calls from a handler are deduplicated by the journal; use a "
            "business key (rea.idempotency_key('order', order_id, 'charge')) only when "
            "different invocations must not repeat the same operation",
        )
    return key
