"""The schema of the shipped fake's movie database (``ecc.testing``), as a ``SchemaModel``.

The page uses it for the editor's completions when it runs on the test fake and no
introspected model is in the session yet; tests build completion data from it.
"""

from __future__ import annotations

import functools

from ecc.schema import (
    Function,
    FunctionParam,
    LinkProperty,
    ObjectType,
    Pointer,
    ScalarType,
    SchemaModel,
)


@functools.lru_cache(maxsize=1)
def demo_schema_model() -> SchemaModel:
    person = ObjectType(
        name="default::Person",
        pointers=(
            Pointer("id", "property", "std::uuid", required=True, readonly=True),
            Pointer("name", "property", "std::str", required=True),
        ),
    )
    movie = ObjectType(
        name="default::Movie",
        pointers=(
            Pointer("id", "property", "std::uuid", required=True, readonly=True),
            Pointer("title", "property", "std::str", required=True),
            Pointer("release_year", "property", "std::int64"),
            Pointer("rating", "property", "std::float64"),
            Pointer("genre", "property", "default::Genre"),
            Pointer("actors", "link", "default::Person", cardinality="multi",
                    link_properties=(LinkProperty("character", "std::str"),)),
            Pointer("director", "link", "default::Person"),
        ),
    )
    genre = ScalarType("default::Genre", bases=("std::anyenum",),
                       enum_values=("Drama", "SciFi", "Comedy"))
    contains = Function(
        "std::contains",
        params=(FunctionParam("haystack", "std::str"), FunctionParam("needle", "std::str")),
        return_type="std::bool",
    )
    count = Function("std::count", params=(FunctionParam("s", "anytype", typemod="SetOfType"),),
                     return_type="std::int64")
    return SchemaModel(
        modules=("default", "std"),
        object_types=(movie, person),
        scalar_types=(genre,),
        functions=(contains, count),
        builtin_function_names=("std::len", "std::str_upper", "std::datetime_current"),
    )
