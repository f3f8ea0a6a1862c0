"""Clients of Restate's ingress, for code outside handlers: `IngressClient` and its sync twin.

```python
async with rea.IngressClient("http://localhost:8080", admin_url="http://localhost:9070") as c:
    receipt = await c.service(charge).call(order, idempotency_key="order-42")   # a Receipt
    sent = await c.object(add).send("counter-1", 5, delay="10s")              # a SendResult
    await c.workflow(signup).submit("user-7", form)
    done = await c.workflow(signup).output("user-7")          # Output(ready=False) until it ends
```

`SyncIngressClient` has the same methods without ``await``. Both share one sans-IO core
(`_protocol` builds requests and parses responses), and send through rea's one HTTP core
(`rea._http`, the admin clients' too: retries, error typing, the ``ingress.inside_handler``
guard run by every exchange).

Errors (all `rea.RestateError`s, with the same attributes as the admin client's)::

    IngressError                  status, code, restate_code, message, metadata, source, ...
    ├── InvocationFailed          the handler ended with a terminal error (source "invocation")
    ├── IngressRejected           Restate refused the request; nothing ran
    │   ├── UnknownTarget         404: no such service, handler, invocation or idempotency key
    │   ├── BadRequest            400: malformed request (content type, id, delay...)
    │   │   └── NotPublic         the handler is private to the ingress
    │   └── AlreadyInvoked        409: the workflow id already ran (from `workflow(...).call`)
    ├── IngressUnavailable        no answer (also a `rea.RestateUnavailable`): connection
    │                             refused or reset, timeout, 502/503/504
    └── InvalidResponse           a success response that does not fit the output type

A request that got no answer is retried (``retries=2``, 50 ms backoff doubling) when nothing
reached Restate (no connection could be made), and after any other failure when repeating it
is safe: reads (attach, output), awakeable completions (the first one wins), cancels, workflow
submits (the id deduplicates them) and anything with an idempotency key. A call or send without
a key that may have reached Restate is never repeated: it may have started a run.
"""

from rea.ingress._client import IngressClient, SyncIngressClient
from rea.ingress._core import Async, Output, SendResult, Sync
from rea.ingress._errors import (
    AlreadyInvoked,
    BadRequest,
    IngressError,
    IngressRejected,
    IngressUnavailable,
    InvalidResponse,
    InvocationFailed,
    NotPublic,
    UnknownTarget,
)
from rea.ingress._facades import (
    CallOptions,
    IngressObject,
    IngressService,
    SendOptions,
    SubmitOptions,
)
from rea.ingress._protocol import parse_duration
from rea.ingress._workflow import IngressWorkflow

__all__ = [
    "AlreadyInvoked",
    "Async",
    "BadRequest",
    "CallOptions",
    "IngressClient",
    "IngressError",
    "IngressObject",
    "IngressRejected",
    "IngressService",
    "IngressUnavailable",
    "IngressWorkflow",
    "InvalidResponse",
    "InvocationFailed",
    "NotPublic",
    "Output",
    "SendOptions",
    "SendResult",
    "SubmitOptions",
    "Sync",
    "SyncIngressClient",
    "UnknownTarget",
    "parse_duration",
]
