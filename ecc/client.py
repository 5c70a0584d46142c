"""The database client boundary: the protocol the console needs, and its real factory.

``QueryClient`` is what ``ecc`` calls; ``gel.AsyncIOClient`` satisfies it, and so does the
shipped fake in ``ecc.testing``. Nothing else in ``ecc`` touches the driver's client.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from ecc.config import ConnectionSettings


class Cardinality(enum.Enum):
    MANY = "many"
    AT_MOST_ONE = "at most one"
    EXACTLY_ONE = "exactly one"


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
        base = {
            Cardinality.MANY: "query",
            Cardinality.AT_MOST_ONE: "query_single",
            Cardinality.EXACTLY_ONE: "query_required_single",
        }[cardinality]
        return cls(base + ("_json" if as_json else ""))

    @property
    def returns_json(self) -> bool:
        return self.value.endswith("_json")

    @property
    def returns_many(self) -> bool:
        return self in (QueryMethod.QUERY, QueryMethod.QUERY_JSON)


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
    def with_transaction_options(self, options: Any = None) -> QueryClient: ...
    def transaction(self) -> AsyncIterator[Transaction]: ...
    async def _describe_query(self, query: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class ClientOptions:
    connect_wait_s: float
    connect_timeout_s: float


def create_gel_client(connection: ConnectionSettings, options: ClientOptions) -> QueryClient:
    """A lazy ``gel`` async client: nothing connects until the first query.

    Must be called on the loop that will use it (the pool binds to the first loop using it).
    With no connection settings the driver falls back to its GEL_*/EDGEDB_* environment.
    """
    import gel  # heavy import kept where it is needed

    client: QueryClient = gel.create_async_client(
        **connection.driver_kwargs(),
        wait_until_available=max(0, round(options.connect_wait_s)),
        timeout=max(1, round(options.connect_timeout_s)),
    )
    return client
