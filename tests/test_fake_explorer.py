"""The fake server's explorer data set: it reads the builder's queries (not canned pages) and
answers what building every object and sorting them in plain Python gives, on a small N;
on a large N a page costs the page, not the type."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import gel.errors
import pytest

from ecc.driver.client import QueryMethod
from ecc.driver.execute import ExecutionPolicy, execute
from ecc.explorer.paging import read_page, total_view
from ecc.explorer.query import build_queries
from ecc.explorer.state import ExplorerState, OrderBy, PropertyFilter
from ecc.fake.client import FakeClient, demo_responder, schema_responder
from ecc.fake.explorer import (
    ExplorerDataset,
    ParsedQuery,
    answer,
    as_dicts,
    brute_force,
    dataset_schema,
    explorer_responder,
    generated_dataset,
    parse_explorer_query,
)

N, PARTS = 47, 13
DATASET = generated_dataset(N, PARTS)
MODEL = dataset_schema(DATASET)
ORDERS = [None, OrderBy("id", True)] + [
    OrderBy(prop, desc) for prop in ("number", "name", "shuffled", "score", "kind", "flag",
                                     "nickname", "created") for desc in (False, True)]
FILTERS: list[tuple[PropertyFilter, ...]] = [
    (),
    (PropertyFilter("kind", "=", "Gamma"),),
    (PropertyFilter("kind", ">=", "Delta"), PropertyFilter("flag", "=", "true")),
    (PropertyFilter("shuffled", "<", "20"),),
    (PropertyFilter("nickname", "exists"),),
    (PropertyFilter("nickname", "not exists"),),
    (PropertyFilter("nickname", "!=", "nick-0000004"),),
    (PropertyFilter("name", "ilike", "%1_"),),
    (PropertyFilter("score", ">", "0.5"), PropertyFilter("number", "<=", "40")),
    (PropertyFilter("created", ">", "2024-01-01T00:30:00Z"),),
    (PropertyFilter("number", "=", "99999"),),  # empty result
]


def parsed(query: str, kwargs: dict[str, Any]) -> ParsedQuery:
    found = parse_explorer_query(DATASET, query, kwargs)
    assert found is not None, query
    return found


def rows_and_truth(state: ExplorerState) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    queries = build_queries(MODEL, state)
    p = parsed(queries.page.query, dict(queries.page.kwargs))
    rows = answer(DATASET, p)
    # Link properties are not dataclass fields: read them as the driver gives them.
    got = [{**d, **{name: row[name] for name, _ in p.fields if name.startswith("@")}}
           for d, row in zip(as_dicts(rows), rows, strict=True)]
    truth = brute_force(DATASET, p)
    # A link's count is named in the result (parts_count); brute force keys it by the link.
    return got, [{name: o[counted or name] for name, counted in p.fields} for o in truth]


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: "id" if o is None else
                         f"{o.prop}-{'desc' if o.descending else 'asc'}")
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "+".join(
    f"{x.prop}{x.op.replace(' ', '_')}" for x in f) or "none")
def test_pages_agree_with_brute_force(order: OrderBy | None,
                                      filters: tuple[PropertyFilter, ...]) -> None:
    state = ExplorerState.of_type("default::Item", 10).filtered(filters).ordered(order)
    for page in (0, 1, 4, 5):  # 5: past the end of 47 rows
        got, truth = rows_and_truth(state.at_page(page))
        assert got == truth, f"page {page}"
    queries = build_queries(MODEL, state)
    count = answer(DATASET, parsed(queries.count.query, dict(queries.count.kwargs)))
    assert count == [brute_force(DATASET, parsed(queries.count.query,
                                                 dict(queries.count.kwargs)))[0]["count"]]


def test_the_orders_are_real_orders() -> None:
    """Brute force itself: ascending values, empty last, ids ascending among ties."""
    got, _ = rows_and_truth(ExplorerState.of_type("default::Item", 100).ordered(
        OrderBy("nickname")))
    nicknames = [r["nickname"] for r in got]
    filled = [n for n in nicknames if n is not None]
    assert filled == sorted(filled) and nicknames[len(filled):] == [None] * (len(got) - len(filled))
    got, _ = rows_and_truth(ExplorerState.of_type("default::Item", 100).ordered(
        OrderBy("kind", True)))
    kinds = [str(r["kind"]) for r in got]
    assert kinds[0] == "Epsilon" and kinds[-1] == "Alpha"
    first_epsilons = [r["id"] for r in got if str(r["kind"]) == "Epsilon"]
    assert first_epsilons == sorted(first_epsilons)


@pytest.mark.parametrize("source_index", [0, 5, 6, 7, 46])
@pytest.mark.parametrize("link", ["parts", "owner"])
def test_following_a_link_lists_the_linked_objects(source_index: int, link: str) -> None:
    item = DATASET.types["default::Item"]
    state = ExplorerState.of_type("default::Item", 2).follow(
        "default::Item", item.id_of(source_index), link, "default::Part", "")
    got, truth = rows_and_truth(state)
    assert got == truth
    expected = item.links[link].targets(source_index)
    queries = build_queries(MODEL, state)
    assert answer(DATASET, parsed(queries.count.query, dict(queries.count.kwargs))) == [
        len(set(expected))]
    everything, _ = rows_and_truth(state.with_page_size(50))
    part = DATASET.types["default::Part"]
    assert sorted(r["id"] for r in everything) == sorted(part.id_of(j) for j in set(expected))


@pytest.mark.parametrize("source_index", [0, 5, 6, 7, 46])
@pytest.mark.parametrize("order", [None, OrderBy("number", True)])
def test_a_followed_links_properties_agree_with_brute_force(
        source_index: int, order: OrderBy | None) -> None:
    item = DATASET.types["default::Item"]
    state = ExplorerState.of_type("default::Item", 2).follow(
        "default::Item", item.id_of(source_index), "parts", "default::Part", "").ordered(order)
    assert "  @note,\n  @quantity\n}" in build_queries(MODEL, state).page.query
    for page in (0, 1, 2):
        got, truth = rows_and_truth(state.at_page(page))
        assert got == truth, f"page {page}"
    everything, _ = rows_and_truth(state.with_page_size(50))
    part_index = DATASET.types["default::Part"].index_of
    # What the data set defines for each (item, part) pair, read back from the page.
    for row in everything:
        j = part_index(row["id"])
        assert j is not None
        assert row["@quantity"] == 1 + (source_index + j) % 5
        assert row["@note"] == (None if (source_index + j) % 3 == 0
                                else f"note-{source_index}-{j}")


def test_a_link_property_outside_a_followed_link_is_an_error() -> None:
    query = build_queries(MODEL, ExplorerState.of_type("default::Item", 5)).page.query
    tampered = query.replace("  id,\n", "  id,\n  @quantity,\n", 1)
    respond = explorer_responder(DATASET, fallback=lambda q, a, k: ["fallback"])
    assert isinstance(respond(tampered, (), {"page_offset": 0, "page_limit": 6}),
                      gel.errors.QueryError)
    item = DATASET.types["default::Item"]
    followed = build_queries(MODEL, ExplorerState.of_type("default::Item", 5).follow(
        "default::Item", item.id_of(3), "owner", "default::Part", ""))
    unknown = followed.page.query.replace("  id,\n", "  id,\n  @quantity,\n", 1)
    assert isinstance(respond(unknown, (), dict(followed.page.kwargs)),
                      gel.errors.InvalidReferenceError)


def test_link_counts_match_the_links() -> None:
    got, _ = rows_and_truth(ExplorerState.of_type("default::Item", 7))  # 8 rows asked
    item = DATASET.types["default::Item"]
    parts = item.links["parts"]
    assert [r["parts_count"] for r in got] == [len(parts.targets(i)) for i in range(8)]
    assert [r["owner_count"] for r in got] == [1, 0] * 4


def test_an_unknown_source_object_has_no_linked_objects() -> None:
    state = ExplorerState.of_type("default::Item").follow(
        "default::Item", uuid.UUID(int=12345), "parts", "default::Part")
    got, truth = rows_and_truth(state)
    assert got == truth == []


def test_a_text_it_cannot_read_is_not_an_explorer_query() -> None:
    assert parse_explorer_query(DATASET, "select default::Item { id }", {}) is None
    respond = explorer_responder(DATASET, fallback=lambda q, a, k: ["fallback"])
    assert respond("select 1", (), {}) == ["fallback"]


def test_a_tampered_filter_is_a_syntax_error() -> None:
    queries = build_queries(MODEL, ExplorerState.of_type("default::Item").filtered(
        (PropertyFilter("number", "=", "1"),)))
    tampered = queries.page.query.replace("(.number = <std::int64>$f0)",
                                          "(.number = 1 or true)")
    respond = explorer_responder(DATASET, demo_responder)
    assert isinstance(respond(tampered, (), dict(queries.page.kwargs)),
                      gel.errors.EdgeQLSyntaxError)


def test_an_unknown_enum_label_is_the_servers_error() -> None:
    queries = build_queries(MODEL, ExplorerState.of_type("default::Item"))
    text = queries.page.query.replace(
        "order by", "filter (.kind = <default::Kind><std::str>$f0)\norder by")
    respond = explorer_responder(DATASET, demo_responder)
    assert isinstance(respond(text, (), {**queries.page.kwargs, "f0": "Zeta"}),
                      gel.errors.InvalidValueError)


def test_a_page_of_a_million_objects_costs_a_page() -> None:
    big = generated_dataset(1_000_000)
    model = dataset_schema(big)
    state = ExplorerState.of_type("default::Item", 50).ordered(OrderBy("shuffled", True))
    queries = build_queries(model, state.at_page(19_999))  # the last page
    p = parse_explorer_query(big, queries.page.query, dict(queries.page.kwargs))
    assert p is not None
    started = time.perf_counter()
    rows = answer(big, p)
    elapsed = time.perf_counter() - started
    assert [r.shuffled for r in rows] == list(range(49, -1, -1))
    # Generous: a page is 51 rows of work; touching a million objects would take seconds.
    assert elapsed < 0.5, elapsed


def run_all(client: FakeClient, requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Each query through the console's execute (read-only guard), on one loop."""
    from ecc.driver.execute import QueryRequest

    policy = ExecutionPolicy(read_only=True, timeout_s=5.0, implicit_limit=101)

    async def go() -> list[Any]:
        return [await execute(client, QueryRequest("t", q, QueryMethod.QUERY, (), k), policy)
                for q, k in requests]

    return asyncio.run(go())


def dataset_client(dataset: ExplorerDataset) -> FakeClient:
    return FakeClient(schema_responder(dataset_schema(dataset),
                                       fallback=explorer_responder(dataset, demo_responder)))


def test_the_fake_client_answers_through_the_read_only_guard() -> None:
    client = dataset_client(DATASET)
    state = ExplorerState.of_type("default::Item", 10).at_page(4)
    queries = build_queries(MODEL, state)
    rows, count = run_all(client, [(queries.page.query, dict(queries.page.kwargs)),
                                   (queries.count.query, dict(queries.count.kwargs))])
    page = read_page(rows, 40, 10)
    assert len(page.rows) == 7 and not page.has_next
    assert client.stats.describes == 2 and client.stats.transactions == 2
    assert total_view(page, None).exact == N  # the last page gives the total without a count
    assert count == [N]


def test_the_open_as_query_text_is_read_too() -> None:
    state = ExplorerState.of_type("default::Item", 10).filtered(
        (PropertyFilter("kind", "=", "Beta"),)).at_page(1)
    queries = build_queries(MODEL, state)
    args = {name: value for name, value in queries.editor_args}
    p = parsed(queries.editor_text, args)
    assert (p.offset, p.limit) == (10, 10)
    assert as_dicts(answer(DATASET, p)) == as_dicts(answer(DATASET, parsed(
        queries.page.query, dict(queries.page.kwargs))))[:10]
