"""A fake ``QueryClient`` shipped with the engine (like httpx's ``MockTransport``).

It answers with the driver's real datatypes and raises real ``gel.errors`` classes, and it
behaves like the driver where the console depends on it:
- it binds to the event loop that first uses it (the real pool does; a second loop raises);
- the single-result methods check cardinality as the driver does (``NoDataError``,
  ``InterfaceError`` for many rows through ``query_single``);
- positional and named arguments together raise the server's ``QueryError``;
- ``_describe_query`` reports capabilities (the *server's* job: this fake emulates it with a
  keyword rule; the console itself never reads query text to decide);
- a read-only transaction refuses writes with the server's ``TransactionError``, and a
  connection that fails inside one surfaces as the driver's clean-up ``InterfaceError``
  chained to it (``FakeTransaction``);
- ``analyze`` answers as a 5.8 server does per method: the plan document as a ``str``
  (``query`` a one-item list of it), and through the JSON methods the document itself as the
  JSON text (not a JSON array, not a JSON string);
- the parser refuses a reserved keyword written as a bare name (``select Global``,
  ``count(Module)``) with the server's ``EdgeQLSyntaxError`` (``syntax_error``);
- cancelling a query drops its connection (``in_flight`` goes back down);
- ``with_globals`` returns a clone carrying the globals (recorded per call in
  ``stats.globals_seen``), and ``select global name`` answers the value set, else nothing;
- one client is on one branch (``branch``); ``ecc.fake.branches`` builds clients per branch
  that list the branches as a 5.8 (or a Gel 6) server does and serve different data per branch.

A responder may return an awaitable: it is awaited as the server's answer, so a test can
hold a query running (an ``asyncio.Event``) or make the server never answer.

Used by the tests, the benchmarks and, through the test-only ``fake_client`` setting, by the
browser tests. Queries it does not know raise ``InvalidReferenceError`` as a server would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import decimal
import inspect
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gel
import gel.errors
from gel.datatypes import datatypes as dt

from ecc.branches import catalog
from ecc.fake import schema as fake_schema
from ecc.fake.schema import introspection_answer
from ecc.schema import introspect
from ecc.schema.introspect import is_introspection_query
from ecc.schema.model import SchemaModel

Responder = Callable[[str, tuple[Any, ...], dict[str, Any]], Any]
SLEEP_RE = re.compile(r"sys::_sleep\(\s*(\d+(?:\.\d+)?)\s*\)")
_WRITE_RE = re.compile(r"^\s*(?:with\b.*?\b)?(insert|update|delete)\b", re.I | re.S)
_DDL_RE = re.compile(r"^\s*(create|alter|drop|start\s+migration|commit\s+migration)\b", re.I)
_CONFIG_RE = re.compile(r"^\s*configure\s+(session|current\s+(branch|database)|instance)", re.I)
_ANALYZE_RE = re.compile(r"^\s*analyze\s+", re.I)
_GLOBAL_RE = re.compile(r"^\s*select\s+global\s+([\w:]+)\s*;?\s*$", re.I)
_TX_RE = re.compile(r"^\s*(start\s+transaction|commit|rollback|declare\s+savepoint)\b", re.I)


@dataclass
class FakeStats:
    """Counters shared by a client and its ``with_*`` clones (they share the 'pool')."""

    calls: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    describes: int = 0
    connects: int = 0  # ensure_connected() calls (a connection attempt's own round trip)
    in_flight: int = 0
    max_in_flight: int = 0
    cancelled: int = 0
    transactions: int = 0
    closed: bool = False
    terminated: bool = False
    loop: asyncio.AbstractEventLoop | None = None
    configs: list[dict[str, Any]] = field(default_factory=list)
    # (query, implicit limit asked for; 0: none), per completed call
    implicit_limits: list[tuple[str, int]] = field(default_factory=list)
    # The globals each query call ran with (``with_globals``), in call order.
    globals_seen: list[dict[str, Any]] = field(default_factory=list)


class FakeClient:
    """Implements ``ecc.driver.client.QueryClient``."""

    def __init__(
        self,
        responder: Responder | Mapping[str, Any] | None = None,
        *,
        latency_s: float = 0.0,
        connect_error: BaseException | None = None,
        capabilities: Mapping[str, int] | None = None,
        input_types: Mapping[str, Any] | None = None,
        describe_delay_s: float = 0.0,
        _stats: FakeStats | None = None,
        _config: Mapping[str, Any] | None = None,
        _readonly: bool = False,
        branch: str | None = None,
        _globals: Mapping[str, Any] | None = None,
    ) -> None:
        if responder is None:
            responder = demo_responder
        elif isinstance(responder, Mapping):
            responder = mapping_responder(responder)
        self._responder: Responder = responder
        self.latency_s = latency_s
        self.connect_error = connect_error
        self._capabilities = dict(capabilities or {})
        # query text -> the gel.describe input type the fake server reports for it
        self._input_types = dict(input_types or {})
        # a slow or unreachable server: descriptions (and their connection errors) come late
        self.describe_delay_s = describe_delay_s
        self.stats = _stats or FakeStats()
        self.config = dict(_config or {})
        self.readonly = _readonly
        self.branch = branch  # None: the connection's (the fake server's default) branch
        self.globals = dict(_globals or {})

    # --- clones (share the stats, like the driver's clones share the pool) ----------------
    def _clone(self, **changes: Any) -> FakeClient:
        params: dict[str, Any] = {
            "latency_s": self.latency_s,
            "connect_error": self.connect_error,
            "capabilities": self._capabilities,
            "input_types": self._input_types,
            "describe_delay_s": self.describe_delay_s,
            "_stats": self.stats,
            "_config": self.config,
            "_readonly": self.readonly,
            "branch": self.branch,
            "_globals": self.globals,
        }
        params.update(changes)
        return FakeClient(self._responder, **params)

    def with_config(self, *args: Any, **config: Any) -> FakeClient:
        merged = {**self.config, **config}
        self.stats.configs.append(dict(config))
        return self._clone(_config=merged)

    def with_globals(self, *args: Any, **globals_: Any) -> FakeClient:
        """Like the driver's: a mapping and/or keywords, merged over the globals set so far."""
        merged = dict(self.globals)
        for mapping in args:
            merged.update(mapping)
        merged.update(globals_)
        return self._clone(_globals=merged)

    def with_transaction_options(self, options: Any = None) -> FakeClient:
        return self._clone(_readonly=bool(getattr(options, "_readonly", False)))

    # --- lifecycle ------------------------------------------------------------------------
    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self.stats.loop is None:
            self.stats.loop = loop
        elif self.stats.loop is not loop:
            raise RuntimeError(
                "FakeClient: used from a different event loop than the one it is bound to "
                "(the real driver's pool fails the same way)"
            )
        if self.stats.closed:
            raise gel.errors.InterfaceError("client has been closed")

    async def ensure_connected(self) -> FakeClient:
        self._bind()
        self.stats.connects += 1
        if self.connect_error is not None:
            raise self.connect_error
        return self

    async def aclose(self) -> None:
        self.stats.closed = True

    def terminate(self) -> None:
        self.stats.closed = True
        self.stats.terminated = True

    def is_closed(self) -> bool:
        return self.stats.closed

    async def transaction(self) -> AsyncIterator[FakeTransaction]:
        self.stats.transactions += 1
        yield FakeTransaction(self)

    async def _describe_query(self, query: str, **_: Any) -> Any:
        self._bind()
        self.stats.describes += 1
        if self.describe_delay_s:
            await asyncio.sleep(self.describe_delay_s)
        if self.connect_error is not None:
            raise self.connect_error
        refused = syntax_error(query)
        if refused is not None:
            raise refused
        caps = self._capabilities.get(query, capabilities_of(query))
        return gel.abstract.DescribeResult(
            input_type=self._input_types.get(query),
            output_type=None,
            output_cardinality=gel.Cardinality.MANY,
            capabilities=gel.enums.Capability(caps),
        )

    # --- the six query methods ------------------------------------------------------------
    async def _run(self, method: str, query: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                   *, in_readonly_tx: bool = False, implicit_limit: int = 0) -> Any:
        self._bind()
        if self.connect_error is not None:
            raise self.connect_error
        self.stats.calls.append((method, query, args, kwargs))
        self.stats.globals_seen.append(dict(self.globals))
        refused = syntax_error(query)
        if refused is not None:
            raise refused
        if args and kwargs:
            raise gel.errors.QueryError(
                "cannot combine positional and named parameters in the same query"
            )
        if in_readonly_tx and capabilities_of(query) & 1:
            raise gel.errors.TransactionError("cannot execute SELECT in a read-only transaction")
        self.stats.in_flight += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        try:
            delay = self.latency_s
            match = SLEEP_RE.search(query)
            if match:
                delay += float(match.group(1))
            timeout = self.config.get("query_execution_timeout")
            if isinstance(timeout, datetime.timedelta) and delay > timeout.total_seconds():
                await asyncio.sleep(timeout.total_seconds())
                raise gel.errors.QueryTimeoutError("canceling statement due to statement timeout")
            if delay:
                await asyncio.sleep(delay)
            asked_global = _GLOBAL_RE.match(query)
            value = (self._global_value(asked_global.group(1)) if asked_global
                     else self._responder(query, args, kwargs))
            if inspect.isawaitable(value):
                # An async responder is the server answering late, or never (a stalled
                # network): no server-side timeout applies while it is awaited.
                value = await value
        except asyncio.CancelledError:
            self.stats.cancelled += 1
            raise
        finally:
            self.stats.in_flight -= 1
        if isinstance(value, BaseException):
            raise value
        self.stats.implicit_limits.append((query, implicit_limit))
        if implicit_limit and isinstance(value, list):
            value = value[:implicit_limit]  # the server's implicit limit: top-level rows only
        if method.endswith("_json") and _ANALYZE_RE.match(query):
            return analyze_json_answer(method, value)
        return shape_for_method(method, value)

    def _global_value(self, name: str) -> list[Any]:
        """``select global name``: the value set (by qualified or short name), else empty."""
        for key in (name, f"default::{name}", name.rpartition("::")[2]):
            if key in self.globals:
                return [self.globals[key]]
        return []

    async def query_with_implicit_limit(self, method: str, implicit_limit: int, query: str,
                                        *args: Any, **kwargs: Any) -> Any:
        """What ``ecc.driver.client.call_method`` sends the driver as the protocol's implicit
        limit."""
        # Like the driver: read-only *options* on a plain call do not stop a write (FACTS.md).
        return await self._run(method, query, args, kwargs, implicit_limit=implicit_limit)

    async def query(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("query", query, args, kwargs)

    async def query_single(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("query_single", query, args, kwargs)

    async def query_required_single(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run("query_required_single", query, args, kwargs)

    async def query_json(self, query: str, *args: Any, **kwargs: Any) -> str:
        result: str = await self._run("query_json", query, args, kwargs)
        return result

    async def query_single_json(self, query: str, *args: Any, **kwargs: Any) -> str:
        result: str = await self._run("query_single_json", query, args, kwargs)
        return result

    async def query_required_single_json(self, query: str, *args: Any, **kwargs: Any) -> str:
        result: str = await self._run("query_required_single_json", query, args, kwargs)
        return result


# What gel 3.1's pool says when a transaction releases the connection it never acquired.
RELEASE_NONE_MESSAGE = ("BasePoolImpl.release() received invalid connection: None does not "
                        "belong to any connection pool")


class FakeTransaction:
    """Like the driver's: the connection is acquired at the first statement. When that
    fails (``connect_error``), leaving the block raises the pool's ``InterfaceError`` about
    releasing ``None``, with the connection error as its ``__context__``: gel 3.1's
    ``BaseTransaction._exit`` releases in a ``finally`` whatever it holds."""

    def __init__(self, client: FakeClient) -> None:
        self._client = client
        self._started = False
        self._acquired = False

    async def __aenter__(self) -> FakeTransaction:
        return self

    async def __aexit__(self, *exc: object) -> bool | None:
        if self._started and not self._acquired:
            raise gel.errors.InterfaceError(RELEASE_NONE_MESSAGE)
        return None

    def _acquire(self) -> None:
        if not self._started:
            self._started = True
            self._client._bind()
            if self._client.connect_error is not None:
                raise self._client.connect_error
            self._acquired = True

    async def query_with_implicit_limit(self, method: str, implicit_limit: int, query: str,
                                        *args: Any, **kwargs: Any) -> Any:
        self._acquire()
        return await self._client._run(method, query, args, kwargs,
                                       in_readonly_tx=self._client.readonly,
                                       implicit_limit=implicit_limit)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if not method.startswith("query"):
            raise AttributeError(method)

        async def call(query: str, *args: Any, **kwargs: Any) -> Any:
            self._acquire()
            return await self._client._run(method, query, args, kwargs,
                                           in_readonly_tx=self._client.readonly)

        return call


def capabilities_of(query: str) -> int:
    """The fake server's description of a query's capabilities (see module docstring)."""
    caps = 0
    query = _ANALYZE_RE.sub("", query, count=1)  # analyze runs its query: same capabilities
    for statement in (s for s in query.split(";") if s.strip()):
        if _WRITE_RE.search(statement):
            caps |= 1
        if _DDL_RE.search(statement):
            caps |= 8
        if _CONFIG_RE.search(statement):
            caps |= 2 if re.search(r"configure\s+session", statement, re.I) else 16
        if _TX_RE.search(statement):
            caps |= 4
    return caps


def shape_for_method(method: str, value: Any) -> Any:
    """What the driver hands back for ``method`` given the full result set ``value``."""
    rows = list(value) if isinstance(value, list) else [value]
    if method.startswith("query_required_single") or method.startswith("query_single"):
        if len(rows) > 1:
            raise gel.errors.InterfaceError(
                f"query cannot be executed with {method.removesuffix('_json')}() as it may "
                "return more than one element"
            )
        if not rows or rows[0] is None:
            if method.startswith("query_required_single"):
                raise gel.errors.NoDataError(f"query executed via {method}() returned no data")
            return "null" if method.endswith("_json") else None
        single = rows[0]
        return json_text(single) if method.endswith("_json") else single
    if method == "query_json":
        return json_text(rows)
    return rows


def analyze_json_answer(method: str, value: Any) -> str:
    """What a JSON method returns for ``analyze``: the plan document's own JSON text, whatever
    the cardinality (recorded on 5.8: ``query_json`` and ``query_single_json`` both gave the
    very text ``query_single`` did, a JSON object). ``value`` is the responder's answer: the
    document text, or a one-item list of it."""
    rows = value if isinstance(value, list) else [value]
    if len(rows) != 1 or not isinstance(rows[0], str):
        return shape_for_method(method, value)  # not a plan: answered like any query
    document: str = rows[0]
    return document


# --- the parser: reserved keywords written as bare names -------------------------------------
# EdgeDB 5.8 reserves ``global`` and ``module`` (edgeql-parser keywords.rs): a bare ``Global``
# or ``Module`` where a name belongs does not parse, while ``schema::Global``, a backquoted
# name, ``with module schema`` and ``global current_user`` do. The messages are what the 5.8
# server said for ``select Global {...}`` (product_queries.json) and ``count(Module)``
# (live-tests-on-5.8.txt); the parser words other contexts differently.
_KEYWORD_AS_NAME_RE = re.compile(
    r"(?<![\w:.@$<`])\b(global|module)\b(?!\s*::)"
    r"(?=\s*(?:[{}(),;\[.]|$|(?:filter|order|limit|offset)\b))",
    re.I,
)
_KEYWORD_MESSAGES = {
    "global": "Missing keyword 'TYPE'",
    "module": "Missing parentheses around statement used as an expression",
}
_LITERAL_OR_COMMENT_RE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|#[^\n]*")


def syntax_error(query: str) -> gel.errors.EdgeQLSyntaxError | None:
    """The fake parser's verdict: the server's syntax error for a reserved keyword used as a
    bare name (see above), with its position; None when the text passes."""
    # Blank out strings and comments, keeping offsets, so only the statement's words count.
    code = _LITERAL_OR_COMMENT_RE.sub(lambda m: " " * len(m.group()), query)
    found = _KEYWORD_AS_NAME_RE.search(code)
    if found is None:
        return None
    err = gel.errors.EdgeQLSyntaxError(_KEYWORD_MESSAGES[found.group(1).lower()])
    _attach_position(err, query, found.start(1), found.end(1))
    return err


def json_text(value: Any) -> str:
    """The server's JSON rendering of a value (objects as objects, decimals exact)."""
    return json.dumps(_jsonable(value), ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, gel.Object):
        out = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        out.pop("id", None) if "id" not in _requested_fields(value) else None
        return out
    if isinstance(value, gel.NamedTuple):
        return {k: _jsonable(getattr(value, k)) for k in value._fields}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return _RawNumber(value)
    if isinstance(value, uuid.UUID | datetime.date | datetime.time):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _requested_fields(obj: Any) -> set[str]:
    desc = dt.get_object_descriptor(obj)
    if not hasattr(desc, "is_implicit"):
        return set()
    return {n for n in dir(desc) if not desc.is_implicit(n)}


class _RawNumber(float):
    """A Decimal that json.dumps writes digit for digit (floats would round it)."""

    def __new__(cls, value: decimal.Decimal) -> _RawNumber:
        obj = super().__new__(cls, float(value))
        obj._text = str(value)  # type: ignore[attr-defined]
        return obj

    def __repr__(self) -> str:
        return self._text  # type: ignore[attr-defined]


def mapping_responder(answers: Mapping[str, Any]) -> Responder:
    """Answers by exact query text (stripped); unknown queries fall back to the demo data."""

    def respond(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = query.strip()
        if key in answers:
            answer = answers[key]
            return answer(args, kwargs) if callable(answer) else answer
        return demo_responder(query, args, kwargs)

    return respond


# --- demo data: a small movie database in the driver's real types ---------------------------
_movie = dt.create_object_factory(
    id={"property", "implicit"}, title="property", release_year="property", rating="property"
)
_person = dt.create_object_factory(id={"property", "implicit"}, name="property")
_MOVIES = [
    ("Alien", 1979, 8.5),
    ("Blade Runner", 1982, 8.1),
    ("The Matrix", 1999, 8.7),
    ("Inception", 2010, 8.8),
    ("Interstellar", 2014, 8.7),
    ("Edge of Tomorrow", 2014, 7.9),
    ("Arrival", 2016, 7.9),
    ("Blade Runner 2049", 2017, 8.0),
    ("Dune", 2021, 8.0),
    ("Dune: Part Two", 2024, 8.5),
]


def demo_movies(count: int = len(_MOVIES)) -> list[Any]:
    """``count`` Movie objects (cycling through the demo titles), deterministic ids."""
    out = []
    for i in range(count):
        title, year, rating = _MOVIES[i % len(_MOVIES)]
        suffix = f" #{i // len(_MOVIES)}" if i >= len(_MOVIES) else ""
        out.append(_movie(uuid.UUID(int=i + 1), title + suffix, year, rating))
    return out


_SELECT_LITERAL = re.compile(r"^\s*select\s+(-?\d+|'[^'\\]*')\s*;?\s*$", re.I)


# The branch catalog's queries as a 5.8 server with one branch answers them (recorded in
# ../shared/gel-transcripts/product_queries.json); ``ecc.fake.branches`` serves more branches.
_ONE_BRANCH_ANSWERS: dict[str, Callable[[], Any]] = {
    catalog.BRANCHES_QUERY: lambda: gel.errors.InvalidReferenceError(
        "object type or alias 'sys::Branch' does not exist"),
    catalog.DATABASES_QUERY: lambda: ["main"],
    catalog.CURRENT_BRANCH_QUERY: lambda: ["main"],
    catalog.CURRENT_DATABASE_QUERY: lambda: ["main"],
}


def demo_responder(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A tiny server: movies, literals, sleeps, the schema's introspection (``fake_schema``),
    one branch (``main``), and the errors a real server gives."""
    text = query.strip()
    if text in _ONE_BRANCH_ANSWERS:
        return _ONE_BRANCH_ANSWERS[text]()
    schema_rows = introspection_answer(text)
    if schema_rows is not None:
        return schema_rows
    if _ANALYZE_RE.match(text):
        return [fake_plan_json(query)]
    if SLEEP_RE.search(text):
        return [True]
    literal = _SELECT_LITERAL.match(text)
    if literal:
        token = literal.group(1)
        return [int(token)] if not token.startswith("'") else [token[1:-1]]
    if re.match(r"^\s*select\s+Movie\b", text, re.I):
        return demo_movies()
    if re.match(r"^\s*select\s+Person\b", text, re.I):
        return [_person(uuid.UUID(int=100 + i), n) for i, n in
                enumerate(["Keanu Reeves", "Carrie-Anne Moss", "Denis Villeneuve"])]
    if re.match(r"^\s*select\s+<\w+>\$\w+\s*$", text):
        values = list(args) + list(kwargs.values())
        return values[:1]
    first = text.split(None, 1)[0] if text else ""
    if first.lower() not in {"select", "with", "insert", "update", "delete", "group", "for"}:
        syntax = gel.errors.EdgeQLSyntaxError(f"Unexpected {first!r}")
        _attach_position(syntax, query, query.find(first), query.find(first) + len(first))
        raise syntax
    name = re.findall(r"\bselect\s+(\w+)", text, re.I)
    err = gel.errors.InvalidReferenceError(
        f"object type or alias 'default::{name[0] if name else '?'}' does not exist"
    )
    if name:
        start = query.find(name[0])
        _attach_position(err, query, start, start + len(name[0]))
    raise err


# --- analyze: a plan in the server's format (EdgeDB 5.8, see ../shared/gel-transcripts/) -----
_SHAPE_LINK_RE = re.compile(r"(\w+)\s*:\s*\{")
_FILTER_RE = re.compile(r"\bfilter\s+(.+?)(?=\s+order\s+by\b|\s+limit\b|\s*$)", re.I | re.S)


def _span(query: str, start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "buffer_idx": 0, "text": query[start:end]}


def _plan_node(plan_type: str, per_loop_ms: float, loops: int, rows: int, planned: int,
               relation: str | None = None, alias: str | None = None,
               **important: Any) -> dict[str, Any]:
    properties: list[dict[str, Any]] = [
        {"title": k, "value": v, "type": "text", "important": True} for k, v in important.items()
    ]
    if relation is not None:
        properties += [
            {"title": "schema", "value": "edgedbpub", "type": "text", "important": False},
            {"title": "alias", "value": alias or relation, "type": "text", "important": False},
            {"title": "relation_name", "value": relation, "type": "relation", "important": True},
        ]
    return {
        "startup_cost": 0.0, "total_cost": round(per_loop_ms * 100, 2), "plan_rows": planned,
        "plan_width": 32, "actual_startup_time": round(per_loop_ms / 3, 3),
        "actual_total_time": per_loop_ms, "actual_rows": rows, "actual_loops": loops,
        "plan_type": plan_type, "plan_id": str(uuid.uuid5(uuid.NAMESPACE_OID, plan_type)),
        "properties": properties,
    }


def fake_plan_json(query: str) -> str:
    """What a server answers to ``analyze <query>``: one JSON text with the query as its
    buffer, coarse and fine trees whose spans point into it. Figures are made up but
    consistent (a parent's time covers its children's), in the recorded format."""
    inner = _ANALYZE_RE.sub("", query, count=1)
    offset = len(query) - len(inner)
    subject = re.search(r"\bselect\s+(?:count\()?(\w+)", inner, re.I)
    relation = subject.group(1) if subject else "Result"
    subject_span = (_span(query, offset + subject.start(1), offset + subject.end(1))
                    if subject else None)
    links = list(_SHAPE_LINK_RE.finditer(inner))
    filtered = _FILTER_RE.search(inner)
    ordered = re.search(r"\border\s+by\b", inner, re.I) is not None
    rows = 12
    coarse_children = []
    fine_subplans = []
    for number, link in enumerate(links, start=1):
        span = _span(query, offset + link.start(1), offset + link.end(1))
        name = link.group(1)
        loop_ms = 0.004 + 0.001 * number
        coarse_children.append({"kind": "pointer", "name": name, "node": {
            **{k: v for k, v in _plan_node("Aggregate", loop_ms + 0.003, rows, 1, 1).items()
               if k not in ("plan_type", "properties")},
            "relations": [name.title(), f"{relation}.{name}"], "contexts": [span],
            "children": [],
        }})
        fine_subplans.append({
            "contexts": [span],
            "pipeline": [
                _plan_node("Aggregate", loop_ms + 0.003, rows, 1, 1, strategy="Plain"),
                _plan_node("NestedLoop", loop_ms + 0.001, rows, 4, 3, join_type="Inner"),
            ],
            "subplans": [
                {"pipeline": [_plan_node("SeqScan", loop_ms / 2, rows, 4, 3,
                                         f"{relation}.{name}", f"{name}~1")],
                 "subplans": []},
                {"pipeline": [_plan_node("IndexScan", 0.001, rows * 4, 1, 1, name.title(),
                                         f"{name.title()}~1")], "subplans": []},
            ],
        })
    children_ms = sum(g["pipeline"][0]["actual_total_time"] * rows for g in fine_subplans)
    scan_ms = round(children_ms + 0.05, 3)
    pipeline = [_plan_node("SeqScan", scan_ms, 1, rows, 117, relation, f"{relation}~2")]
    if ordered:
        pipeline.insert(0, _plan_node("Sort", round(scan_ms + 0.02, 3), 1, rows, 117,
                                      sort_method="quicksort"))
    root_contexts = [subject_span] if subject_span else []
    if filtered:
        start = offset + filtered.start(1)
        root_contexts.append(_span(query, start, offset + filtered.end(1)))
    top = pipeline[0]
    coarse = {
        **{k: v for k, v in top.items() if k not in ("plan_type", "properties")},
        "relations": [relation], "children": coarse_children,
    }
    if root_contexts:
        coarse["contexts"] = root_contexts[:1]
    document = {
        "config_vals": {"query_cache_mode": "Default", "apply_access_policies": True},
        "globals_used": [], "module_aliases": {"null": "default"},
        "arguments": {"execute": True, "buffers": False}, "version": "5.8+fake",
        "buffers": [query],
        "debug_info": {},
        "fine_grained": {"contexts": root_contexts, "pipeline": pipeline,
                         "subplans": fine_subplans},
        "coarse_grained": coarse,
    }
    return json.dumps(document)


def synthetic_plan_json(nodes: int, fanout: int = 4) -> str:
    """An analyze answer whose coarse and fine trees have ``nodes`` nodes each (a
    breadth-first tree of ``fanout`` children per node): for tests and benchmarks of size."""
    groups: list[dict[str, Any]] = []
    coarse: list[dict[str, Any]] = []
    query = "analyze select T0"
    for i in range(nodes):
        timing = {"actual_total_time": 1000.0 / (i + 1), "actual_loops": 1,
                  "actual_rows": i, "plan_rows": i + 1}
        groups.append({"contexts": [_span(query, 15, 17)], "subplans": [],
                       "pipeline": [{**_plan_node("SeqScan", 0.0, 1, i, i + 1, f"T{i}"),
                                     **timing}]})
        coarse.append({**timing, "relations": [f"T{i}"], "children": []})
        if i:
            parent = (i - 1) // fanout
            groups[parent]["subplans"].append(groups[i])
            coarse[parent]["children"].append(
                {"kind": "pointer", "name": f"p{i}", "node": coarse[i]})
    return json.dumps({"buffers": [query], "coarse_grained": coarse[0],
                       "fine_grained": groups[0], "version": "synthetic"})


def _attach_position(err: gel.errors.EdgeDBError, query: str, start: int, end: int) -> None:
    """Set the fields the real driver reads its position properties from."""
    from gel.errors import _base as fields

    line = query.count("\n", 0, start) + 1
    col = start - (query.rfind("\n", 0, start) + 1) + 1
    err._attrs.update(
        {
            fields.FIELD_CHARACTER_START: str(start).encode(),
            fields.FIELD_CHARACTER_END: str(end).encode(),
            fields.FIELD_LINE_START: str(line).encode(),
            fields.FIELD_COLUMN_START: str(col).encode(),
        }
    )
    err._query = query  # type: ignore[assignment]  # the driver declares it None


def server_error(
    cls: type[gel.errors.EdgeDBError],
    message: str,
    *,
    query: str | None = None,
    span: tuple[int, int] | None = None,
    hint: str | None = None,
    details: str | None = None,
) -> gel.errors.EdgeDBError:
    """A real ``gel.errors`` instance carrying what a server attaches (position, hint...)."""
    from gel.errors import _base as fields

    err = cls(message)
    if hint is not None:
        err._attrs[fields.FIELD_HINT] = hint.encode()
    if details is not None:
        err._attrs[fields.FIELD_DETAILS] = details.encode()
    if query is not None and span is not None:
        _attach_position(err, query, *span)
    return err


class FakeClientFactory:
    """A client factory that builds ``FakeClient(**fake_kwargs)`` and remembers each one."""

    def __init__(self, **fake_kwargs: Any) -> None:
        self.fake_kwargs = fake_kwargs
        self.built: list[FakeClient] = []

    def __call__(self) -> FakeClient:
        client = FakeClient(**self.fake_kwargs)
        self.built.append(client)
        return client

    @property
    def all_calls(self) -> list[tuple[str, str, tuple[Any, ...], dict[str, Any]]]:
        """Every query call any of its clients received, in order per client."""
        return [call for client in self.built for call in client.stats.calls]

    @property
    def calls(self) -> list[tuple[str, str, tuple[Any, ...], dict[str, Any]]]:
        """The calls a user's queries made: ``all_calls`` less the schema introspection the
        page reads by itself (for the editor's completions and the explorer)."""
        return [call for call in self.all_calls if not is_introspection_query(call[1])]


def schema_responder(
    model: SchemaModel | None = None,
    *,
    refuse: Iterable[str] = (),
    fallback: Responder | None = None,
    migrations: Callable[[], Sequence[Any]] | None = None,
) -> Responder:
    """Answers ``ecc.schema.introspect``'s queries from ``model`` (default: the demo schema);
    ``refuse`` names parts answered with the server's permission error; ``migrations``
    gives the ids the schema probe sees (default: ``fake_schema.DEMO_MIGRATIONS``), so a
    test can add one as a DDL statement on a real server does."""
    rows = fake_schema.answers(model if model is not None else fake_schema.demo_schema())
    by_query = {query.strip(): part for part, query in fake_schema._all_parts().items()}
    refused = frozenset(refuse)
    unknown = refused - set(fake_schema._all_parts())
    if unknown:
        raise ValueError(f"unknown schema parts to refuse: {sorted(unknown)}")

    def respond(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if query.strip() == introspect.SCHEMA_PROBE_QUERY:
            return list(migrations() if migrations is not None else fake_schema.DEMO_MIGRATIONS)
        part = by_query.get(query.strip())
        if part is None:
            if fallback is None:
                return demo_responder(query, args, kwargs)
            return fallback(query, args, kwargs)
        if part in refused:
            return gel.errors.AccessError(f"permission denied: the role may not read {part}")
        return rows[part]

    return respond


# --- wiring the fake into the app (test-only) ----------------------------------------------
_active_factory: Callable[[], FakeClient] | None = None


def use_fake(factory: Callable[[], FakeClient] | None) -> None:
    """Make the app's sessions (with the test-only ``fake_client`` setting) build their client
    with ``factory``; ``None`` restores the default demo fake."""
    global _active_factory
    _active_factory = factory


def active_fake_factory() -> Callable[[], FakeClient]:
    """The factory installed by ``use_fake``, captured now (a session keeps the one it got)."""
    factory = _active_factory
    if factory is not None:
        return factory
    latency = float(os.environ.get("ECC_TEST_FAKE_LATENCY_S", "0") or 0)
    objects = int(os.environ.get(DATASET_ENV, "0") or 0)
    if objects > 0:
        responder = dataset_responder(objects)
        return lambda: FakeClient(responder, latency_s=latency)
    return lambda: FakeClient(latency_s=latency)


# Test-only: the fake serves the explorer's generated data set of this many Items (its schema
# instead of the demo schema; other queries as the demo server answers them).
DATASET_ENV = "ECC_TEST_FAKE_DATASET"


def dataset_responder(objects: int, parts: int | None = None) -> Responder:
    """The demo server, with the schema and data of ``ecc.fake.explorer``'s generated data
    set of ``objects`` Items."""
    from ecc.fake.explorer import dataset_schema, explorer_responder, generated_dataset

    dataset = generated_dataset(objects, parts)
    return schema_responder(dataset_schema(dataset),
                            fallback=explorer_responder(dataset, demo_responder))
