"""What the schema explorer shows, computed from a ``SchemaModel`` (pure; no Streamlit, no I/O).

- ``build_view``: the modules shown (user modules by default, standard ones behind a toggle),
  and the types, scalars, functions, aliases and globals of the chosen module, narrowed by a
  search (name, type name or annotation, case-insensitive) whose matches carry their span;
- table rows for each kind (plain lists of strings/bools: the page shows them as dataframes);
- ``query_text``: "Query this type" (``select Module::Type { ... } limit 100``);
- ``graph_dot``: a DOT graph of object types (properties in the nodes, links as edges labelled
  with their cardinality, inheritance dashed), scoped to a module or to one type and its
  neighbours.

Names and strings come from the server (and, for the search, from the user): every text that
goes into DOT is escaped here; ``highlight_markdown`` escapes Markdown (``ecc.display.safe_text``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ecc.display.safe_text import escape_markdown
from ecc.schema.model import (
    Alias,
    Annotation,
    Constraint,
    Function,
    Global,
    ObjectType,
    ScalarType,
    SchemaModel,
    module_of,
    short_name,
)

ALL_MODULES = ""  # the module choice that shows every shown module at once
MAX_MATCHES = 200  # a search lists at most this many matches (the filter still uses all)


# --- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One place a search matched: ``text[start:end]`` is the matched part."""

    kind: str  # "object type", "property", "link", "scalar type", "enum member", ...
    owner: str  # the fully qualified name of the listed item (type, scalar, function, ...)
    where: str  # what is shown: "default::Movie", "default::Movie.title", ...
    field: str  # "name", "type" or "annotation"
    text: str
    start: int
    end: int


class _Searcher:
    def __init__(self, needle: str) -> None:
        self.needle = needle.casefold()
        self.found: list[Match] = []

    def check(self, kind: str, owner: str, where: str, field: str, text: str) -> None:
        at = text.casefold().find(self.needle)
        # casefold can change lengths (ß -> ss): keep the span inside the original text
        if at >= 0 and len(text.casefold()) == len(text):
            self.found.append(Match(kind, owner, where, field, text, at, at + len(self.needle)))
        elif at >= 0:
            self.found.append(Match(kind, owner, where, field, text, 0, len(text)))

    def item(self, kind: str, owner: str, name: str, *, where: str | None = None,
             members: Iterable[str] = (), types: Iterable[str] = (),
             annotations: Iterable[Annotation] = ()) -> None:
        """One listed item (shown as ``where``, by default its owner's name): its name, enum
        members, type names and annotations, in that order."""
        where = where or owner
        self.check(kind, owner, where, "name", name)
        for member in members:
            self.check("enum member", owner, where, "name", member)
        for type_name in types:
            self.check(kind, owner, where, "type", type_name)
        for a in annotations:
            self.check(kind, owner, where, "annotation", a.value)


def search(model: SchemaModel, needle: str, modules: Iterable[str] | None = None
           ) -> list[Match]:
    """Every name, type name and annotation containing ``needle`` (case-insensitive), in
    ``modules`` (all when None)."""
    needle = needle.strip()
    if not needle:
        return []
    wanted = set(modules) if modules is not None else None
    s = _Searcher(needle)

    def shown(name: str) -> bool:
        return wanted is None or module_of(name) in wanted

    for t in model.object_types:
        if shown(t.name):
            s.item("object type", t.name, t.name, annotations=t.annotations)
            for p in t.pointers:
                s.item(p.kind, t.name, p.name, where=f"{t.name}.{p.name}", types=(p.target,),
                       annotations=p.annotations)
    for sc in model.scalar_types:
        if shown(sc.name):
            s.item("scalar type", sc.name, sc.name, members=sc.enum_values,
                   annotations=sc.annotations)
    for f in model.functions:
        if shown(f.name):
            s.item("function", f.name, f.name,
                   types=(*(param.type for param in f.params), f.return_type),
                   annotations=f.annotations)
    for al in model.aliases:
        if shown(al.name):
            s.item("alias", al.name, al.name, types=(al.type,))
    for g in model.globals:
        if shown(g.name):
            s.item("global", g.name, g.name, types=(g.target,))
    return s.found


# --- the view -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaView:
    modules: tuple[str, ...]  # the modules one may choose (user ones, plus standard if asked)
    module: str  # the chosen one, or ALL_MODULES
    object_types: tuple[ObjectType, ...]
    scalar_types: tuple[ScalarType, ...]
    functions: tuple[Function, ...]
    aliases: tuple[Alias, ...]
    globals: tuple[Global, ...]
    matches: tuple[Match, ...] = ()  # at most MAX_MATCHES
    match_count: int = 0
    search: str = ""

    @property
    def empty(self) -> bool:
        return not (self.object_types or self.scalar_types or self.functions or self.aliases
                    or self.globals)


def shown_modules(model: SchemaModel, include_standard: bool) -> tuple[str, ...]:
    """User modules, then (when asked) the standard ones; each in the server's order."""
    user = model.user_modules
    if not include_standard:
        return user
    return user + tuple(m for m in model.modules if m not in user)


def build_view(model: SchemaModel, *, include_standard: bool = False,
               module: str = ALL_MODULES, search_text: str = "") -> SchemaView:
    """What the list shows for these choices. A module no longer shown falls back to all."""
    modules = shown_modules(model, include_standard)
    chosen = module if module in modules else ALL_MODULES
    in_scope = {chosen} if chosen else set(modules)

    def scoped(name: str) -> bool:
        return module_of(name) in in_scope

    matches = search(model, search_text, None) if search_text.strip() else []
    matches = [m for m in matches if scoped(m.owner)]
    owners = {m.owner for m in matches}

    def keep(name: str) -> bool:
        return scoped(name) and (not search_text.strip() or name in owners)

    return SchemaView(
        modules=modules,
        module=chosen,
        object_types=tuple(t for t in model.object_types if keep(t.name)),
        scalar_types=tuple(s for s in model.scalar_types if keep(s.name)),
        functions=tuple(f for f in model.functions if keep(f.name)),
        aliases=tuple(a for a in model.aliases if keep(a.name)),
        globals=tuple(g for g in model.globals if keep(g.name)),
        matches=tuple(matches[:MAX_MATCHES]),
        match_count=len(matches),
        search=search_text.strip(),
    )


# --- table rows -----------------------------------------------------------------------------

Columns = dict[str, list[object]]


_STD_PREFIX = re.compile(r"\bstd::(?!\w+::)")


def type_name(name: str) -> str:
    """``std::str`` -> ``str``, ``array<std::str>`` -> ``array<str>`` (std is always in
    scope); other modules stay qualified."""
    return _STD_PREFIX.sub("", name)


def constraint_text(c: Constraint) -> str:
    name = type_name(c.name)
    args = ", ".join(v for _, v in c.params)
    text = f"{name}({args})" if args else name
    return f"{text} on ({c.expr.strip('()')})" if c.expr else text


def object_type_columns(types: Sequence[ObjectType]) -> Columns:
    return {
        "type": [t.name for t in types],
        "abstract": [t.abstract for t in types],
        "extends": [", ".join(t.bases) for t in types],
        "properties": [sum(1 for p in t.pointers if not p.is_link) for t in types],
        "links": [sum(1 for p in t.pointers if p.is_link) for t in types],
        "description": [_annotation(t.annotations, "std::description") for t in types],
    }


def pointer_columns(t: ObjectType) -> Columns:
    ps = t.pointers
    return {
        "name": [p.name for p in ps],
        "kind": [p.kind for p in ps],
        "type": [type_name(p.target) for p in ps],
        "cardinality": [p.cardinality for p in ps],
        "required": [p.required for p in ps],
        "readonly": [p.readonly for p in ps],
        "default": [p.default or "" for p in ps],
        "computed": [p.computed or "" for p in ps],
        "constraints": [", ".join(constraint_text(c) for c in p.constraints) for p in ps],
        "link properties": [", ".join(f"@{lp.name}: {type_name(lp.target)}"
                                      for lp in p.link_properties) for p in ps],
        "annotations": [", ".join(f"{short_name(a.name)}: {a.value}" for a in p.annotations)
                        for p in ps],
    }


def scalar_columns(scalars: Sequence[ScalarType]) -> Columns:
    return {
        "scalar type": [s.name for s in scalars],
        "extends": [", ".join(type_name(b) for b in s.bases) for s in scalars],
        "enum members": [", ".join(s.enum_values) for s in scalars],
        "constraints": [", ".join(constraint_text(c) for c in s.constraints) for s in scalars],
        "description": [_annotation(s.annotations, "std::description") for s in scalars],
    }


def function_signature(f: Function) -> str:
    """``default::f(year: int64, named only n: optional str = 1) -> set of default::Movie``"""
    params = []
    for p in f.params:
        prefix = {"NamedOnlyParam": "named only ", "VariadicParam": "variadic "}.get(p.kind, "")
        text = f"{prefix}{p.name}: {_typemod(p.typemod)}{type_name(p.type)}"
        params.append(text + (f" = {p.default}" if p.default is not None else ""))
    returns = f"{_typemod(f.return_typemod)}{type_name(f.return_type)}"
    return f"{f.name}({', '.join(params)}) -> {returns}"


def function_columns(functions: Sequence[Function]) -> Columns:
    return {
        "signature": [function_signature(f) for f in functions],
        "description": [_annotation(f.annotations, "std::description") for f in functions],
    }


def alias_columns(aliases: Sequence[Alias]) -> Columns:
    return {"alias": [a.name for a in aliases], "type": [a.type for a in aliases],
            "expression": [a.expr for a in aliases]}


def global_columns(globals_: Sequence[Global]) -> Columns:
    return {
        "global": [g.name for g in globals_],
        "type": [type_name(g.target) for g in globals_],
        "cardinality": [g.cardinality for g in globals_],
        "required": [g.required for g in globals_],
        "default": [g.default or "" for g in globals_],
        "computed": [g.computed or "" for g in globals_],
    }


def _typemod(typemod: str) -> str:
    return {"OptionalType": "optional ", "SetOfType": "set of "}.get(typemod, "")


def _annotation(annotations: Iterable[Annotation], name: str) -> str:
    return next((a.value for a in annotations if a.name == name), "")


# --- "Query this type" ----------------------------------------------------------------------

QUERY_LIMIT = 100
# Reserved words of EdgeQL: as names they must be quoted with backticks.
_RESERVED_TEXT = """
__source__ __std__ __subject__ __type__ abort alter analyze and anyarray anytuple anytype
begin by case check commit configure create deallocate delete describe detached discard
distinct do drop else end except exists explain extending fetch filter for get global grant
group if ilike import in insert intersect introspect is like limit listen load lock match
module move never not notify offset on optional or order over partition prepare raise
refresh reindex revoke rollback select set single start typeof union update variadic when
window with false true empty
"""
RESERVED = frozenset(_RESERVED_TEXT.split())
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_name(name: str) -> str:
    """A fully qualified name as EdgeQL text: each part quoted with backticks if it must be."""
    return "::".join(_quote_part(part) for part in name.split("::"))


def _quote_part(part: str) -> str:
    if _IDENT.match(part) and part.lower() not in RESERVED:
        return part
    return "`" + part.replace("`", "``") + "`"


def _shape_fields(t: ObjectType | None) -> list[str]:
    if t is None:
        return ["id"]
    fields = [_quote_part(p.name) for p in t.pointers if not p.is_link and p.name != "id"]
    return fields or ["id"]


def query_text(model: SchemaModel, name: str, limit: int = QUERY_LIMIT) -> str:
    """``select Module::Type { its properties, a link: { its target's properties } }``."""
    t = model.object_type(name)
    if t is None:
        raise KeyError(name)
    lines = [f"  {f}," for f in _shape_fields(t)]
    for p in t.pointers:
        if not p.is_link:
            continue
        inner = _shape_fields(model.object_type(p.target))
        inner += [f"@{_quote_part(lp.name)}" for lp in p.link_properties]
        lines.append(f"  {_quote_part(p.name)}: {{ {', '.join(inner)} }},")
    return f"select {quote_name(t.name)} {{\n" + "\n".join(lines) + f"\n}}\nlimit {limit}"


# --- graph ----------------------------------------------------------------------------------

MAX_NODE_PROPERTIES = 12  # more are summarised as "… N more"
_RECORD_SPECIAL = re.compile(r'([\\"{}<>|])')


def dot_string(text: str) -> str:
    """A DOT quoted string (node ids, edge labels): quotes and backslashes escaped."""
    clean = text.replace("\r", " ").replace("\n", " ")
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_record_text(text: str) -> str:
    """Text inside a record label: its field separators and escapes made literal."""
    clean = text.replace("\r", " ").replace("\n", " ")
    return _RECORD_SPECIAL.sub(r"\\\1", clean)


def _node_label(t: ObjectType, max_properties: int) -> str:
    title = t.name + (" (abstract)" if t.abstract else "")
    props = [p for p in t.pointers if not p.is_link and p.name != "id"]
    rows = []
    for p in props[:max_properties]:
        mark = "" if p.cardinality == "single" else " [multi]"
        req = " *" if p.required else ""
        computed = " :=" if p.computed else ""
        rows.append(dot_record_text(f"{p.name}: {type_name(p.target)}{mark}{req}{computed}")
                    + "\\l")
    if len(props) > max_properties:
        rows.append(dot_record_text(f"… {len(props) - max_properties} more") + "\\l")
    return "{" + dot_record_text(title) + "|" + "".join(rows) + "}"


def graph_dot(model: SchemaModel, names: Iterable[str], *,
              max_properties: int = MAX_NODE_PROPERTIES, focus: str | None = None) -> str:
    """A digraph of the object types ``names``: their links and bases to each other and to
    types outside the set (drawn as plain outlined nodes)."""
    chosen = [t for n in dict.fromkeys(names) if (t := model.object_type(n)) is not None]
    inside = {t.name for t in chosen}
    lines = [
        "digraph schema {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=10, nodesep=0.3, ranksep=0.6];',
        '  node [shape=record, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    outside: dict[str, None] = {}
    edges = []
    for t in chosen:
        style = ', style="filled", fillcolor="#fff3cd"' if t.name == focus else (
            ', style="dashed"' if t.abstract else "")
        label = dot_string_raw(_node_label(t, max_properties))
        lines.append(f"  {dot_string(t.name)} [label={label}{style}];")
        for p in t.pointers:
            if not p.is_link:
                continue
            if p.target not in inside:
                outside[p.target] = None
            label = f"{p.name} [{p.cardinality}]" + (" :=" if p.computed else "")
            edges.append(f"  {dot_string(t.name)} -> {dot_string(p.target)} "
                         f"[label={dot_string(label)}];")
        for base in t.bases:
            if base == "std::Object" or base == "std::BaseObject":
                continue
            if base not in inside:
                outside[base] = None
            edges.append(f"  {dot_string(t.name)} -> {dot_string(base)} "
                         '[style=dashed, arrowhead=onormal, color="#666666", label="extends"];')
    for name in outside:
        lines.append(f"  {dot_string(name)} [shape=box, style=rounded, color=\"#999999\"];")
    lines.extend(edges)
    lines.append("}")
    return "\n".join(lines)


def dot_string_raw(label: str) -> str:
    """A record label (already escaped for records) as a DOT quoted string. Record escapes
    (``\\{``, ``\\l``) must reach Graphviz unchanged, so only quotes need care here; a quote
    in the label is always already escaped as ``\\"`` by ``dot_record_text``."""
    return '"' + label + '"'


def module_graph(model: SchemaModel, module: str, **kwargs: object) -> str:
    return graph_dot(model, (t.name for t in model.object_types if t.module == module),
                     **kwargs)  # type: ignore[arg-type]


def neighbours(model: SchemaModel, name: str) -> list[str]:
    """``name``, the types it links to or extends, and those that link to or extend it."""
    t = model.object_type(name)
    if t is None:
        return []
    out = [t.name]
    out += [p.target for p in t.pointers if p.is_link]
    out += list(t.bases)
    for other in model.object_types:
        if other.name == t.name:
            continue
        if t.name in other.bases or any(p.is_link and p.target == t.name
                                        for p in other.pointers):
            out.append(other.name)
    return list(dict.fromkeys(n for n in out if model.object_type(n) is not None))


def type_graph(model: SchemaModel, name: str, **kwargs: object) -> str:
    t = model.object_type(name)
    return graph_dot(model, neighbours(model, name), focus=t.name if t else None,
                     **kwargs)  # type: ignore[arg-type]


# --- Markdown -------------------------------------------------------------------------------
def highlight_markdown(text: str, start: int, end: int) -> str:
    """``text`` as Markdown with ``text[start:end]`` on a highlight background (Streamlit's
    ``:orange-background[...]``; bold would fail CommonMark's flanking rules next to
    punctuation); everything escaped, so the match cannot close the directive early."""
    start, end = max(0, start), min(len(text), end)
    head, hit, tail = text[:start], text[start:end], text[end:]
    marked = f":orange-background[{escape_markdown(hit, fragment=True)}]" if hit else ""
    return escape_markdown(head, fragment=True) + marked + escape_markdown(tail, fragment=True)
