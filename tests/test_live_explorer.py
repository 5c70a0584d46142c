"""The data explorer's queries against a real Gel server (GEL_DSN set; skipped otherwise),
on the transcripts' schema (``../shared/gel-transcripts/schema.esdl``: Movie, Person, Sample).

Every text comes from ``ecc.explorer.query`` and runs through the console's ``execute``
(read-only guard: the server describes it first, then a read-only transaction). Answers are
compared with plain queries written here: pages joined give every object in the order asked,
counts match ``count()``, a followed link gives the source's linked objects, and a filter on
each filterable property of ``Sample`` (every scalar kind) finds the row its value came from.
Nothing here writes."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ecc.arguments.param_values import value_to_text
from ecc.arguments.params import QueryParameter
from ecc.driver.client import QueryMethod
from ecc.driver.execute import ExecutionPolicy, QueryRequest, execute
from ecc.explorer.query import PAGE_LIMIT_PARAM, PAGE_OFFSET_PARAM, build_queries
from ecc.explorer.state import ExplorerState, OrderBy, PropertyFilter
from ecc.schema.introspect import read_schema
from ecc.schema.model import SchemaModel
from tests.test_live import run_engine as run

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("GEL_DSN"),
        reason="GEL_DSN is not set: no live Gel server to test against",
    ),
]
POLICY = ExecutionPolicy(read_only=True, timeout_s=30, implicit_limit=1001)


async def send(client: Any, request: QueryRequest) -> Any:
    return await execute(client, request, POLICY)


def model_and(body: Any) -> tuple[SchemaModel, Any]:
    async def go(client: Any) -> tuple[SchemaModel, Any]:
        model = await read_schema(client)
        return model, await body(client, model)

    result: tuple[SchemaModel, Any] = run(go)
    return result


def has_movies(model: SchemaModel) -> None:
    if model.object_type("default::Movie") is None:
        pytest.skip("the server's schema is not the transcripts' (no default::Movie)")


@pytest.mark.parametrize("order", [None, OrderBy("title"), OrderBy("release_year", True),
                                   OrderBy("rating"), OrderBy("genre", True)],
                         ids=["id", "title", "year-desc", "rating", "genre-desc"])
def test_pages_joined_give_every_movie_in_order(order: OrderBy | None) -> None:
    async def body(client: Any, model: SchemaModel) -> Any:
        has_movies(model)
        state = ExplorerState.of_type("default::Movie", 5).ordered(order)
        seen: list[Any] = []
        for page in range(50):
            queries = build_queries(model, state.at_page(page))
            rows = await send(client, queries.page)
            seen.extend(rows[:5])
            if len(rows) <= 5:
                break
        count = await send(client, build_queries(model, state).count)
        direction = ("desc" if order.descending else "asc") if order else ""
        by = f".{order.prop} {direction} empty last then .id" if order else ".id"
        expected = await client.query(f"select default::Movie {{ id }} order by {by}")
        return seen, count, expected

    _, (seen, count, expected) = model_and(body)
    assert [r.id for r in seen] == [r.id for r in expected]
    assert count == [len(expected)]


def test_link_counts_and_following_a_link() -> None:
    async def body(client: Any, model: SchemaModel) -> Any:
        has_movies(model)
        state = ExplorerState.of_type("default::Movie", 50)
        rows = await send(client, build_queries(model, state).page)
        richest = max(rows, key=lambda r: r.actors_count)
        followed = state.follow("default::Movie", richest.id, "actors", "default::Person")
        queries = build_queries(model, followed)
        people = await send(client, queries.page)
        count = await send(client, queries.count)
        expected = await client.query(
            "select (select default::Movie filter .id = <uuid>$id).actors { id }",
            id=richest.id)
        # The link property as the recorded nested shape reads it (transcripts).
        nested = await client.query_single(
            "select default::Movie { actors: { id, @character } } filter .id = <uuid>$id",
            id=richest.id)
        return richest, people, count, expected, nested

    _, (richest, people, count, expected, nested) = model_and(body)
    assert richest.actors_count > 0
    assert sorted(p.id for p in people) == sorted(p.id for p in expected)
    assert count == [len(expected)] == [richest.actors_count]
    # The explorer's form, (select Movie filter .id = $source).actors { ..., @character },
    # gives each actor the same @character as the nested shape.
    assert {p.id: p["@character"] for p in people} == {
        a.id: a["@character"] for a in nested.actors}


def test_filters_and_open_as_query() -> None:
    async def body(client: Any, model: SchemaModel) -> Any:
        has_movies(model)
        state = ExplorerState.of_type("default::Movie", 100).filtered((
            PropertyFilter("release_year", ">=", "2000"),
            PropertyFilter("title", "ilike", "%e%"),
            PropertyFilter("genre", "exists"),
        ))
        queries = build_queries(model, state)
        rows = await send(client, queries.page)
        count = await send(client, queries.count)
        args = {k: v for k, v in queries.page.kwargs.items()
                if k not in (PAGE_OFFSET_PARAM, PAGE_LIMIT_PARAM)}
        editor = await send(client, QueryRequest("editor", queries.editor_text,
                                                 QueryMethod.QUERY, (), args))
        expected = await client.query(
            "select default::Movie { id } filter .release_year >= 2000 and .title ilike '%e%' "
            "and exists .genre order by .id")
        return rows, count, editor, expected

    _, (rows, count, editor, expected) = model_and(body)
    assert [r.id for r in rows] == [r.id for r in expected] == [r.id for r in editor]
    assert count == [len(expected)]


def test_a_filter_on_each_sample_property_finds_its_row() -> None:
    async def body(client: Any, model: SchemaModel) -> Any:
        if model.object_type("default::Sample") is None:
            pytest.skip("the server's schema has no default::Sample")
        state = ExplorerState.of_type("default::Sample", 10)
        queries = build_queries(model, state)
        rows = await send(client, queries.page)
        found: dict[str, list[Any]] = {}
        for column in queries.columns:
            if column.filter_type is None or column.name == "id":
                continue
            row = next((r for r in rows if getattr(r, column.name) is not None), None)
            if row is None:
                continue
            text = value_to_text(QueryParameter(column.name, column.filter_type, False),
                                 getattr(row, column.name))
            filtered = build_queries(model, state.filtered(
                (PropertyFilter(column.name, "=", text),)))
            hits = await send(client, filtered.page)
            found[column.name] = [row.id, [h.id for h in hits]]
        return found

    _, found = model_and(body)
    assert found, "no filterable Sample property had a value"
    missed = {name: ids for name, ids in found.items() if ids[0] not in ids[1]}
    assert not missed, f"filters that did not find their row: {sorted(missed)}"
