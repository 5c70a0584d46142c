"""The database client boundary: the protocol the console needs, and its real factory.

``QueryClient`` is what ``ecc`` calls; ``gel.AsyncIOClient`` satisfies it, and so does the
shipped fake in ``ecc.fake.client``. Nothing else in ``ecc`` touches the driver's client.
"""

from __future__ import annotations

import asyncio
import enum
import functools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ecc.settings.config import ConnectionSettings


class Cardinality(enum.Enum):
    """What a query's result may hold; the value is the form's label for it."""

    MANY = "many"
    AT_MOST_ONE = "at most one"
    EXACTLY_ONE = "exactly one"


# The one map between a cardinality and the driver's method name (without ``_json``).
_METHOD_BASE = {
    Cardinality.MANY: "query",
    Cardinality.AT_MOST_ONE: "query_single",
    Cardinality.EXACTLY_ONE: "query_required_single",
}


class QueryMethod(enum.Enum):
    """The driver's six query methods. Value = the method name on the client."""

    QUERY = "query"
    QUERY_SINGLE = "query_single"
    QUERY_REQUIRED_SINGLE = "query_required_single"
    QUERY_JSON = "query_json"
    QUERY_SINGLE_JSON = "query_single_json"
    QUERY_REQUIRED_SINGLE_JSON = "query_required_single_json"

    @classmethod
    def pick(cls, cardinality: Cardinality, as_json: bool) -> QueryMethod:
        return cls(_METHOD_BASE[cardinality] + ("_json" if as_json else ""))

    @property
    def cardinality(self) -> Cardinality:
        """The cardinality this method asks for (``pick``'s inverse, with ``returns_json``)."""
        base = self.value.removesuffix("_json")
        return next(c for c, name in _METHOD_BASE.items() if name == base)

    @property
    def returns_json(self) -> bool:
        return self.value.endswith("_json")

    @property
    def returns_many(self) -> bool:
        return self.cardinality is Cardinality.MANY


class QueryExecutor(Protocol):
    """What a client and a transaction both offer (the six query methods)."""

    async def query(self, query: str, *args: Any, **kwargs: Any) -> Any: ...
    async def query_single(self, query: str, *args: Any, **kwargs: Any) -> Any: ...
    async def query_required_single(self, query: str, *args: Any, **kwargs: Any) -> Any: ...
    async def query_json(self, query: str, *args: Any, **kwargs: Any) -> str: ...
    async def query_single_json(self, query: str, *args: Any, **kwargs: Any) -> str: ...
    async def query_required_single_json(self, query: str, *args: Any, **kwargs: Any) -> str: ...


class Transaction(QueryExecutor, Protocol):
    async def __aenter__(self) -> Transaction: ...
    async def __aexit__(self, *exc: object) -> bool | None: ...


class QueryClient(QueryExecutor, Protocol):
    """The subset of ``gel.AsyncIOClient`` the console uses."""

    async def ensure_connected(self) -> Any: ...
    async def aclose(self) -> None: ...
    def terminate(self) -> None: ...
    def is_closed(self) -> bool: ...
    def with_config(self, *args: Any, **config: Any) -> QueryClient: ...
    def with_globals(self, *args: Any, **globals_: Any) -> QueryClient: ...
    def with_transaction_options(self, options: Any = None) -> QueryClient: ...
    def transaction(self) -> AsyncIterator[Transaction]: ...
    async def _describe_query(self, query: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class ClientOptions:
    connect_wait_s: float
    connect_timeout_s: float
    # The pool's size: what the session may run at once (max_running) plus one for the page's
    # own describe/introspection. None: the server's suggested_pool_concurrency (unbounded
    # by the console).
    max_concurrency: int | None = None


def create_gel_client(connection: ConnectionSettings, options: ClientOptions) -> QueryClient:
    """A lazy ``gel`` async client: nothing connects until the first query.

    Must be called on the loop that will use it (the pool binds to the first loop using it).
    With no connection settings the driver falls back to its GEL_*/EDGEDB_* environment.
    """
    import gel  # heavy import kept where it is needed

    # Seconds as given: gel 3.1 annotates both ``int`` but parses and uses floats (con_utils'
    # ClientConfiguration); rounding made connect_wait_s = 0.5 wait 0 s.
    seconds: dict[str, Any] = {
        "wait_until_available": max(0.0, float(options.connect_wait_s)),
        "timeout": float(options.connect_timeout_s),
    }
    client: QueryClient = gel.create_async_client(
        **connection.driver_kwargs(), max_concurrency=options.max_concurrency, **seconds)
    return client


# --- the protocol's implicit limit ----------------------------------------------------------
# gel 3.1 has no public argument for the implicit row limit the Gel CLI and UI send (limit + 1
# rows, so they can say "more"). Without it the driver materialises the whole result before the
# console can cut it. The driver's own methods build a ``QueryContext`` and lower it to a
# protocol ``ExecuteContext`` just before sending; the subclass below lowers it the same way with
# ``implicit_limit`` set. Invariant: the fields passed are exactly those of
# ``gel.abstract.QueryContext.lower`` in gel 3.1; a test lowers one against the installed
# driver and compares every field.


async def call_method(
    executor: QueryExecutor,
    method: QueryMethod,
    query: str,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    implicit_limit: int = 0,
) -> Any:
    """Call one of the six methods. With ``implicit_limit > 0`` the server sends at most that
    many rows of the top-level set (the driver's executors, and the shipped fake)."""
    if implicit_limit > 0:
        limited = getattr(executor, "query_with_implicit_limit", None)  # the shipped fake
        if limited is not None:
            return await limited(method.value, implicit_limit, query, *args, **kwargs)
        import gel.abstract

        if isinstance(executor, gel.abstract.AsyncIOReadOnlyExecutor):
            driver: Any = executor
            context = limited_query_context(driver, method, query, args, kwargs, implicit_limit)
            return await driver._query(context)
    return await getattr(executor, method.value)(query, *args, **dict(kwargs))


def limited_query_context(executor: Any, method: QueryMethod, query: str,
                          args: tuple[Any, ...], kwargs: Mapping[str, Any],
                          implicit_limit: int) -> Any:
    """The ``QueryContext`` the driver's ``method`` would build, lowered with the limit."""
    import gel.abstract as abstract

    options = getattr(abstract, f"_{method.value}_opts")
    return _limited_context_class(implicit_limit)(
        query=abstract.QueryWithArgs(query, tuple(args), dict(kwargs)),
        cache=executor._get_query_cache(),
        query_options=options,
        retry_options=executor._get_retry_options(),
        state=executor._get_state(),
        transaction_options=executor._get_active_tx_options(),
        warning_handler=executor._get_warning_handler(),
        annotations=executor._get_annotations(),
    )


@functools.cache
def _limited_context_class(implicit_limit: int) -> type:
    import gel.abstract as abstract
    from gel.protocol import protocol

    class LimitedQueryContext(abstract.QueryContext):
        __slots__ = ()

        def lower(self, *, allow_capabilities: Any) -> Any:
            return protocol.ExecuteContext(
                query=self.query.query,
                args=self.query.args,
                kwargs=self.query.kwargs,
                reg=self.cache.codecs_registry,
                qc=self.cache.query_cache,
                input_language=self.query.input_language,
                output_format=self.query_options.output_format,
                expect_one=self.query_options.expect_one,
                required_one=self.query_options.required_one,
                implicit_limit=implicit_limit,
                allow_capabilities=allow_capabilities,
                state=self.state.as_dict() if self.state else None,
                annotations=self.annotations,
                transaction_options=self.transaction_options,
            )

    return LimitedQueryContext


# --- the first connection: one attempt at a time, its outcome shared ----------------------------
class FirstConnectGate:
    """Until a client has connected once, its first connection is one attempt at a time whose
    outcome every caller waiting on it shares.

    Why: gel 3.1's pool makes its first connection one caller at a time (a single holder and
    a first-connect lock), each waiting up to ``wait_until_available``. A run started while
    another task (the page's schema read) was connecting to a server that is down waited for
    that attempt to fail, then made its own: 8.9 s to report with ``connect_wait_s = 5``. Through
    the gate, it gets the attempt under way's answer.

    Invariant: after one success the gate is a no-op (the driver's ``ensure_connected`` is
    never called while queries may hold the pool's connections). Used on one event loop."""

    def __init__(self) -> None:
        self.connected = False
        self.attempts = 0  # connection attempts started (each one ``ensure_connected``)
        self._attempt: asyncio.Future[Any] | None = None

    def reset(self) -> None:
        """For a new client: it has not connected yet."""
        self.connected = False
        self._attempt = None

    async def pass_through(self, client: QueryClient) -> None:
        if self.connected:
            return
        if self._attempt is None or self._attempt.done():
            self.attempts += 1
            self._attempt = asyncio.ensure_future(client.ensure_connected())
            # Retrieved here so that an attempt whose waiters were all cancelled is not
            # logged as "exception never retrieved".
            self._attempt.add_done_callback(_retrieve)
        # Shielded: one waiter's cancellation (its bound, the user) leaves the attempt to the
        # others.
        await asyncio.shield(self._attempt)
        self.connected = True


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
