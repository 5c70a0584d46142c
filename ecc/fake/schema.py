"""The fake server's schema: introspection answers in the driver's real datatypes.

A ``SchemaModel`` (the demo movie schema, or a generated one for benchmarks) is rendered into
the rows a real server returns for each of ``ecc.schema.introspect.PARTS``' queries: ``gel.Object``s
with the same fields in the same order, link properties (``@value``), ``gel.EnumValue``s of
the server's enum types (``schema::Cardinality``, ...), the pointers and link properties every
object has (``__type__``, ``id``, ``source``, ``target``). The tests check these answers against
what a real 5.8 server returned (``../shared/gel-transcripts/``).

``schema_responder(model, refuse=("functions",))`` answers the introspection queries and
refuses the named parts as a role without access would (``gel.errors.AccessError``); any other
query goes to the fallback responder.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import gel
import gel.errors
from gel.datatypes import datatypes as dt
from gel.pgproto.pgproto import UUID as DriverUUID

from ecc.fake.datatypes import make_enum_type
from ecc.schema import introspect
from ecc.schema.model import (
    Alias,
    Annotation,
    Constraint,
    Function,
    FunctionParam,
    Global,
    LinkProperty,
    ObjectType,
    Pointer,
    ScalarType,
    SchemaModel,
)

Responder = Callable[[str, tuple[Any, ...], dict[str, Any]], Any]

# --- the server's enum types, built as the driver derives them (codecs/enum.pyx) --------------


def _cardinality(value: str) -> gel.EnumValue:
    return make_enum_type(("One", "Many"))("Many" if value == "multi" else "One")


def _param_kind(value: str) -> gel.EnumValue:
    return make_enum_type(("VariadicParam", "NamedOnlyParam", "PositionalParam"))(value)


def _typemod(value: str) -> gel.EnumValue:
    return make_enum_type(("SetOfType", "OptionalType", "SingletonType"))(value)


def _rewrite_kind(value: str) -> gel.EnumValue:
    return make_enum_type(("Update", "Delete", "Insert"))(value.capitalize())


# --- row factories: one per shape the queries ask for (field order = shape order) ------------
_IMPLICIT_ID = {"property", "implicit"}
_named = dt.create_object_factory(id=_IMPLICIT_ID, name="property")
_module = dt.create_object_factory(id=_IMPLICIT_ID, name="property", builtin="property")
_annotation = dt.create_object_factory(id=_IMPLICIT_ID, name="property", value="link-property")
_param_value = _annotation  # {name, @value}
_constraint = dt.create_object_factory(
    id=_IMPLICIT_ID, name="property", subjectexpr="property", params="link"
)
_link_property = dt.create_object_factory(id=_IMPLICIT_ID, name="property", target="link")
_pointer = dt.create_object_factory(
    id=_IMPLICIT_ID, name="property", cardinality="property", required="property",
    readonly="property", expr="property", default="property", target="link",
    constraints="link", annotations="link", properties="link", __type__="link",
)
_object_type = dt.create_object_factory(
    id=_IMPLICIT_ID, name="property", abstract="property", builtin="property",
    internal="property", bases="link", ancestors="link", annotations="link", pointers="link",
    constraints="link", indexes="link", access_policies="link",
)
_index = dt.create_object_factory(id=_IMPLICIT_ID, expr="property")
_scalar = dt.create_object_factory(
    id=_IMPLICIT_ID, name="property", enum_values="property", bases="link",
    constraints="link", annotations="link",
)
_function_param = dt.create_object_factory(
    id=_IMPLICIT_ID, name="property", kind="property", type="link", typemod="property",
    default="property",
)
_function = dt.create_object_factory(
    id=_IMPLICIT_ID, name="property", params="link", return_type="link",
    return_typemod="property", annotations="link",
)
_alias = dt.create_object_factory(id=_IMPLICIT_ID, name="property", expr="property",
                                  type="link")
_global = dt.create_object_factory(
    id=_IMPLICIT_ID, name="property", target="link", required="property",
    cardinality="property", default="property", expr="property",
)
_trigger_type = dt.create_object_factory(id=_IMPLICIT_ID, name="property", triggers="link",
                                         pointers="link")
_rewrite_pointer = dt.create_object_factory(id=_IMPLICIT_ID, name="property", rewrites="link")
_rewrite = dt.create_object_factory(id=_IMPLICIT_ID, kind="property")


def _id(*parts: str) -> DriverUUID:
    """A stable id per schema object (the driver hands back its own UUID type)."""
    return DriverUUID(uuid.uuid5(uuid.NAMESPACE_OID, "/".join(parts)).bytes)


def _ref(name: str) -> Any:
    return _named(_id(name), name)


def _annotations(owner: str, items: Iterable[Annotation]) -> list[Any]:
    return [_annotation(_id(owner, a.name), a.name, a.value) for a in items]


def _constraints(owner: str, items: Iterable[Constraint]) -> list[Any]:
    out = []
    for c in items:
        # The server lists the constrained value as the parameter __subject__.
        params = [_param_value(_id("param", "__subject__"), "__subject__", "")]
        params += [_param_value(_id(owner, c.name, n), n, v) for n, v in c.params]
        out.append(_constraint(_id(owner, c.name), c.name, c.expr, params))
    return out


def _pointer_row(owner: str, p: Pointer) -> Any:
    key = f"{owner}.{p.name}"
    props = []
    if p.is_link:
        props = [_link_property(_id(key, "target"), "target", _ref(p.target)),
                 _link_property(_id(key, "source"), "source", _ref(owner))]
        props += [_link_property(_id(key, lp.name), lp.name, _ref(lp.target))
                  for lp in p.link_properties]
    return _pointer(
        _id(key), p.name, _cardinality(p.cardinality), p.required, p.readonly, p.computed,
        p.default, _ref(p.target), _constraints(key, p.constraints),
        _annotations(key, p.annotations), props,
        _ref("schema::Link" if p.is_link else "schema::Property"),
    )


def object_type_rows(model: SchemaModel, builtin: bool = False) -> list[Any]:
    rows = []
    for t in sorted(model.object_types, key=lambda t: t.name):
        type_link = Pointer("__type__", "link", "schema::ObjectType", required=True,
                            readonly=True)
        pointers = sorted((*t.pointers, type_link), key=lambda p: p.name)
        rows.append(_object_type(
            _id(t.name), t.name, t.abstract, builtin, False,
            [_ref(b) for b in t.bases], [_ref(a) for a in t.ancestors],
            _annotations(t.name, t.annotations), [_pointer_row(t.name, p) for p in pointers],
            _constraints(t.name, t.constraints),
            [_index(_id(t.name, "index", e), e) for e in t.indexes],
            [_named(_id(t.name, n), n) for n in t.access_policies],
        ))
    return rows


def scalar_type_rows(model: SchemaModel) -> list[Any]:
    return [
        _scalar(_id(s.name), s.name, list(s.enum_values) or None, [_ref(b) for b in s.bases],
                _constraints(s.name, s.constraints), _annotations(s.name, s.annotations))
        for s in sorted(model.scalar_types, key=lambda s: s.name)
    ]


def function_rows(model: SchemaModel) -> list[Any]:
    rows = []
    for f in sorted(model.functions, key=lambda f: f.name):
        params = [_function_param(_id(f.name, p.name), p.name, _param_kind(p.kind),
                                  _ref(p.type), _typemod(p.typemod), p.default)
                  for p in f.params]
        rows.append(_function(_id(f.name), f.name, params, _ref(f.return_type),
                              _typemod(f.return_typemod), _annotations(f.name, f.annotations)))
    return rows


def answers(model: SchemaModel, standard: SchemaModel | None = None) -> dict[str, list[Any]]:
    """Part name -> the rows a server returns for that part's query; the standard parts come
    from ``standard`` (default: a small standard library)."""
    std = standard if standard is not None else demo_standard_schema()
    triggers = [
        _trigger_type(
            _id(t.name), t.name, [_named(_id(t.name, n), n) for n in t.triggers],
            [_rewrite_pointer(_id(t.name, r), r.split(":")[0],
                              [_rewrite(_id(t.name, r, "kind"),
                                        _rewrite_kind(r.split(":")[1].strip()))])
             for r in t.rewrites],
        )
        for t in model.object_types if t.triggers or t.rewrites
    ]
    return {
        "modules": [_module(_id(m), m, m in model.builtin_modules) for m in model.modules],
        "object types": object_type_rows(model),
        "scalar types": scalar_type_rows(model),
        "functions": function_rows(model),
        "aliases": [_alias(_id(a.name), a.name, a.expr, _ref(a.type)) for a in model.aliases],
        "globals": [_global(_id(g.name), g.name, _ref(g.target), g.required,
                            _cardinality(g.cardinality), g.default, g.computed)
                    for g in model.globals],
        "extensions": [_named(_id("ext", e), e) for e in model.extensions],
        "builtin function names": list(model.builtin_function_names),
        "triggers and rewrites": triggers,
        "standard object types": object_type_rows(std, builtin=True),
        "standard scalar types": scalar_type_rows(std),
        "standard functions": function_rows(std),
    }


# The demo branch's migrations (``introspect.SCHEMA_PROBE_QUERY``): a real 5.8 branch had 8.
DEMO_MIGRATIONS = tuple(_id("migration", str(i)) for i in range(8))


def introspection_answer(query: str) -> list[Any] | None:
    """The demo schema's answer to an introspection query, or None for any other query."""
    if query.strip() == introspect.SCHEMA_PROBE_QUERY:
        return list(DEMO_MIGRATIONS)
    part = _demo_parts().get(query.strip())
    return None if part is None else _demo_answers()[part]


def _all_parts() -> dict[str, str]:
    return {**introspect.PARTS, **introspect.STANDARD_PARTS}


@functools.cache
def _demo_parts() -> dict[str, str]:
    return {query.strip(): part for part, query in _all_parts().items()}


@functools.cache
def _demo_answers() -> dict[str, list[Any]]:
    return answers(demo_schema())


# --- the demo schema (the transcripts' movie schema, plus the kinds it lacks) -----------------
STANDARD_MODULE_NAMES = ("cal", "cfg", "ext", "fts", "math", "pg", "schema", "std", "std::enc",
                         "sys")
BUILTIN_FUNCTION_NAMES = tuple(sorted((
    "std::array_agg", "std::array_join", "std::array_unpack", "std::assert_exists",
    "std::assert_single", "std::count", "std::datetime_current", "std::datetime_get",
    "std::enumerate", "std::exists", "std::len", "std::max", "std::min", "std::random",
    "std::re_match", "std::re_replace", "std::round", "std::str_lower", "std::str_split",
    "std::str_trim", "std::str_upper", "std::sum", "std::to_datetime", "std::to_str",
    "std::uuid_generate_v1mc", "math::mean", "math::stddev", "cal::to_local_date",
)))


def _id_pointer() -> Pointer:
    return Pointer("id", "property", "std::uuid", required=True, readonly=True,
                   default="std::uuid_generate_v1mc()",
                   constraints=(Constraint("std::exclusive"),))


def _standard_object() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return ("std::Object",), ("std::BaseObject", "std::Object")


@functools.cache
def demo_schema() -> SchemaModel:
    """Movie, Person and the Genre enum as in the transcripts' schema, with an abstract base,
    a computed backlink, annotations, constraints with arguments, an index, a policy, a
    function, an alias, a global, and one ``cfg`` type that reports ``builtin: false``."""
    bases, ancestors = _standard_object()
    exclusive = (Constraint("std::exclusive"),)
    auditable = ObjectType(
        "default::Auditable", abstract=True, bases=bases, ancestors=ancestors,
        annotations=(Annotation("std::description", "Anything that records when it was made"),),
        pointers=(
            Pointer("created_at", "property", "std::datetime", readonly=True,
                    default="std::datetime_current()"),
            _id_pointer(),
        ),
    )
    movie = ObjectType(
        "default::Movie", bases=("default::Auditable",),
        ancestors=("std::BaseObject", "std::Object", "default::Auditable"),
        annotations=(Annotation("std::title", "Movie"),
                     Annotation("std::description", "A film in the catalogue")),
        pointers=(
            Pointer("actor_count", "property", "std::int64", computed="std::count(.actors)"),
            Pointer("actors", "link", "default::Person", cardinality="multi",
                    link_properties=(LinkProperty("character", "std::str"),)),
            Pointer("box_office", "property", "std::bigint"),
            Pointer("budget", "property", "std::decimal"),
            Pointer("created_at", "property", "std::datetime", readonly=True,
                    default="std::datetime_current()"),
            Pointer("director", "link", "default::Person"),
            Pointer("genre", "property", "default::Genre"),
            _id_pointer(),
            Pointer("rating", "property", "std::float64", constraints=(
                Constraint("std::min_value", (("min", "0"),)),
                Constraint("std::max_value", (("max", "10"),)),
            )),
            Pointer("release_year", "property", "std::int64"),
            Pointer("released_on", "property", "cal::local_date"),
            Pointer("runtime", "property", "std::duration"),
            Pointer("tags", "property", "array<std::str>"),
            Pointer("title", "property", "std::str", required=True, constraints=exclusive,
                    annotations=(Annotation("std::description", "The title as released"),)),
        ),
        indexes=(".release_year",),
        access_policies=("everyone_reads",),
    )
    person = ObjectType(
        "default::Person", bases=bases, ancestors=ancestors,
        pointers=(
            Pointer("birth_year", "property", "std::int64"),
            _id_pointer(),
            Pointer("movies", "link", "default::Movie", cardinality="multi",
                    computed=".<actors[is default::Movie]"),
            Pointer("name", "property", "std::str", required=True, constraints=exclusive),
        ),
    )
    branch_config = ObjectType(
        "cfg::BranchConfig", bases=("cfg::DatabaseConfig",),
        ancestors=("std::BaseObject", "cfg::ConfigObject", "cfg::AbstractConfig",
                   "cfg::DatabaseConfig"),
        pointers=(
            Pointer("allow_user_specified_id", "property", "std::bool", default="false"),
            _id_pointer(),
            Pointer("query_execution_timeout", "property", "std::duration",
                    default="<std::duration>'0 seconds'"),
        ),
    )
    genre = ScalarType("default::Genre", bases=("std::anyenum",),
                       enum_values=("Action", "SciFi", "Drama", "Crime", "Thriller"))
    movies_in = Function(
        "default::movies_in",
        params=(FunctionParam("year", "std::int64"),),
        return_type="default::Movie", return_typemod="SetOfType",
        annotations=(Annotation("std::description", "The movies released in a year"),),
    )
    return SchemaModel(
        modules=tuple(sorted((*STANDARD_MODULE_NAMES, "default"))),
        builtin_modules=STANDARD_MODULE_NAMES,
        object_types=(branch_config, auditable, movie, person),
        scalar_types=(genre,),
        functions=(movies_in,),
        aliases=(Alias("default::RecentMovie",
                       "select default::Movie filter .release_year >= 2015",
                       "default::RecentMovie"),),
        globals=(Global("default::current_user", "std::str"),),
        extensions=(),
        builtin_function_names=BUILTIN_FUNCTION_NAMES,
    )


@functools.cache
def demo_standard_schema() -> SchemaModel:
    """A small standard library: what the explorer lists under std, schema and cal."""
    base_object = ObjectType("std::BaseObject", abstract=True, pointers=(_id_pointer(),))
    std_object = ObjectType("std::Object", abstract=True, bases=("std::BaseObject",),
                            ancestors=("std::BaseObject",), pointers=(_id_pointer(),),
                            annotations=(Annotation("std::description",
                                                    "Root object type of user types"),))
    schema_module = ObjectType("schema::Module", bases=("schema::Object",),
                               ancestors=("std::BaseObject", "schema::Object"),
                               pointers=(_id_pointer(),
                                         Pointer("name", "property", "std::str", required=True),
                                         Pointer("builtin", "property", "std::bool",
                                                 required=True, default="false")))
    scalars = tuple(ScalarType(name, bases=("std::anyscalar",)) for name in (
        "std::bool", "std::datetime", "std::float64", "std::int64", "std::str", "std::uuid",
        "cal::local_date"))
    str_param = (FunctionParam("str", "std::str"),)
    functions = (
        Function("std::count", (FunctionParam("s", "anytype", typemod="SetOfType"),),
                 "std::int64"),
        Function("std::len", str_param, "std::int64"),
        Function("std::str_upper", str_param, "std::str",
                 annotations=(Annotation("std::description", "Return an upper-case copy"),)),
    )
    return SchemaModel(object_types=(base_object, std_object, schema_module),
                       scalar_types=scalars, functions=functions)


def generated_schema(types: int = 500, properties: int = 20, modules: int = 5,
                     links: int = 2, enums: int = 0) -> SchemaModel:
    """A large schema for benchmarks: ``types`` object types over ``modules`` user modules,
    each with ``properties`` properties and ``links`` links to other types of its module,
    and ``enums`` enum types (5 members each) spread over the modules."""
    names = [f"m{i % modules}::Type{i:04d}" for i in range(types)]
    object_types = []
    bases, ancestors = _standard_object()
    scalars = ("std::str", "std::int64", "std::float64", "std::datetime", "std::bool")
    for i, name in enumerate(names):
        module = name.rpartition("::")[0]
        same_module = [n for n in names[i % modules::modules] if n != name and
                       n.startswith(module + "::")]
        pointers = [_id_pointer()]
        pointers += [Pointer(f"p{j:02d}", "property", scalars[j % len(scalars)],
                             required=j == 0) for j in range(properties)]
        pointers += [Pointer(f"link{k}", "link", same_module[(i + k) % len(same_module)],
                             cardinality="multi" if k % 2 else "single")
                     for k in range(links) if same_module]
        object_types.append(ObjectType(name, bases=bases, ancestors=ancestors,
                                       pointers=tuple(pointers)))
    user_modules = tuple(sorted({n.rpartition("::")[0] for n in names}))
    return SchemaModel(
        modules=tuple(sorted((*STANDARD_MODULE_NAMES, *user_modules))),
        builtin_modules=STANDARD_MODULE_NAMES,
        object_types=tuple(object_types),
        scalar_types=tuple(ScalarType(f"m{i % modules}::Enum{i:03d}", ("std::anyenum",),
                                      tuple(f"V{j}" for j in range(5)))
                           for i in range(enums)),
        builtin_function_names=BUILTIN_FUNCTION_NAMES,
    )
