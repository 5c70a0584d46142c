"""The schema explorer's model against a real Gel server (GEL_DSN set; skipped otherwise).

The model read by ``ecc.schema.introspect`` is compared with what the same server says through
other routes: counts of ``schema::`` objects, ``describe type ... as text`` for each user
type (its pointers), and the enum members in the server's order. Nothing here writes."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from ecc.schema.introspect import read_schema
from ecc.schema.model import SchemaModel
from tests.live_support import LIVE
from tests.test_live import run_engine as run

pytestmark = LIVE


def read_with(extra: Callable[[Any], Coroutine[Any, Any, Any]]) -> tuple[SchemaModel, Any]:
    async def body(client: Any) -> tuple[SchemaModel, Any]:
        return await read_schema(client), await extra(client)

    result: tuple[SchemaModel, Any] = run(body)
    return result


def declared_pointers(describe_text: str) -> dict[str, str]:
    """Pointer name -> cardinality from ``describe type ... as text`` (its top-level lines:
    "    optional multi link actors: default::Person {"), without the implicit ``__type__``."""
    found = re.findall(r"^ {4}(?:required|optional) (single|multi) (?:link|property) (\w+)",
                       describe_text, re.M)
    declared = {name: cardinality for cardinality, name in found}
    declared.pop("__type__", None)
    return declared


def test_the_model_reads_every_part_without_problems() -> None:
    async def nothing(client: Any) -> None:
        return None

    model, _ = read_with(nothing)
    assert model.problems == ()
    assert "default" in model.modules and "std" in model.modules
    assert len(model.builtin_function_names) > 100
    assert model.read_s > 0


def test_counts_match_the_servers() -> None:
    async def counts(client: Any) -> Any:
        # Names in full: ``module`` is a reserved keyword (5.8 refused ``count(Module)``
        # with "Missing parentheses around statement used as an expression"); each filtered
        # set is a parenthesised ``select``, the form every EdgeQL version parses.
        return await client.query_single("""
            select {
              types := count((select schema::ObjectType filter not .builtin
                              and not .from_alias and not .compound_type)),
              scalars := count((select schema::ScalarType filter not .builtin)),
              functions := count((select schema::Function filter not .builtin)),
              modules := count(schema::Module),
            }""")

    model, server = read_with(counts)
    assert len(model.object_types) == server.types
    assert len(model.scalar_types) == server.scalars
    assert len(model.functions) == server.functions
    assert len(model.modules) == server.modules


def test_each_user_types_pointers_match_describe() -> None:
    async def describe_all(client: Any) -> dict[str, str]:
        # A filter inside parentheses needs its ``select`` (5.8: "Missing ')'" without it);
        # the same form as ecc.schema.introspect.BUILTIN_FUNCTION_NAMES_QUERY, which 5.8 answered.
        names = await client.query(
            "select (select schema::ObjectType filter not .builtin and not .from_alias "
            "and not .compound_type and not .abstract).name")
        return {name: await client.query_single(f"describe type {name} as text")
                for name in names if not name.startswith("cfg::")}

    model, described = read_with(describe_all)
    assert described, "the branch has no user object types to compare"
    for name, text in described.items():
        t = model.object_type(name)
        assert t is not None, name
        assert {p.name: p.cardinality for p in t.pointers} == declared_pointers(text), name


def test_enum_members_are_in_the_servers_order() -> None:
    async def enums(client: Any) -> Any:
        return await client.query(
            "select schema::ScalarType {name, enum_values} "
            "filter not .builtin and exists .enum_values")

    model, server = read_with(enums)
    for row in server:
        scalar = model.scalar_type(row.name)
        assert scalar is not None
        assert scalar.enum_values == tuple(row.enum_values)
