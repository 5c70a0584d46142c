"""ecc.display.plans: the server's analyze answers read into a plan model, and the views' data."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from ecc.display import plans
from ecc.display.results import driver_text, shape_result
from ecc.driver.client import QueryMethod
from ecc.driver.execute import ExecutionPolicy, QueryRequest, execute
from ecc.fake.client import FakeClient, fake_plan_json, synthetic_plan_json
from tests.transcripts import MISSING_REASON, load_cases

ANALYZE_CASES = [c for c in load_cases() if c.label.startswith("analyze") and c.ok]
needs_transcripts = pytest.mark.skipif(not ANALYZE_CASES, reason=MISSING_REASON)


def _answer(label: str) -> str:
    case = next(c for c in ANALYZE_CASES if c.label == label)
    text: str = case.raw["plain"]  # query_single returned this very str
    return text


def _read(value: object) -> plans.QueryPlan:
    plan = plans.read_plan(value)
    assert isinstance(plan, plans.QueryPlan), plan
    return plan


@needs_transcripts
def test_the_recording_has_analyze_answers() -> None:
    assert len(ANALYZE_CASES) >= 4


@needs_transcripts
@pytest.mark.parametrize("case", ANALYZE_CASES, ids=lambda c: c.label)
def test_every_recorded_answer_reads_into_both_trees(case: Any) -> None:
    document = json.loads(case.raw["plain"])
    plan = _read(case.raw["plain"])
    assert plan.buffers == tuple(document["buffers"])
    assert plan.version == document["version"]
    root = document["coarse_grained"]
    assert plan.coarse.total_ms == pytest.approx(
        root["actual_total_time"] * root["actual_loops"])
    first = document["fine_grained"]["pipeline"][0]
    assert plan.fine.root.node_type == first["plan_type"]
    for tree in (plan.coarse, plan.fine):
        for node in tree.nodes:
            assert node.self_ms >= 0
            assert node.self_ms <= node.total_ms + 1e-9
            for child in node.children:
                assert tree.nodes[child].parent == node.number
                assert tree.nodes[child].depth == node.depth + 1
        # every span the server gave points at its own text in the buffer
        for node in tree.nodes:
            for span in node.contexts:
                assert plan.buffers[span.buffer_idx][span.start:span.end] == span.text


@needs_transcripts
def test_fine_pipeline_chains_and_subplans_hang_under_its_last_node() -> None:
    plan = _read(_answer("analyze nested shape"))
    labels = [(n.depth, n.label) for n in plan.fine.nodes]
    assert labels == [
        (0, "Sort"), (1, "SeqScan Movie"), (2, "Aggregate"), (3, "NestedLoop"),
        (4, "SeqScan Movie.actors"), (4, "IndexScan Person"),
    ]
    index_scan = plan.fine.nodes[5]
    assert index_scan.loops == 44
    assert index_scan.total_ms == pytest.approx(0.001 * 44)
    assert index_scan.relation == "Person"
    assert index_scan.alias == "Person~1"
    sort = plan.fine.root
    assert sort.self_ms == pytest.approx(0.223 - 0.205)
    assert ("sort_method", "quicksort") in sort.properties
    assert sort.planned_rows == 117 and sort.actual_rows == 12


@needs_transcripts
def test_coarse_children_are_named_by_their_pointer() -> None:
    plan = _read(_answer("analyze nested shape"))
    child = plan.coarse.nodes[1]
    assert child.node_type == "pointer"
    assert child.label.startswith("actors")
    assert child.relation == "Person, Movie.actors"
    assert child.total_ms == pytest.approx(0.015 * 12)
    assert plan.coarse.root.self_ms == pytest.approx(0.223 - 0.18)


@needs_transcripts
def test_selecting_a_node_highlights_its_fragment_or_its_ancestors() -> None:
    plan = _read(_answer("analyze nested shape"))
    own = plans.highlight(plan, plan.coarse, 1)
    assert own is not None and own.fragment == "actors" and not own.inherited
    assert (own.line, own.column) == (1, 30)
    leaf = plans.highlight(plan, plan.fine, 5)  # IndexScan: no span, its group's ancestor has
    assert leaf is not None and leaf.fragment == "actors" and leaf.inherited
    grouped = _read(_answer("analyze group and aggregate"))
    assert plans.highlight(grouped, grouped.coarse, 0) is None  # the server gave no span
    assert plans.highlight(plan, plan.coarse, 99) is None


@needs_transcripts
@pytest.mark.parametrize("method", list(QueryMethod), ids=lambda m: m.value)
def test_the_same_answer_reads_through_every_driver_method(method: QueryMethod) -> None:
    # What each method returned on 5.8 (product_queries.json): the str, a one-item list of
    # it, or through the JSON methods that very text as JSON, which the console keeps parsed.
    text = _answer("analyze count")
    raw: object = [text] if method is QueryMethod.QUERY else text
    shaped = shape_result(raw, method, 100)
    assert _read(shaped.value) == _read(text)
    assert driver_text(shaped, 100) in (text, repr(text))


def test_a_string_wrapped_once_more_as_json_still_reads() -> None:
    text = fake_plan_json("analyze select Movie {title}")
    expected = _read(text)
    for value in (json.dumps(text), json.dumps([text]), [json.dumps(text)]):
        assert _read(value) == expected


@pytest.mark.parametrize("method", list(QueryMethod), ids=lambda m: m.value)
def test_analyze_through_each_method_of_the_fake_reads_into_a_plan(method: QueryMethod) -> None:
    query = "analyze select Movie {title, actors: {name}} filter .release_year > 2000"

    async def body() -> object:
        policy = ExecutionPolicy(read_only=True, timeout_s=10)
        return await execute(FakeClient(), QueryRequest("Query 1", query, method), policy)

    shaped = shape_result(asyncio.run(body()), method, 100)
    plan = _read(shaped.value)
    assert plan.buffers == (query,)
    assert [n.label for n in plan.coarse.nodes] == ["Movie", "actors (Actors, Movie.actors)"]


@needs_transcripts
def test_flame_rectangles_nest_inside_their_parents() -> None:
    plan = _read(_answer("analyze group and aggregate"))
    rects = plans.flame_rects(plan.fine)
    assert rects[0].x0 == 0 and rects[0].x1 == 1
    by_node = {r.node: r for r in rects}
    for node in plan.fine.nodes:
        rect = by_node[node.number]
        assert rect.depth == node.depth
        if node.parent is not None:
            parent = by_node[node.parent]
            assert parent.x0 - 1e-9 <= rect.x0 <= rect.x1 <= parent.x1 + 1e-9
        assert rect.x1 - rect.x0 == pytest.approx(node.total_ms / plan.fine.total_ms, abs=1e-9)


@needs_transcripts
def test_flame_spec_carries_tooltips_and_a_point_selection() -> None:
    plan = _read(_answer("analyze nested shape"))
    spec = plans.flame_spec(plans.flame_rects(plan.fine), icicle=False, selected=2)
    json.dumps(spec)  # plain JSON for st.vega_lite_chart
    rect_layer = spec["layer"][0]
    assert rect_layer["params"][0]["select"] == {"type": "point", "fields": ["node"]}
    titles = {t["title"] for t in rect_layer["encoding"]["tooltip"]}
    assert {"total ms", "self ms", "loops", "rows (actual, per loop)"} <= titles
    assert rect_layer["encoding"]["y"]["scale"]["reverse"] is False  # flame: root at bottom
    icicle = plans.flame_spec(plans.flame_rects(plan.fine), icicle=True)
    assert icicle["layer"][0]["encoding"]["y"]["scale"]["reverse"] is True
    assert [v["selected"] for v in spec["data"]["values"]].index(True) == 2


@needs_transcripts
def test_tree_table_has_one_indented_row_per_node() -> None:
    plan = _read(_answer("analyze nested shape"))
    table = plans.tree_table(plan.fine)
    assert tuple(table) == plans.TREE_COLUMNS
    assert len(table["node"]) == len(plan.fine.nodes)
    assert table["node"][0] == "Sort"
    assert str(table["node"][5]).strip().endswith("IndexScan Person")
    assert str(table["node"][5]).startswith("   " * 4)
    assert table["loops"][5] == 44
    assert table["% of time"][0] == 100.0


def test_selected_node_reads_a_vega_point_selection() -> None:
    tree = _read(fake_plan_json("analyze select Movie {title, actors: {name}}")).fine
    assert plans.selected_node({"selection": {"node": [{"node": 2}]}}, tree) == 2
    assert plans.selected_node({"selection": {"node": [{"node": 2.0}]}}, tree) == 2
    assert plans.selected_node({"selection": {"node": [], "node_label": [{"node": 1}]}},
                               tree) == 1
    assert plans.selected_node({"selection": {"node": []}}, tree) is None
    assert plans.selected_node({"selection": {"node": [{"node": 999}]}}, tree) is None
    assert plans.selected_node(None, tree) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("not json", "not the JSON object"),
        (42, "not the JSON object"),
        ('{"buffers": ["x"]}', "coarse_grained"),
        ('{"coarse_grained": {}, "fine_grained": {}}', "buffers"),
        (json.dumps({"buffers": ["x"], "coarse_grained": {"actual_loops": 1},
                     "fine_grained": {"pipeline": []}}), "actual_total_time"),
        (json.dumps({"buffers": ["x"],
                     "coarse_grained": {"actual_total_time": 1, "actual_loops": 1},
                     "fine_grained": {"pipeline": []}}), "pipeline"),
        (json.dumps({"buffers": ["x"],
                     "coarse_grained": {"actual_total_time": 1, "actual_loops": 1},
                     "fine_grained": {"pipeline": [{"actual_total_time": 1}]}}), "plan_type"),
        (json.dumps({"buffers": ["x"],
                     "coarse_grained": {"actual_total_time": "1", "actual_loops": 1},
                     "fine_grained": {}}), "actual_total_time"),
    ],
)
def test_an_unreadable_plan_is_a_value_with_the_raw_answer(value: object, reason: str) -> None:
    plan = plans.read_plan(value)
    assert isinstance(plan, plans.UnreadablePlan)
    assert reason in plan.reason
    if isinstance(value, str):
        assert plan.raw == value


def test_an_unreadable_plan_gives_back_its_json() -> None:
    plan = plans.read_plan('{"format": "v99", "tree": []}')
    assert isinstance(plan, plans.UnreadablePlan)
    assert plan.parsed() == {"format": "v99", "tree": []}
    assert plans.UnreadablePlan("x", "not json").parsed() is None


def test_a_5000_node_plan_reads_and_lays_out() -> None:
    plan = _read(synthetic_plan_json(5000))
    assert len(plan.fine.nodes) == len(plan.coarse.nodes) == 5000
    rects = plans.flame_rects(plan.fine)
    assert len(rects) == 5000
    assert all(0 <= r.x0 <= r.x1 <= 1 + 1e-9 for r in rects)
    assert len(plans.tree_table(plan.coarse)["node"]) == 5000


def test_a_deep_chain_is_a_clear_answer_not_an_exception() -> None:
    depth = 3000  # deeper than Python's recursion limit: json.loads itself refuses it
    node = '{"plan_type": "Result", "actual_total_time": 0.0, "actual_loops": 1}'
    fine = ('{"pipeline": [' + node + '], "subplans": [') * depth + "]}" * depth
    text = ('{"buffers": ["q"], "coarse_grained": {"actual_total_time": 0.0, '
            '"actual_loops": 1}, "fine_grained": ' + fine + "}")
    result = plans.read_plan(text)
    assert isinstance(result, plans.UnreadablePlan)
    assert result.raw == text


def test_a_chain_deeper_than_the_recursion_limit_reads() -> None:
    # A pipeline is a chain: 3000 plan nodes in one group nest 3000 deep in flat JSON.
    # The readers and the layout walk with explicit stacks, never recursion.
    depth = 3000
    node = {"plan_type": "Result", "actual_total_time": 1.0, "actual_loops": 1}
    text = json.dumps({"buffers": ["q"], "coarse_grained": {**node},
                       "fine_grained": {"pipeline": [node] * depth, "subplans": []}})
    plan = _read(text)
    assert len(plan.fine.nodes) == depth
    assert plans.flame_rects(plan.fine)[-1].depth == depth - 1
    assert str(plans.tree_table(plan.fine)["node"][-1]).strip().endswith("Result")
    spec = plans.flame_spec(plans.flame_rects(plan.fine), icicle=True)
    assert spec["height"] == plans.MAX_FLAME_HEIGHT_PX


def test_analyze_text_and_detection() -> None:
    assert plans.is_analyze_query("  ANALYZE select 1")
    assert not plans.is_analyze_query("select analyze")
    assert not plans.is_analyze_query("")
    assert plans.analyze_text(" select 1 ") == "analyze select 1"
    assert plans.analyze_text("analyze select 1") == "analyze select 1"


def test_the_fake_plan_reads_like_a_real_one() -> None:
    query = "analyze select Movie {title, actors: {name}} filter .release_year > 2000"
    plan = _read(fake_plan_json(query))
    assert plan.buffers == (query,)
    assert [n.label for n in plan.coarse.nodes][1].startswith("actors")
    hl = plans.highlight(plan, plan.coarse, 1)
    assert hl is not None and hl.fragment == "actors"
    assert plan.fine.root.total_ms > 0


@needs_transcripts
def test_the_fake_plan_has_the_recorded_format() -> None:
    """The fake server's answer uses the keys a real server's answer uses, at every level."""
    recorded = json.loads(_answer("analyze nested shape"))
    fake = json.loads(fake_plan_json(
        "analyze select Movie {title, actors: {name}} filter .release_year > 2000 order by .title"))
    assert set(fake) == set(recorded)

    def fine_keys(group: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
        groups, nodes, props = set(group), set(), set()
        for node in group["pipeline"]:
            nodes |= set(node)
            props |= {k for p in node["properties"] for k in p}
        for sub in group["subplans"]:
            g, n, p = fine_keys(sub)
            groups, nodes, props = groups | g, nodes | n, props | p
        return groups, nodes, props

    assert all(a <= b for a, b in zip(fine_keys(fake["fine_grained"]),
                                      fine_keys(recorded["fine_grained"]), strict=True))
    fake_child = fake["coarse_grained"]["children"][0]
    recorded_child = recorded["coarse_grained"]["children"][0]
    assert set(fake_child) == set(recorded_child)
    assert set(fake_child["node"]) == set(recorded_child["node"])
    assert set(fake["coarse_grained"]) == set(recorded["coarse_grained"])


def test_marked_excerpt_puts_carets_under_the_fragment() -> None:
    buffer = "analyze select Movie {\n  title,\n  actors: {name}\n}"
    start = buffer.index("actors")
    mark = plans.Highlight(buffer, start, start + 6, 3, 3, False)
    excerpt = plans.marked_excerpt(mark, context_lines=0).split("\n")
    assert excerpt == ["  actors: {name}", "  ^^^^^^"]
    spanning = plans.Highlight(buffer, buffer.index("Movie"), buffer.index("title") + 5, 1, 16,
                               False)
    lines = plans.marked_excerpt(spanning, context_lines=0).split("\n")
    assert lines[1] == " " * 15 + "^" * 7 and lines[3] == "^" * 7


def test_reading_a_plan_never_touches_the_collectors_process_state(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The collector is the process's: a session's read must not switch it off (or freeze,
    # or retune it) under the other sessions' threads.
    import gc

    touched: list[str] = []
    for name in ("disable", "enable", "freeze", "unfreeze", "set_threshold", "collect"):
        monkeypatch.setattr(gc, name, lambda *a, _name=name, **k: touched.append(_name))
    text = synthetic_plan_json(500)
    assert isinstance(plans.read_plan(text), plans.QueryPlan)
    assert isinstance(plans.read_plan(json.loads(text)), plans.QueryPlan)
    assert isinstance(plans.read_plan("not json"), plans.UnreadablePlan)
    assert touched == []
