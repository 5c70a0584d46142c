"""The page's chart view, plan view, Analyze action and run phases, driven by AppTest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import FakeFactory, console, run_query, set_query_text, texts

pytestmark = pytest.mark.usefixtures("clean_driver_env")

NESTED = "analyze select Movie {title, actors: {name}} filter .release_year > 2000 order by .title"


def specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]


def chart_view(at: AppTest) -> AppTest:
    at.run()
    return at.radio(key="pref_view").set_value("chart").run()


def test_the_chart_view_draws_the_defaults_and_counts_rows() -> None:
    with console(FakeFactory()) as at:
        chart_view(at)
        run_query(at, "select Movie {title, release_year, rating}")
        assert not at.exception
        (spec,) = specs(at)
        assert spec["mark"]["type"] == "bar"
        assert spec["encoding"]["x"]["title"] == "title"
        assert spec["encoding"]["y"]["title"] == "release_year"
        assert at.selectbox(key="chart_1_type").value == "bar"
        assert "Charting 10 rows" in texts(at)


def test_choosing_chart_type_and_columns_redraws_the_chart() -> None:
    with console(FakeFactory()) as at:
        chart_view(at)
        run_query(at, "select Movie {title, release_year, rating}")
        at.selectbox(key="chart_1_type").set_value("scatter").run()
        at.selectbox(key="chart_1_x").set_value("release_year").run()
        at.selectbox(key="chart_1_y").set_value("rating").run()
        at.selectbox(key="chart_1_colour").set_value("title").run()
        assert not at.exception
        (spec,) = specs(at)
        assert spec["mark"]["type"] == "point"
        assert spec["encoding"]["x"]["title"] == "release_year"
        assert spec["encoding"]["y"]["title"] == "rating"
        assert spec["encoding"]["color"]["title"] == "title"
        at.selectbox(key="chart_1_type").set_value("histogram").run()
        (spec,) = specs(at)
        assert spec["encoding"]["x"]["bin"] == {"maxbins": 40}
        assert spec["encoding"]["y"]["aggregate"] == "count"


def test_a_result_with_nothing_to_chart_says_so_and_shows_the_table() -> None:
    with console(FakeFactory()) as at:
        chart_view(at)
        run_query(at, "select Person {name}")
        assert not at.exception
        assert not specs(at)
        assert "Nothing to chart" in texts(at)
        assert len(at.dataframe[0].value) == 3


def test_an_analyze_query_renders_its_plan_and_the_fragment_of_a_node() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, NESTED)
        assert not at.exception
        (spec,) = specs(at)
        assert spec["layer"][0]["mark"]["type"] == "rect"
        picker = at.selectbox(key="plan_1_coarse_node")
        assert len(picker.options) == 2
        assert "Movie" in at.code[0].value and "^^^^^" in at.code[0].value
        picker.set_value(1).run()
        assert not at.exception
        excerpt = at.code[0].value
        line, carets = excerpt.split("\n")[:2]
        assert line[carets.index("^"):].startswith("actors")
        assert "line 1, column 30" in texts(at)


@pytest.mark.parametrize("cardinality", ["many", "at most one", "exactly one"])
@pytest.mark.parametrize("as_json", [False, True], ids=["json off", "json on"])
def test_analyze_shows_its_plan_with_every_cardinality_and_json_setting(
        cardinality: str, as_json: bool) -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, NESTED, cardinality=cardinality, as_json=as_json)
        assert not at.exception
        assert not at.error, [e.value for e in at.error]
        assert specs(at) and len(at.selectbox(key="plan_1_coarse_node").options) == 2


def test_the_fine_plan_and_the_tree_table_are_a_click_away() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, NESTED)
        at.button_group(key="plan_1_grain").set_value("fine").run()
        assert not at.exception
        fine = at.selectbox(key="plan_1_fine_node")
        assert any("IndexScan" in o for o in fine.options)
        at.button_group(key="plan_1_style").set_value("tree").run()
        assert not at.exception
        table = at.dataframe[0].value
        assert "self ms" in table.columns and "loops" in table.columns
        assert table["node"].iloc[0] == "Sort"
        at.button_group(key="plan_1_style").set_value("icicle").run()
        (spec,) = specs(at)
        assert spec["layer"][0]["encoding"]["y"]["scale"]["reverse"] is True  # root on top


def test_the_analyze_button_runs_analyze_of_the_query() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        set_query_text(at, "select Movie {title}")
        next(b for b in at.button if b.label == "Analyze").click().run()
        assert not at.exception
        assert factory.calls[-1][1] == "analyze select Movie {title}"
        assert specs(at) and at.selectbox(key="plan_1_coarse_node")
        assert at.session_state["q_text_0"] == "select Movie {title}"  # editor unchanged


def test_analyze_of_a_write_is_refused_in_read_only_mode() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        set_query_text(at, "insert Movie {title := 'x'}")
        next(b for b in at.button if b.label == "Analyze").click().run()
        assert not at.exception
        assert "read-only" in texts(at)
        assert factory.calls == []  # described, never sent


def test_an_unreadable_plan_shows_its_json_with_a_note() -> None:
    answer = json.dumps({"plan_format": "v99", "nodes": []})
    factory = FakeFactory(responder={"analyze select 1": [answer]})
    with console(factory) as at:
        at.run()
        run_query(at, "analyze select 1")
        assert not at.exception
        assert "cannot read" in at.warning[0].value
        assert at.json[0].value and "v99" in at.json[0].value


def test_phases_show_on_the_status_line_and_in_the_history() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, "select 1")
        assert "server" in texts(at) and "describe" in texts(at) and "queued" in texts(at)
        at.toggle(key="show_history").set_value(True).run()
        history = at.dataframe[-1].value
        for column in ("queued ms", "describe ms", "server ms", "shaping ms"):
            assert column in history.columns
            assert history[column].iloc[0] >= 0


def test_history_json_carries_the_phases() -> None:
    from ecc.driver.execute import QueryRequest
    from ecc.running.runs import RunPhases, RunRecord
    from st_page import history

    record = RunRecord(1, 1, QueryRequest("Q1", "select 1"), "done", 0.0, 0.0, 0.0, 0.2,
                       phases=RunPhases(queued_s=0.01, describe_s=0.02, execute_s=0.1,
                                        shape_s=0.001))
    (row,) = json.loads(history.history_json([record]))
    assert row["phases_s"] == {"queued": 0.01, "describe": 0.02, "server": 0.1,
                               "shaping": 0.001}


def test_the_json_view_of_an_analyze_shows_the_whole_answer_parsed() -> None:
    with console(FakeFactory()) as at:
        at.run()
        at.radio(key="pref_view").set_value("json").run()
        run_query(at, NESTED)
        assert not at.exception
        assert not specs(at)
        document = json.loads(at.json[0].value)
        assert document["buffers"] == [NESTED]
        assert "coarse_grained" in document


def test_analyze_with_typed_parameters_sends_them_with_the_analyze() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        query = "select Movie {title} filter .release_year > <int64>$year"
        set_query_text(at, query)  # typed inputs appear as the text arrives: no Run needed
        at.text_input(key="p_0_year").input("2000")
        next(b for b in at.button if b.label == "Analyze").click().run()
        assert not at.exception
        method, sent, args, kwargs = factory.calls[-1]
        assert (method, args) == ("query", ())
        assert sent == "analyze " + query
        assert kwargs == {"year": 2000}
        assert at.selectbox(key=f"plan_{len(factory.calls)}_coarse_node")


def test_column_names_in_chart_notes_are_never_read_as_markdown() -> None:
    import uuid

    from gel.datatypes import datatypes as dt

    hostile = "[click](http://evil) **x** :red[y]"
    row = dt.create_object_factory(id={"property", "implicit"}, **{hostile: "property",
                                                                     "n": "property"})
    rows = [row(uuid.UUID(int=1), [1], 1), row(uuid.UUID(int=2), [2], 2)]
    factory = FakeFactory(responder={"select Hostile": rows})
    with console(factory) as at:
        chart_view(at)
        run_query(at, "select Hostile")
        assert not at.exception
        note = next(c.value for c in at.caption if "nested values" in c.value)
        assert "\\[click\\]\\(http\\:" in note and "\\*\\*x\\*\\*" in note
        assert "\\:red\\[y\\]" in note


def test_escape_markdown_leaves_no_markup() -> None:
    import st_comps

    assert st_comps.escape_markdown("a_b*c`d<e>\nf") == "a\\_b\\*c\\`d\\<e\\> f"


def test_a_rerun_never_rebuilds_the_charts_of_shown_results(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from ecc.display import charts

    built: list[int] = []
    chart_model = charts.chart_model

    def counting(result: Any) -> Any:
        built.append(1)
        return chart_model(result)

    monkeypatch.setattr(charts, "chart_model", counting)
    query = "select Movie {title, release_year, rating}"
    with console(FakeFactory()) as at:
        at.session_state["tab_count"] = 12  # more than the 8 a FIFO cache used to keep
        for tab in range(12):
            at.session_state[f"q_text_{tab}"] = query
        chart_view(at)
        next(b for b in at.button if b.label == "Run").click().run()
        assert not at.exception and len(at.get("vega_lite_chart")) == 12
        assert len(built) == 12
        at.run()
        at.selectbox(key="chart_3_type").set_value("line").run()  # one result's pickers
        assert len(built) == 12  # neither rerun rebuilt a chart model
        assert len(at.get("vega_lite_chart")) == 12
        assert len(at.session_state["ecc_chart_models"]) == 12


def test_chart_caches_keep_only_results_the_session_still_keeps() -> None:
    query = "select Movie {title, release_year, rating}"
    with console(FakeFactory(), max_kept_results=2) as at:
        chart_view(at)
        for _ in range(4):
            run_query(at, query)
        at.run()
        kept = at.session_state["ecc_chart_models"]
        # runs 1 and 2 lost their results (max_kept_results = 2): their charts went with them
        assert sorted(key[0] for key in kept) == [3, 4]
        assert at.session_state["ecc_chart_tables"].keys() == kept.keys()
