"""Running one query: read-only guard, timeouts, the driver call. Pure coroutines: no UI.

Read-only (the default) is enforced by the server, never by reading the query text:
1. the server describes the query; if its capabilities include modifications, DDL or
   config, the query is refused before it is sent;
2. the query itself runs inside a read-only transaction, so even a capability the
   description missed is refused by the server.

A failure to connect inside the transaction reaches the caller as itself (authentication,
refused connection, cancellation), never as the driver's clean-up error that follows it
(``cleanup_error_root``).

Timeouts: the server's ``query_execution_timeout`` aborts long queries (``QueryTimeoutError``)
and a client-side bound (``timeout_s`` + grace) catches a stalled network. Cancelling the
awaiting task drops that connection; the pool reconnects (see FACTS.md).
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecc.driver.client import FirstConnectGate, QueryClient, QueryExecutor, QueryMethod, call_method
from ecc.driver.describe_cache import (
    DDL,
    MODIFICATIONS,
    PERSISTENT_CONFIG,
    SESSION_CONFIG,
    TRANSACTION,
    DescribeCache,
    describe,
)
from ecc.driver.errors import ServerPrivacy, input_error

_REFUSED_WHEN_READ_ONLY = {
    MODIFICATIONS: "modifies data (insert, update or delete)",
    DDL: "changes the schema (DDL)",
    SESSION_CONFIG: "changes session configuration",
    PERSISTENT_CONFIG: "changes server configuration (configure)",
    TRANSACTION: "controls transactions",
}


@dataclass(frozen=True)
class QueryRequest:
    """One query of a submission, as the driver will receive it."""

    name: str
    query: str
    method: QueryMethod = QueryMethod.QUERY
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    # What the user typed, kept for history and reloading the form.
    args_text: str = ""
    kwargs_text: str = ""
    # The branch the run is on (None: the connection's own) and the globals it applies with
    # the driver's ``with_globals`` (already checked against the operator's policy:
    # ecc/branches/globals_input.py); ``globals_text`` is how the status line shows them.
    branch: str | None = None
    globals: Mapping[str, Any] = field(default_factory=dict)
    globals_text: str = ""
    branch_shown: str = ""  # the branch's name as the page shows it (also the connection's)


@dataclass(frozen=True)
class ExecutionPolicy:
    read_only: bool = True
    timeout_s: float = 60.0
    # Rows of a many-method's top-level set the server may send (0: no bound). The page asks
    # for the rows a session keeps plus one, so it can say "more rows exist".
    implicit_limit: int = 0
    # Descriptions of this connection's queries (see ecc/driver/describe_cache.py); None: always
    # ask.
    describe_cache: DescribeCache | None = field(default=None, compare=False, repr=False)
    # The session's gate for its client's first connection (see ecc/driver/client.py); None: none.
    first_connect: FirstConnectGate | None = field(default=None, compare=False, repr=False)
    # Whether a run's error may say where the server is (show_connection).
    server_privacy: ServerPrivacy = field(default_factory=ServerPrivacy)

    def row_limit_for(self, method: QueryMethod) -> int:
        """The implicit limit sent with ``method`` (0: none): only a many-method's top-level
        set is bounded; a single result is one value."""
        return self.implicit_limit if method.returns_many else 0

    @property
    def client_bound_s(self) -> float:
        """The client-side bound: a little past the server's, so the server's message wins."""
        return self.timeout_s + max(1.0, self.timeout_s * 0.1)


class PhaseClock:
    """Where one run's time went, lap by lap: each ``lap(phase)`` adds the time since the
    previous lap (or ``restart``) to ``phase``. Used on the session's loop only."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def restart(self) -> None:
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = self.seconds.get(phase, 0.0) + (now - self._last)
        self._last = now


def refusal_reasons(capabilities: int) -> list[str]:
    return [text for bit, text in _REFUSED_WHEN_READ_ONLY.items() if capabilities & bit]


async def check_read_only(client: QueryClient, query: str,
                          cache: DescribeCache | None = None) -> None:
    """Refuse, before sending it, a query the server says would write or reconfigure.
    With ``cache``, a description of this exact text may come from it."""
    description = await describe(client, query, cache)
    reasons = refusal_reasons(description.capabilities)
    if reasons:
        raise input_error(
            "This console is read-only, and the server says this query "
            + " and ".join(reasons)
            + ". Nothing was run.",
            title="Refused: read-only mode",
            hint="An administrator can allow writes with read_only = false in [connections.gel].",
        )


async def execute(client: QueryClient, request: QueryRequest, policy: ExecutionPolicy,
                  clock: PhaseClock | None = None) -> Any:
    """Run one request and return the driver's raw result. Raises what the driver raises,
    ``TimeoutError`` past the client bound, or ``ConsoleInputError`` when refused.
    ``clock`` gets laps "describe" (the read-only guard) and "execute" (the server's work,
    connection acquisition included: the driver acquires lazily, at the first statement)."""
    clock = clock or PhaseClock()
    clock.restart()
    configured = client.with_config(
        query_execution_timeout=datetime.timedelta(seconds=policy.timeout_s)
    )
    if request.globals:
        # A clone sharing the pool (the driver's ``with_*``): the describe and the query both
        # run with them, in the same state.
        configured = configured.with_globals(dict(request.globals))
    cache = policy.describe_cache
    try:
        return await _execute(configured, request, policy, clock)
    except Exception as exc:
        import gel.errors

        if cache is not None and isinstance(exc, gel.errors.EdgeDBError):
            cache.discard(request.query)  # perhaps described against an older schema
        raise


async def _execute(configured: QueryClient, request: QueryRequest,
                   policy: ExecutionPolicy, clock: PhaseClock) -> Any:
    cache = policy.describe_cache
    async with asyncio.timeout(policy.client_bound_s):
        if policy.first_connect is not None:
            await policy.first_connect.pass_through(configured)
            clock.lap("execute")  # connecting counts as the server's part
        if not policy.read_only:
            written = await _call(configured, request, policy)
            clock.lap("execute")
            if cache is not None:
                cache.schema_may_have_changed(request.query)
            return written
        await check_read_only(configured, request.query, cache)
        clock.lap("describe")
        import gel  # heavy import kept where it is needed

        read_only = configured.with_transaction_options(gel.TransactionOptions(readonly=True))
        result: Any = None
        try:
            async for tx in read_only.transaction():
                async with tx:
                    result = await _call(tx, request, policy)
        except gel.errors.InterfaceError as exc:
            root = cleanup_error_root(exc)
            if root is None:
                raise
            raise root from None
        clock.lap("execute")
        return result


# gel 3.1's transaction clean-up (transaction.py ``_exit``) releases its connection even when
# acquiring it failed: the pool then refuses ``None`` with this InterfaceError, raised while the
# real failure (authentication, refused connection, cancellation) propagates, so the real one
# is only its ``__context__``.
_CLEANUP_MASK = "received invalid connection"


def cleanup_error_root(exc: BaseException) -> BaseException | None:
    """The failure the driver's transaction clean-up error hides, or None when ``exc`` is
    not that clean-up error. Follows ``__context__`` past nested clean-up errors."""
    import gel.errors

    root: BaseException = exc
    while (isinstance(root, gel.errors.InterfaceError) and _CLEANUP_MASK in str(root)
           and root.__context__ is not None):
        root = root.__context__
    return None if root is exc else root


async def _call(executor: QueryExecutor, request: QueryRequest, policy: ExecutionPolicy) -> Any:
    return await call_method(executor, request.method, request.query, request.args,
                             request.kwargs, implicit_limit=policy.row_limit_for(request.method))
