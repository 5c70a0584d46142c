"""A generated data set the fake server pages through lazily, for the data explorer.

Two object types, ``default::Item`` (``items`` objects) and ``default::Part`` (``parts``
objects), whose values are functions of an object's index, so a page at any offset is
computed without building the other objects (a million-object type costs nothing until it is
read). Item ``i``::

    id        UUID whose integer is (type salt << 96) | (i + 1): ids ascend with i
    number    int64 i
    name      str "item-0000042"
    shuffled  int64 (a*i + b) mod N, a permutation of 0..N-1
    score     float64 another permutation of 0..N-1, over N
    kind      enum default::Kind, Alpha..Epsilon by i mod 5
    flag      bool, true for even i
    nickname  optional str "nick-0000042", empty when i is a multiple of 3
    created   datetime, 2024-01-01T00:00Z plus i minutes
    parts     multi link to i mod 4 Parts, (3i + j) mod M for j < i mod 4, with link
              properties @quantity (int64, 1 + (i + p) mod 5 for Part p) and @note (str
              "note-i-p", empty when i + p is a multiple of 3)
    owner     single link to Part (i // 2) mod M for even i, empty for odd i

Part ``j``: ``id``, ``number`` (j), ``name`` ("part-0000042"), ``weight`` (int64, 1 + j mod 7).

``explorer_responder`` interprets the queries ``ecc.explorer.query`` writes (it parses them;
it returns no canned page): the shape, a followed link's source, the filters with their
parameters, the order (``empty last``, then ``.id``) and offset/limit, and the count. With no
filter, a page of any order is computed from its ranks (each ordered column knows which
object sits at rank r); with filters it walks the ranks and tests each object (like a server
scanning in index order), and a count with filters tests every object (a sequential scan).
Texts it does not recognise go to the fallback responder. ``brute_force`` answers the same
questions by building every object, for tests on a small N.
"""

from __future__ import annotations

import datetime
import itertools
import math
import operator
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import gel
import gel.errors
from gel.datatypes import datatypes as dt

from ecc.fake.datatypes import make_enum_type
from ecc.schema.model import LinkProperty, ObjectType, Pointer, ScalarType, SchemaModel

Responder = Callable[[str, tuple[Any, ...], dict[str, Any]], Any]
KIND_LABELS = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
_MULTIPLIERS = (7919, 104729, 1299709, 15485863, 179424673)


# --- columns: a value per index, and (when cheap) the index at each rank of an order ---------

class Column:
    """One property of a generated type."""

    type_name: str = "std::str"
    required: bool = True

    def value(self, i: int) -> Any:
        raise NotImplementedError

    def index_at_rank(self, rank: int, n: int, descending: bool) -> int | None:
        """The index at ``rank`` of ``order by .this dir empty last then .id``; None when
        this column cannot say without sorting."""
        return None


@dataclass(frozen=True)
class Ascending(Column):
    """Values strictly increasing with the index (ids, numbers, zero-padded names)."""

    make: Callable[[int], Any]
    type_name: str = "std::str"

    def value(self, i: int) -> Any:
        return self.make(i)

    def index_at_rank(self, rank: int, n: int, descending: bool) -> int | None:
        return n - 1 - rank if descending else rank


@dataclass(frozen=True)
class Permuted(Column):
    """``(a*i + b) mod n``, scaled: every value once, in a scrambled order."""

    n: int
    a: int
    b: int
    scale: float | None = None  # None: the int itself
    type_name: str = "std::int64"

    def value(self, i: int) -> Any:
        v = (self.a * i + self.b) % self.n
        return v if self.scale is None else v * self.scale

    def index_at_rank(self, rank: int, n: int, descending: bool) -> int | None:
        v = n - 1 - rank if descending else rank
        return ((v - self.b) * pow(self.a, -1, self.n)) % self.n


@dataclass(frozen=True)
class Cyclic(Column):
    """``values[i mod k]``: k buckets; ties ordered by id (ascending i)."""

    values: tuple[Any, ...]
    type_name: str = "std::int64"
    order_key: Callable[[Any], Any] = lambda v: v

    def value(self, i: int) -> Any:
        return self.values[i % len(self.values)]

    def index_at_rank(self, rank: int, n: int, descending: bool) -> int | None:
        k = len(self.values)
        buckets = sorted(range(k), key=lambda b: self.order_key(self.values[b]),
                         reverse=descending)
        for b in buckets:
            size = (n - b + k - 1) // k if b < n else 0
            if rank < size:
                return b + k * rank
            rank -= size
        return None


@dataclass(frozen=True)
class Sparse(Column):
    """``make(i)`` (increasing), empty when ``i`` is a multiple of ``every``."""

    make: Callable[[int], Any]
    every: int
    type_name: str = "std::str"
    required: bool = False

    def value(self, i: int) -> Any:
        return None if i % self.every == 0 else self.make(i)

    def index_at_rank(self, rank: int, n: int, descending: bool) -> int | None:
        e = self.every
        empty = (n + e - 1) // e  # multiples of e below n
        filled = n - empty
        if rank >= filled:  # empty last, then by id
            return e * (rank - filled)
        if descending:
            rank = filled - 1 - rank
        return (rank // (e - 1)) * e + 1 + rank % (e - 1)


@dataclass(frozen=True)
class LinkProp:
    type_name: str
    value: Callable[[int, int], Any]  # (source index, target index) -> value or None


@dataclass(frozen=True)
class Link:
    target: str
    targets: Callable[[int], list[int]]  # the target indexes of object i
    multi: bool = True
    props: dict[str, LinkProp] = field(default_factory=dict)  # link properties by name


@dataclass
class LazyType:
    name: str
    n: int
    salt: int
    columns: dict[str, Column]
    links: dict[str, Link] = field(default_factory=dict)

    def id_of(self, i: int) -> uuid.UUID:
        return uuid.UUID(int=(self.salt << 96) | (i + 1))

    def index_of(self, object_id: uuid.UUID) -> int | None:
        value = object_id.int
        i = (value & ((1 << 96) - 1)) - 1
        if value >> 96 != self.salt or not 0 <= i < self.n:
            return None
        return i


def _multiplier(n: int, skip: int = 0) -> int:
    usable = [a for a in _MULTIPLIERS if math.gcd(a, n) == 1]
    return usable[skip % len(usable)] if usable else 1


@dataclass
class ExplorerDataset:
    """The generated types, by full name."""

    types: dict[str, LazyType]

    def type(self, name: str) -> LazyType | None:
        return self.types.get(name)


def generated_dataset(items: int = 1000, parts: int | None = None) -> ExplorerDataset:
    n, m = items, parts if parts is not None else max(items, 4)
    kind = make_enum_type(KIND_LABELS)
    item = LazyType("default::Item", n, salt=0xA1, columns={
        "number": Ascending(lambda i: i, "std::int64"),
        "name": Ascending(lambda i: f"item-{i:07d}"),
        "shuffled": Permuted(n, _multiplier(n), 11 % max(n, 1)),
        "score": Permuted(n, _multiplier(n, 1), 5 % max(n, 1), scale=1 / max(n, 1),
                          type_name="std::float64"),
        "kind": Cyclic(tuple(kind(label) for label in KIND_LABELS), "default::Kind",
                       order_key=lambda v: KIND_LABELS.index(str(v))),
        "flag": Cyclic((True, False), "std::bool"),
        "nickname": Sparse(lambda i: f"nick-{i:07d}", 3),
        "created": Ascending(lambda i: _EPOCH + datetime.timedelta(minutes=i),
                             "std::datetime"),
    }, links={
        "parts": Link("default::Part", lambda i: [(3 * i + j) % m for j in range(i % 4)],
                      props={
                          "quantity": LinkProp("std::int64", lambda i, p: 1 + (i + p) % 5),
                          "note": LinkProp("std::str", lambda i, p: None if (i + p) % 3 == 0
                                           else f"note-{i}-{p}"),
                      }),
        "owner": Link("default::Part", lambda i: [] if i % 2 else [(i // 2) % m], multi=False),
    })
    part = LazyType("default::Part", m, salt=0xB2, columns={
        "number": Ascending(lambda j: j, "std::int64"),
        "name": Ascending(lambda j: f"part-{j:07d}"),
        "weight": Cyclic(tuple(range(1, 8)), "std::int64"),
    })
    return ExplorerDataset({t.name: t for t in (item, part)})


def dataset_schema(dataset: ExplorerDataset) -> SchemaModel:
    """The schema model of the data set (what the fake's introspection answers)."""
    bases, ancestors = ("std::Object",), ("std::BaseObject", "std::Object")
    types = []
    for t in dataset.types.values():
        pointers = [Pointer("id", "property", "std::uuid", required=True, readonly=True)]
        pointers += [Pointer(name, "property", c.type_name, required=c.required)
                     for name, c in t.columns.items()]
        pointers += [Pointer(name, "link", link.target,
                             cardinality="multi" if link.multi else "single",
                             link_properties=tuple(LinkProperty(lp, prop.type_name)
                                                   for lp, prop in link.props.items()))
                     for name, link in t.links.items()]
        types.append(ObjectType(t.name, bases=bases, ancestors=ancestors,
                                pointers=tuple(sorted(pointers, key=lambda p: p.name))))
    return SchemaModel(
        modules=("default", "std"), builtin_modules=("std",), object_types=tuple(types),
        scalar_types=(ScalarType("default::Kind", ("std::anyenum",), KIND_LABELS),),
    )


# --- reading the explorer's queries -----------------------------------------------------

_NAME = r"(?:`[^`]+`|[A-Za-z_][A-Za-z_0-9]*)"
_QNAME = rf"{_NAME}(?:::{_NAME})*"
_SOURCE = (rf"(?:\(select (?P<src>{_QNAME}) filter \.id = <std::uuid>\$source\)\.(?P<link>{_NAME})"
           rf"|(?P<root>{_QNAME}))")
_PAGE_RE = re.compile(
    rf"select {_SOURCE} \{{\n(?P<shape>.*?)\n\}}\n(?:filter (?P<filter>[^\n]*)\n)?"
    rf"order by (?P<order>[^\n]*)\n"
    # Parameters as the explorer sends them; literals as "Open as query" writes them.
    r"offset (?:<std::int64>\$page_offset|(?P<offset>\d+))"
    r"\nlimit (?:<std::int64>\$page_limit|(?P<limit>\d+))", re.S)
_COUNT_RE = re.compile(rf"select count\({_SOURCE}\)")
_COUNT_FILTERED_RE = re.compile(
    rf"select count\(\(select {_SOURCE} filter (?P<filter>[^\n]*)\)\)")
_FIELD_RE = re.compile(
    rf"  (?P<at>@)?(?P<name>{_NAME})(?P<count> := count\(\.(?P<counted>{_NAME})\))?")
_COND_RE = re.compile(
    rf"\((?:(?P<unary>exists|not exists) \.(?P<uprop>{_NAME})"
    rf"|\.(?P<prop>{_NAME}) (?P<op>=|!=|<=|>=|<|>|ilike) "
    rf"(?:<(?P<cast>{_QNAME})>)?<(?P<ptype>{_QNAME})>\$(?P<param>f\d+))\)")
_ORDER_RE = re.compile(
    rf"\.id(?P<iddesc> desc)?|\.(?P<prop>{_NAME}) (?P<dir>asc|desc) empty last then \.id")


def _unquote(name: str) -> str:
    return "::".join(p[1:-1] if p.startswith("`") else p for p in re.findall(_NAME, name))


@dataclass(frozen=True)
class Condition:
    prop: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class ParsedQuery:
    type_name: str  # the listed type
    source: tuple[str, uuid.UUID, str] | None  # (source type, id, link) of a followed link
    # (result name, the link it counts or None); a link property's name starts with "@"
    fields: tuple[tuple[str, str | None], ...]
    conditions: tuple[Condition, ...]
    order: tuple[str, bool] | None  # (property, descending); None: by id
    id_descending: bool = False
    offset: int = 0
    limit: int | None = None
    count: bool = False


def _syntax(message: str) -> gel.errors.EdgeQLSyntaxError:
    return gel.errors.EdgeQLSyntaxError(message)


def _conditions(text: str | None, kwargs: dict[str, Any]) -> tuple[Condition, ...]:
    if not text:
        return ()
    found = list(_COND_RE.finditer(text))
    if " and ".join(m.group(0) for m in found) != text:
        raise _syntax(f"fake explorer: cannot read the filter {text!r}")
    out = []
    for m in found:
        if m.group("unary"):
            out.append(Condition(_unquote(m.group("uprop")), m.group("unary")))
            continue
        param = m.group("param")
        if param not in kwargs:
            raise gel.errors.QueryArgumentError(f"missing named argument '{param}'")
        out.append(Condition(_unquote(m.group("prop")), m.group("op"), kwargs[param]))
    return tuple(out)


def _resolve_source(dataset: ExplorerDataset, root: str | None, src: str | None,
                    link: str | None, kwargs: dict[str, Any]
                    ) -> tuple[str, tuple[str, uuid.UUID, str] | None]:
    if root is not None:
        return _unquote(root), None
    assert src is not None and link is not None
    source_type, link_name = _unquote(src), _unquote(link)
    found = dataset.type(source_type)
    if found is None or link_name not in found.links:
        raise gel.errors.InvalidReferenceError(
            f"object type '{source_type}' has no link or property '{link_name}'")
    source_id = kwargs.get("source")
    if not isinstance(source_id, uuid.UUID):
        raise gel.errors.QueryArgumentError("missing named argument 'source'")
    return found.links[link_name].target, (source_type, source_id, link_name)


def parse_explorer_query(dataset: ExplorerDataset, query: str, kwargs: dict[str, Any]
                         ) -> ParsedQuery | None:
    """The explorer query ``query`` asks, or None when it is not one."""
    page = _PAGE_RE.fullmatch(query)
    if page is not None:
        type_name, source = _resolve_source(dataset, page.group("root"), page.group("src"),
                                            page.group("link"), kwargs)
        fields = []
        for line in page.group("shape").split(",\n"):
            m = _FIELD_RE.fullmatch(line)
            if m is None or (m.group("at") and m.group("count")):
                raise _syntax(f"fake explorer: cannot read the shape line {line!r}")
            counted = m.group("counted")
            fields.append(((m.group("at") or "") + _unquote(m.group("name")),
                           _unquote(counted) if counted else None))
        order_m = _ORDER_RE.fullmatch(page.group("order"))
        if order_m is None:
            raise _syntax(f"fake explorer: cannot read the order {page.group('order')!r}")
        order = None if order_m.group("prop") is None else (
            _unquote(order_m.group("prop")), order_m.group("dir") == "desc")
        offset = int(page.group("offset")) if page.group("offset") else kwargs.get("page_offset")
        limit = int(page.group("limit")) if page.group("limit") else kwargs.get("page_limit")
        if not isinstance(offset, int) or not isinstance(limit, int):
            raise gel.errors.QueryArgumentError("missing named argument 'page_offset'")
        return ParsedQuery(type_name, source, tuple(fields),
                           _conditions(page.group("filter"), kwargs), order,
                           bool(order_m.group("iddesc")), offset, limit)
    for pattern in (_COUNT_RE, _COUNT_FILTERED_RE):
        count = pattern.fullmatch(query)
        if count is not None:
            type_name, source = _resolve_source(dataset, count.group("root"), count.group("src"),
                                                count.group("link"), kwargs)
            condition_text = count.group("filter") if pattern is _COUNT_FILTERED_RE else None
            return ParsedQuery(type_name, source, (), _conditions(condition_text, kwargs),
                               None, count=True)
    return None


# --- answering ------------------------------------------------------------------------------

def _like(pattern: str) -> re.Pattern[str]:
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.I | re.S)


def _comparable(value: Any) -> Any:
    if isinstance(value, gel.EnumValue):
        return KIND_LABELS.index(str(value))
    return value


def _predicate(t: LazyType, cond: Condition) -> Callable[[int], bool]:
    column = t.columns.get(cond.prop)
    if column is None:
        raise gel.errors.InvalidReferenceError(
            f"object type '{t.name}' has no link or property '{cond.prop}'")
    if cond.op == "exists":
        return lambda i: column.value(i) is not None
    if cond.op == "not exists":
        return lambda i: column.value(i) is None
    wanted = cond.value
    if column.type_name == "default::Kind":
        if wanted not in KIND_LABELS:
            raise gel.errors.InvalidValueError(
                f"invalid input value for enum 'default::Kind': \"{wanted}\"")
        wanted = KIND_LABELS.index(wanted)
    if cond.op == "ilike":
        regex = _like(str(wanted))
        return lambda i: (v := column.value(i)) is not None and regex.fullmatch(v) is not None
    compare: Callable[[Any, Any], bool] = {
        "=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    }[cond.op]
    return lambda i: (v := column.value(i)) is not None and compare(_comparable(v), wanted)


def _sort_key(t: LazyType, order: tuple[str, bool] | None, id_descending: bool
              ) -> Callable[[int], Any]:
    """A key for ``sorted`` (ascending) giving the query's order: empty last, then by id."""
    if order is None:
        return (lambda i: -i) if id_descending else (lambda i: i)
    column = t.columns[order[0]]
    descending = order[1]

    def key(i: int) -> Any:
        v = column.value(i)
        if v is None:
            return (1, 0, i)
        v = _comparable(v)
        return (0, _Reversed(v) if descending else v, i)

    return key


class _Reversed:
    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.v < self.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.v == other.v)

    __hash__ = None  # type: ignore[assignment]


def _ranked(t: LazyType, order: tuple[str, bool] | None, id_descending: bool
            ) -> Callable[[int], int | None] | None:
    """The index at each rank of the whole type in this order, when computable."""
    if order is None:
        return lambda r: t.n - 1 - r if id_descending else r
    column = t.columns.get(order[0])
    if column is None:
        raise gel.errors.InvalidReferenceError(
            f"object type '{t.name}' has no link or property '{order[0]}'")
    if column.index_at_rank(0, max(t.n, 1), order[1]) is None:
        return None
    return lambda r: column.index_at_rank(r, t.n, order[1])


def _candidates(dataset: ExplorerDataset, parsed: ParsedQuery) -> tuple[LazyType, list[int] | None]:
    t = dataset.type(parsed.type_name)
    if t is None:
        raise gel.errors.InvalidReferenceError(
            f"object type or alias '{parsed.type_name}' does not exist")
    if parsed.source is None:
        return t, None  # every object
    source_type, source_id, link = parsed.source
    src = dataset.types[source_type]
    index = src.index_of(source_id)
    return t, ([] if index is None else sorted(set(src.links[link].targets(index))))


def _ordered_indexes(dataset: ExplorerDataset, parsed: ParsedQuery) -> tuple[LazyType,
                                                                             Iterator[int]]:
    """Every index the query selects, in its order (lazily when the order allows)."""
    t, base = _candidates(dataset, parsed)
    tests = [_predicate(t, c) for c in parsed.conditions]
    ranked = _ranked(t, parsed.order, parsed.id_descending) if base is None else None
    if ranked is not None:
        walk: Iterable[int] = (i for r in range(t.n) if (i := ranked(r)) is not None)
    else:
        walk = sorted(range(t.n) if base is None else base,
                      key=_sort_key(t, parsed.order, parsed.id_descending))
    return t, (i for i in walk if all(test(i) for test in tests))


def _link_prop(dataset: ExplorerDataset, parsed: ParsedQuery, name: str) -> LinkProp:
    """The link property ``@name`` of the followed link; a server's error without one."""
    if parsed.source is None:
        raise gel.errors.QueryError(
            f"fake explorer: link property '{name}' outside of a link path")
    source_type, _, link = parsed.source
    found = dataset.types[source_type].links[link].props.get(name)
    if found is None:
        raise gel.errors.InvalidReferenceError(
            f"link '{link}' of object type '{source_type}' has no property '{name}'")
    return found


def _row_factory(fields: tuple[tuple[str, str | None], ...]) -> Callable[..., Any]:
    return _factory_for(tuple(name for name, _ in fields))


_FACTORIES: dict[tuple[str, ...], Callable[..., Any]] = {}


def _factory_for(names: tuple[str, ...]) -> Callable[..., Any]:
    factory = _FACTORIES.get(names)
    if factory is None:
        # Every field is explicit: the explorer's shape names ``id`` (a server then does not
        # mark it implicit, and the console's table shows it).
        # A link property is named without its "@" (the driver's descriptor adds it).
        spec: dict[str, Any] = {(n[1:] if n.startswith("@") else n):
                                ("link-property" if n.startswith("@") else "property")
                                for n in names}
        factory = dt.create_object_factory(**spec)
        _FACTORIES[names] = factory
    return factory


def _row(t: LazyType, i: int, fields: tuple[tuple[str, str | None], ...],
         link_props: dict[str, LinkProp] | None = None, source_index: int = -1) -> Any:
    values: list[Any] = []
    for name, counted in fields:
        if name.startswith("@"):
            assert link_props is not None  # read by _link_prop before any row
            values.append(link_props[name[1:]].value(source_index, i))
        elif counted is not None:
            link = t.links.get(counted)
            if link is None:
                raise gel.errors.InvalidReferenceError(
                    f"object type '{t.name}' has no link or property '{counted}'")
            values.append(len(link.targets(i)))
        elif name == "id":
            values.append(t.id_of(i))
        else:
            column = t.columns.get(name)
            if column is None:
                raise gel.errors.InvalidReferenceError(
                    f"object type '{t.name}' has no link or property '{name}'")
            values.append(column.value(i))
    return _row_factory(fields)(*values)


def answer(dataset: ExplorerDataset, parsed: ParsedQuery) -> list[Any]:
    """The rows (or the one count) a server would return for ``parsed``."""
    if parsed.count:
        t, base = _candidates(dataset, parsed)
        if not parsed.conditions:
            return [t.n if base is None else len(base)]
        tests = [_predicate(t, c) for c in parsed.conditions]
        every = range(t.n) if base is None else base
        return [sum(1 for i in every if all(test(i) for test in tests))]
    if parsed.offset < 0 or (parsed.limit is not None and parsed.limit < 0):
        raise gel.errors.InvalidValueError("OFFSET and LIMIT must not be negative")
    t, base = _candidates(dataset, parsed)
    link_props = {name[1:]: _link_prop(dataset, parsed, name[1:])
                  for name, _ in parsed.fields if name.startswith("@")}
    source_index = -1
    if parsed.source is not None:
        found = dataset.types[parsed.source[0]].index_of(parsed.source[1])
        source_index = -1 if found is None else found
    stop = None if parsed.limit is None else parsed.offset + parsed.limit
    ranked = _ranked(t, parsed.order, parsed.id_descending) if base is None else None
    if ranked is not None and not parsed.conditions:
        # Random access: no object before the offset is looked at.
        end = t.n if stop is None else min(t.n, stop)
        indexes: Iterable[int | None] = (ranked(r)
                                         for r in range(min(parsed.offset, t.n), end))
    else:
        _, walk = _ordered_indexes(dataset, parsed)
        indexes = itertools.islice(walk, parsed.offset, stop)
    return [_row(t, i, parsed.fields, link_props, source_index)
            for i in indexes if i is not None]


def explorer_responder(dataset: ExplorerDataset, fallback: Responder) -> Responder:
    """Answers the explorer's queries over ``dataset``; anything else goes to ``fallback``
    (``ecc.fake.client.demo_responder``, say)."""

    def respond(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            parsed = parse_explorer_query(dataset, query.strip(), kwargs)
        except gel.errors.EdgeDBError as exc:
            return exc
        if parsed is None:
            return fallback(query, args, kwargs)
        try:
            return answer(dataset, parsed)
        except gel.errors.EdgeDBError as exc:
            return exc

    return respond


# --- the same answers by building everything (tests, small N) ----------------------------

_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge,
}


def brute_force(dataset: ExplorerDataset, parsed: ParsedQuery) -> list[dict[str, Any]]:
    """Every object of the listed set as a dict, filtered, sorted and sliced by plain Python:
    what ``answer`` must agree with."""
    t = dataset.types[parsed.type_name]
    objects = [{"_i": i, "id": t.id_of(i),
                **{name: c.value(i) for name, c in t.columns.items()},
                **{name: len(link.targets(i)) for name, link in t.links.items()}}
               for i in range(t.n)]
    if parsed.source is not None:
        source_type, source_id, link = parsed.source
        src = dataset.types[source_type]
        index = src.index_of(source_id)
        wanted = set() if index is None else set(src.links[link].targets(index))
        objects = [o for o in objects if o["_i"] in wanted]
        for o in objects:  # the link's properties, as the followed path carries them
            assert index is not None
            o.update({f"@{name}": prop.value(index, o["_i"])
                      for name, prop in src.links[link].props.items()})

    def keep(o: dict[str, Any]) -> bool:
        for c in parsed.conditions:
            v = o[c.prop]
            if c.op == "exists":
                ok = v is not None
            elif c.op == "not exists":
                ok = v is None
            elif v is None:
                ok = False
            else:
                a = KIND_LABELS.index(str(v)) if isinstance(v, gel.EnumValue) else v
                b = KIND_LABELS.index(c.value) if isinstance(v, gel.EnumValue) else c.value
                if c.op == "ilike":
                    ok = _like(str(b)).fullmatch(str(a)) is not None
                else:
                    ok = bool(_OPERATORS[c.op](a, b))
            if not ok:
                return False
        return True

    objects = [o for o in objects if keep(o)]
    if parsed.count:
        return [{"count": len(objects)}]
    objects.sort(key=lambda o: o["id"], reverse=parsed.order is None and parsed.id_descending)
    if parsed.order is not None:
        prop, desc = parsed.order
        filled = [o for o in objects if o[prop] is not None]
        empty = [o for o in objects if o[prop] is None]
        filled.sort(key=lambda o: _comparable(o[prop]), reverse=desc)  # stable: ids stay up
        objects = filled + empty
    stop = None if parsed.limit is None else parsed.offset + parsed.limit
    return objects[parsed.offset:stop]


def as_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Driver objects as dicts of their fields (for comparing with ``brute_force``)."""
    import dataclasses
    return [dataclasses.asdict(row) for row in rows]
