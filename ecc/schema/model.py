"""The schema of the connected branch, as plain value objects.

One model feeds the schema explorer (list, search, graph, "query this type") and the query
editor's completions. It is built from the server's introspection (``schema::`` types) by
``ecc.schema.introspect``; nothing here talks to the server or to Streamlit.

Names are fully qualified (``default::Movie``, ``std::str``); ``short_name`` drops the module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

PointerKind = Literal["property", "link"]
Cardinality = Literal["single", "multi"]

# Modules the server ships; hidden behind a toggle in the explorer. ``builtin`` alone is not
# enough: ``cfg::*`` object types report ``builtin: false`` on a real server.
STANDARD_MODULES = frozenset(
    {"std", "sys", "cfg", "schema", "math", "cal", "fts", "ext", "pg", "std::enc", "std::_test",
     "std::net", "std::net::http", "std::pg"}
)


def module_of(name: str) -> str:
    """``default::Movie`` -> ``default``; ``std::enc::Foo`` -> ``std::enc``."""
    module, sep, _ = name.rpartition("::")
    return module if sep else ""


def short_name(name: str) -> str:
    return name.rpartition("::")[2]


def is_standard(module: str) -> bool:
    return module in STANDARD_MODULES or module.split("::", 1)[0] in {"std", "ext", "sys",
                                                                       "cfg", "schema"}


@dataclass(frozen=True)
class Annotation:
    name: str  # std::title, std::description, ...
    value: str


@dataclass(frozen=True)
class Constraint:
    name: str  # std::exclusive, std::max_len_value, ...
    params: tuple[tuple[str, str], ...] = ()  # (name, value as the server wrote it)
    expr: str | None = None  # for expression constraints


@dataclass(frozen=True)
class LinkProperty:
    name: str
    target: str


@dataclass(frozen=True)
class Pointer:
    """A property or a link of an object type."""

    name: str
    kind: PointerKind
    target: str
    cardinality: Cardinality = "single"
    required: bool = False
    readonly: bool = False
    computed: str | None = None  # the computed expression, when there is one
    default: str | None = None
    constraints: tuple[Constraint, ...] = ()
    link_properties: tuple[LinkProperty, ...] = ()
    annotations: tuple[Annotation, ...] = ()

    @property
    def is_link(self) -> bool:
        return self.kind == "link"


@dataclass(frozen=True)
class ObjectType:
    name: str
    abstract: bool = False
    bases: tuple[str, ...] = ()
    pointers: tuple[Pointer, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    indexes: tuple[str, ...] = ()  # index expressions
    access_policies: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    rewrites: tuple[str, ...] = ()  # "pointer: kind" (a rewrite belongs to one pointer)
    constraints: tuple[Constraint, ...] = ()  # type-level ones (exclusive on (.a, .b), ...)
    ancestors: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return module_of(self.name)

    @property
    def short_name(self) -> str:
        return short_name(self.name)

    def pointer(self, name: str) -> Pointer | None:
        return next((p for p in self.pointers if p.name == name), None)


@dataclass(frozen=True)
class ScalarType:
    name: str
    bases: tuple[str, ...] = ()
    enum_values: tuple[str, ...] = ()  # in the server's order
    constraints: tuple[Constraint, ...] = ()
    annotations: tuple[Annotation, ...] = ()

    @property
    def module(self) -> str:
        return module_of(self.name)

    @property
    def is_enum(self) -> bool:
        return bool(self.enum_values)


@dataclass(frozen=True)
class FunctionParam:
    name: str
    type: str
    kind: str = "PositionalParam"  # PositionalParam | NamedOnlyParam | VariadicParam
    typemod: str = "SingletonType"  # SingletonType | OptionalType | SetOfType
    default: str | None = None


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[FunctionParam, ...] = ()
    return_type: str = ""
    return_typemod: str = "SingletonType"
    annotations: tuple[Annotation, ...] = ()

    @property
    def module(self) -> str:
        return module_of(self.name)


@dataclass(frozen=True)
class Alias:
    name: str
    expr: str = ""
    type: str = ""


@dataclass(frozen=True)
class Global:
    name: str
    target: str = ""
    required: bool = False
    cardinality: Cardinality = "single"
    default: str | None = None
    computed: str | None = None


@dataclass(frozen=True)
class SchemaProblem:
    """A part of ``schema::`` the role could not read; the rest of the model still holds."""

    part: str  # "object types", "functions", ...
    message: str


@dataclass(frozen=True)
class SchemaModel:
    modules: tuple[str, ...] = ()
    object_types: tuple[ObjectType, ...] = ()
    scalar_types: tuple[ScalarType, ...] = ()
    functions: tuple[Function, ...] = ()
    aliases: tuple[Alias, ...] = ()
    globals: tuple[Global, ...] = ()
    extensions: tuple[str, ...] = ()
    builtin_function_names: tuple[str, ...] = ()  # std functions, for completion only
    problems: tuple[SchemaProblem, ...] = ()
    read_s: float = 0.0  # how long the introspection took
    builtin_modules: tuple[str, ...] = ()  # modules the server reports as builtin
    part_s: tuple[tuple[str, float], ...] = ()  # (part, seconds) per introspection query
    standard_read: bool = False  # the standard library's types and functions are included
    standard_read_s: float = 0.0
    # Lookup caches, filled on first use. init=False: dataclasses.replace() must give the new
    # model fresh ones, never the old model's index.
    _by_name: dict[str, ObjectType] = field(default_factory=dict, compare=False, repr=False,
                                            init=False)
    _scalars: dict[str, ScalarType] = field(default_factory=dict, compare=False, repr=False,
                                            init=False)

    def is_standard_module(self, module: str) -> bool:
        """Shipped by the server: by name (``cfg`` types say ``builtin: false``) or as the
        server reports it (an extension's module)."""
        return is_standard(module) or module in self.builtin_modules

    @property
    def user_modules(self) -> tuple[str, ...]:
        return tuple(m for m in self.modules if not self.is_standard_module(m))

    def object_type(self, name: str) -> ObjectType | None:
        """By full name, or by short name: a user module's type wins over a standard one, and
        a short name two user modules share resolves to neither."""
        if not self._by_name:
            self._by_name.update(_name_index(self.object_types, self.is_standard_module))
        return self._by_name.get(name)

    def scalar_type(self, name: str) -> ScalarType | None:
        if not self._scalars:
            self._scalars.update(_name_index(self.scalar_types, self.is_standard_module))
        return self._scalars.get(name)

    def subtypes(self, name: str) -> tuple[str, ...]:
        """The object types that name ``name`` among their bases, by name."""
        return tuple(t.name for t in self.object_types if name in t.bases)

    def counts(self) -> dict[str, int]:
        return {
            "modules": len(self.modules),
            "object types": len(self.object_types),
            "scalar types": len(self.scalar_types),
            "functions": len(self.functions),
            "aliases": len(self.aliases),
            "globals": len(self.globals),
            "extensions": len(self.extensions),
        }


_Named = TypeVar("_Named", ObjectType, ScalarType)


def _name_index(items: tuple[_Named, ...], standard: Callable[[str], bool]
                ) -> dict[str, _Named]:
    index: dict[str, _Named] = {item.name: item for item in items}
    user: dict[str, list[_Named]] = {}
    for item in items:
        if not standard(module_of(item.name)):
            user.setdefault(short_name(item.name), []).append(item)
    for short, found in user.items():
        if len(found) == 1:
            index.setdefault(short, found[0])
    shadowed = set(user)  # a short name a user module uses never means a standard type
    for item in items:
        short = short_name(item.name)
        if short not in shadowed and standard(module_of(item.name)):
            index.setdefault(short, item)
    return index
