"""The explorer's EdgeQL: one page of a view, its total, and "open as query".

Every name in the text comes from the schema model (a type or pointer the state names is
looked up there first; an unknown one is refused with a message), and is backquoted when
EdgeQL needs it. Filter values are parsed by the parameter parsers
(``ecc.arguments.param_values``) and sent as named parameters ``$f0, $f1, ...``; the page's
offset and limit are parameters too, so a page turn is the same text (one cached description).

The page query (its shape: ``id``, every property, each link as ``count(.link)`` named
``link_count``, or with more ``_`` when the type has a pointer of that name)::

    select default::Movie {
      id,
      title,
      actors_count := count(.actors)
    }
    filter (.release_year >= <std::int64>$f0) and (.title ilike <std::str>$f1)
    order by .release_year desc empty last then .id
    offset <std::int64>$page_offset
    limit <std::int64>$page_limit

A followed link replaces the type by ``(select Source filter .id = <std::uuid>$source).link``,
and the link's link properties (the schema model's ``Pointer.link_properties``) join the
shape as ``@name`` (the path ends with the link, so its objects carry them); the table shows
them as ``@name`` columns. They are shown only: not filtered or ordered by.
The page asks for one row more than it shows: that row says whether a next page exists
without counting (see ``ecc.explorer.paging``). The count is its own query,
``select count(<source>)`` or ``select count((select <source> filter ...))``.

Invariant: no text the user typed ever reaches the query text; only schema names do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ecc.arguments.param_values import ParamValueError, RawValue, parse_param_value
from ecc.arguments.params import ParamType, QueryParameter
from ecc.arguments.params.types import KNOWN_SCALAR_NAMES
from ecc.driver.errors import ConsoleInputError, input_error
from ecc.driver.execute import QueryRequest
from ecc.editor.language import RESERVED_KEYWORDS
from ecc.explorer.state import (
    MAX_FILTERS,
    UNARY_OPS,
    ExplorerState,
    ExplorerView,
    FilterOp,
    PropertyFilter,
)
from ecc.schema.model import ObjectType, Pointer, SchemaModel

__all__ = [
    "PAGE_LIMIT_PARAM", "PAGE_OFFSET_PARAM", "SOURCE_PARAM", "Column", "ExplorerQueries",
    "build_queries", "columns_of", "label_property", "link_properties_of", "quote_name",
    "subtypes_of",
]

PAGE_OFFSET_PARAM = "page_offset"
PAGE_LIMIT_PARAM = "page_limit"
SOURCE_PARAM = "source"
_PLAIN_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_RESERVED = frozenset(RESERVED_KEYWORDS)
_COMPARISONS: frozenset[FilterOp] = frozenset({"=", "!=", "<", "<=", ">", ">="})
# Properties that read well in a breadcrumb, first found wins.
_LABEL_NAMES = ("name", "title", "label", "username", "email", "slug", "code")


def quote_name(name: str) -> str:
    """``default::Movie`` -> ``default::Movie``; ``default::select`` -> ``default::`select```.
    Each ``::`` part is backquoted when it is not a plain identifier or is a reserved word.
    Raises ValueError for a part a backquoted name cannot hold (a backquote, or empty)."""
    parts = name.split("::")
    out = []
    for part in parts:
        if not part or "`" in part:
            raise ValueError(f"{name!r} is not a name the explorer can write")
        if _PLAIN_NAME_RE.fullmatch(part) and part.lower() not in _RESERVED:
            out.append(part)
        else:
            out.append(f"`{part}`")
    return "::".join(out)


@dataclass(frozen=True)
class Column:
    """A column of the explorer's table: a property, or a link shown as its count."""

    name: str
    is_link: bool
    target: str  # the property's type, or the link's target type
    multi: bool
    # The parameter type a filter value is parsed as; None: no value filter (arrays,
    # tuples, multi properties, types the parsers do not know).
    filter_type: ParamType | None = None
    # What the parameter is cast to in the text, when the property's type is not the
    # parameter's (an enum read from str, a custom scalar from its base).
    filter_cast: str | None = None
    orderable: bool = False
    # The field's name in the result: the property's own; for a link, the count's name
    # (``actors_count``, made unique among the type's pointers).
    result_name: str = ""

    @property
    def exists_filter_only(self) -> bool:
        return self.filter_type is None


@dataclass(frozen=True)
class ExplorerQueries:
    """What one state of the explorer sends, and what "open as query" puts in the editor."""

    columns: tuple[Column, ...]
    page: QueryRequest  # page_size + 1 rows from the offset
    count: QueryRequest  # the total with the same filters
    editor_text: str  # the page as a query: literal offset/limit, filters as parameters
    editor_args: tuple[tuple[str, str], ...]  # (parameter, its value as text) for the form
    # The followed link's link properties in the shape (``@name``), by name; () at the root.
    link_properties: tuple[str, ...] = ()


def _refuse(message: str, hint: str | None = None) -> ConsoleInputError:
    return input_error(message, title="Data explorer", hint=hint)


def _object_type(model: SchemaModel, name: str) -> ObjectType:
    found = model.object_type(name)
    if found is None or found.name != name:
        raise _refuse(f"The schema has no object type {name!r}.",
                      hint="Pick a type from the list; press Refresh in the schema explorer "
                           "after a migration.")
    return found


def _param_type(model: SchemaModel, target: str) -> tuple[ParamType, str | None] | None:
    """The parameter type a filter on a property of type ``target`` is read as, and the cast
    to ``target`` when the parameter is of another type. None: no value filter."""
    if target in KNOWN_SCALAR_NAMES:
        return ParamType("scalar", target), None
    scalar = model.scalar_type(target)
    if scalar is None or scalar.name != target:
        return None
    if scalar.enum_values:
        # Sent as str and cast: an enum is read from its label.
        return ParamType("enum", target, enum_members=scalar.enum_values), "std::str"
    seen = 0
    base: str | None = next(iter(scalar.bases), None)
    while base is not None and seen < 32:  # a custom scalar: its built-in base reads it
        if base in KNOWN_SCALAR_NAMES:
            return ParamType("scalar", base), base
        parent = model.scalar_type(base)
        base = next(iter(parent.bases), None) if parent is not None else None
        seen += 1
    return None


def _visible(pointer: Pointer) -> bool:
    return not pointer.name.startswith("__")


def columns_of(model: SchemaModel, type_name: str) -> tuple[Column, ...]:
    """The table's columns for ``type_name``: ``id``, its properties by name, then its links
    by name."""
    otype = _object_type(model, type_name)
    props = sorted((p for p in otype.pointers if not p.is_link and _visible(p)),
                   key=lambda p: (p.name != "id", p.name))
    links = sorted((p for p in otype.pointers if p.is_link and _visible(p)),
                   key=lambda p: p.name)
    out = []
    for p in props:
        multi = p.cardinality == "multi"
        typed = None if multi else _param_type(model, p.target)
        out.append(Column(
            p.name, False, p.target, multi,
            filter_type=typed[0] if typed else None,
            filter_cast=(p.target if typed and typed[1] is not None else None),
            orderable=not multi,
            result_name=p.name,
        ))
    taken = {p.name for p in otype.pointers}
    for p in links:
        alias = f"{p.name}_count"
        while alias in taken:
            alias += "_"
        taken.add(alias)
        out.append(Column(p.name, True, p.target, p.cardinality == "multi", result_name=alias))
    return tuple(out)


def label_property(model: SchemaModel, type_name: str) -> str | None:
    """The property a breadcrumb names an object by (``name``, ``title``, ...), if any."""
    otype = model.object_type(type_name)
    if otype is None:
        return None
    by_name = {p.name: p for p in otype.pointers if not p.is_link}
    for name in _LABEL_NAMES:
        p = by_name.get(name)
        if p is not None and p.cardinality == "single" and p.target == "std::str":
            return name
    return None


def _followed_link(model: SchemaModel, view: ExplorerView) -> Pointer | None:
    """The link a view follows (checked against the schema model), or None at the root."""
    if view.via is None:
        return None
    step = view.via
    source = _object_type(model, step.source_type)
    link = source.pointer(step.link)
    if link is None or not link.is_link:
        raise _refuse(f"{source.name} has no link {step.link!r}.")
    if link.target != view.type_name:
        raise _refuse(f"{source.name}.{step.link} links to {link.target}, not {view.type_name}.")
    return link


def link_properties_of(model: SchemaModel, view: ExplorerView) -> tuple[str, ...]:
    """The followed link's link properties a page shows (by name; none at the root)."""
    link = _followed_link(model, view)
    if link is None:
        return ()
    names = sorted({lp.name for lp in link.link_properties if not lp.name.startswith("__")})
    for name in names:
        quote_name(name)  # a name the text cannot hold is refused, not written
    return tuple(names)


def subtypes_of(model: SchemaModel, type_name: str) -> tuple[str, ...]:
    """Every object type that extends ``type_name`` (at any depth), by name: their objects
    are in the type's set, but the page's shape names only the type's own pointers."""
    return tuple(sorted(t.name for t in model.object_types
                        if t.name != type_name
                        and (type_name in t.ancestors or type_name in t.bases)))


def _source(model: SchemaModel, view: ExplorerView) -> tuple[str, dict[str, object],
                                                             dict[str, str]]:
    """The set a view lists, as text, with its parameter (a followed link's source id)."""
    if view.via is None:
        return quote_name(_object_type(model, view.type_name).name), {}, {}
    step = view.via
    link = _followed_link(model, view)
    assert link is not None
    _object_type(model, link.target)
    text = (f"(select {quote_name(step.source_type)} filter .id = <std::uuid>${SOURCE_PARAM})"
            f".{quote_name(link.name)}")
    return text, {SOURCE_PARAM: step.source_id}, {SOURCE_PARAM: str(step.source_id)}


def _condition(column: Column, op: FilterOp, param: str) -> str:
    path = "." + quote_name(column.name)
    if op in UNARY_OPS:
        return f"{op} {path}"
    assert column.filter_type is not None
    # An enum's label is sent as str; any other value as its (base) scalar type.
    sent = "std::str" if column.filter_type.kind == "enum" else column.filter_type.name
    value = f"<{sent}>${param}"
    if column.filter_cast is not None:
        value = f"<{quote_name(column.filter_cast)}>{value}"
    return f"{path} {op} {value}"


def _filters(columns: Mapping[str, Column], filters: tuple[PropertyFilter, ...]
             ) -> tuple[list[str], dict[str, object], dict[str, str]]:
    if len(filters) > MAX_FILTERS:
        raise _refuse(f"{len(filters)} filters; the explorer takes at most {MAX_FILTERS}.")
    conditions: list[str] = []
    values: dict[str, object] = {}
    texts: dict[str, str] = {}
    for f in filters:
        column = columns.get(f.prop)
        if column is None or column.is_link:
            raise _refuse(f"Cannot filter on {f.prop!r}: the type has no such property.")
        param = f"f{len(values)}"
        if f.op in UNARY_OPS:
            conditions.append(_condition(column, f.op, param))
            continue
        if column.filter_type is None:
            raise _refuse(f"{f.prop} ({column.target}) can only be filtered by exists / "
                          "not exists.")
        if f.op == "ilike" and column.filter_type.name != "std::str":
            raise _refuse(f"ilike needs a str property; {f.prop} is {column.target}.")
        if f.op not in _COMPARISONS and f.op != "ilike":
            raise _refuse(f"Unknown filter operator {f.op!r}.")
        try:
            value = parse_param_value(QueryParameter(f.prop, column.filter_type, False), f.value)
        except ParamValueError as exc:
            raise _refuse(f"Filter on {f.prop}: {exc.message}",
                          hint="Write the value as a parameter of that type is written."
                          ) from None
        conditions.append(_condition(column, f.op, param))
        values[param] = value
        texts[param] = filter_value_text(f.value)
    return conditions, values, texts


def _order(columns: Mapping[str, Column], view: ExplorerView) -> str:
    """Always ends with ``.id``: offsets page over a total order."""
    order = view.order
    if order is None or order.prop == "id":
        direction = " desc" if order is not None and order.descending else ""
        return f"order by .id{direction}"
    column = columns.get(order.prop)
    if column is None or not column.orderable:
        raise _refuse(f"Cannot order by {order.prop!r}: not a single property of the type.")
    direction = "desc" if order.descending else "asc"
    return f"order by .{quote_name(column.name)} {direction} empty last then .id"


def _shape(columns: tuple[Column, ...], link_properties: tuple[str, ...] = ()) -> str:
    lines = []
    for c in columns:
        name = quote_name(c.name)
        # A link's count under a name of its own: a computed never shadows a pointer.
        lines.append(f"  {quote_name(c.result_name)} := count(.{name})" if c.is_link
                     else f"  {name}")
    lines += [f"  @{quote_name(name)}" for name in link_properties]
    return "{\n" + ",\n".join(lines) + "\n}"


def build_queries(model: SchemaModel, state: ExplorerState) -> ExplorerQueries:
    """The page, count and editor text of the state's current view. Raises
    ``ConsoleInputError`` naming what is wrong (an unknown name, a bad filter value)."""
    view = state.current
    columns = columns_of(model, view.type_name)
    by_name = {c.name: c for c in columns}
    source, source_args, source_texts = _source(model, view)
    try:
        link_props = link_properties_of(model, view)
    except ValueError as exc:
        raise _refuse(str(exc)) from None
    conditions, filter_args, filter_texts = _filters(by_name, view.filters)
    where = ("filter " + " and ".join(f"({c})" for c in conditions)) if conditions else ""
    order = _order(by_name, view)
    page_size = max(1, state.page_size)
    offset = max(0, view.page) * page_size
    head = f"select {source} {_shape(columns, link_props)}"
    body = [head] + ([where] if where else []) + [order]
    page_text = "\n".join([*body, f"offset <std::int64>${PAGE_OFFSET_PARAM}",
                           f"limit <std::int64>${PAGE_LIMIT_PARAM}"])
    page_args = {**source_args, **filter_args, PAGE_OFFSET_PARAM: offset,
                 PAGE_LIMIT_PARAM: page_size + 1}
    counted = f"(select {source} {where})" if where else source
    count_text = f"select count({counted})"
    count_args = {**source_args, **filter_args}
    editor_text = "\n".join([*body, f"offset {offset}", f"limit {page_size}"])
    editor_args = tuple({**source_texts, **filter_texts}.items())
    label = view.type_name if view.via is None else f"{view.via.source_type}.{view.via.link}"
    return ExplorerQueries(
        columns=columns,
        page=QueryRequest(name=f"explore {label}", query=page_text, kwargs=page_args),
        count=QueryRequest(name=f"count {label}", query=count_text, kwargs=count_args),
        editor_text=editor_text,
        editor_args=editor_args,
        link_properties=link_props,
    )


def filter_value_text(value: RawValue) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value).lower())
