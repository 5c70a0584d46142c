"""The page, driven by AppTest with the shipped fake client: the console's main flows."""

from __future__ import annotations

import gel
import pytest

from ecc.fake.client import server_error
from tests.apptest_support import FakeFactory, console, run_query, shown, submit, texts

pytestmark = pytest.mark.usefixtures("clean_driver_env")


def test_unconfigured_start_shows_the_setup_panel() -> None:
    from streamlit.testing.v1 import AppTest

    from tests.apptest_support import APP

    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "[connections.gel]" in at.info[0].value
    assert "GEL_DSN" in at.info[0].value


def test_a_bad_setting_is_named_in_the_setup_panel() -> None:
    with console(quey_timeout_s=5) as at:
        at.run()
        assert not at.exception
        assert "quey_timeout_s" in shown(at.error[0].value)


def test_submitting_a_query_renders_its_table() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select Movie {title, release_year, rating}")
        assert not at.exception
        table = at.dataframe[0].value
        assert len(table) == 10
        assert list(table.columns) == ["title", "release_year", "rating"]  # implicit id hidden
        assert "Alien" in set(table["title"])
        page = texts(at)
        assert "10 rows" in page
        assert "query()" in page


def test_json_mode_uses_the_json_method_and_shows_the_rows() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, "select Movie {title}", as_json=True)
        assert not at.exception
        assert "query_json()" in texts(at)
        assert len(at.dataframe[0].value) == 10


@pytest.mark.parametrize(
    ("cardinality", "method", "expected"),
    [
        ("many", "query()", "1 row"),
        ("at most one", "query_single()", "1 row"),
        ("exactly one", "query_required_single()", "1 row"),
    ],
)
def test_each_cardinality_picks_its_driver_method(
    cardinality: str, method: str, expected: str
) -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 42", cardinality=cardinality)
        assert not at.exception
        assert method in texts(at)
        assert expected in texts(at)
        assert factory.calls[-1][0] == method.removesuffix("()")


def test_exactly_one_on_an_empty_result_shows_no_data_error() -> None:
    factory = FakeFactory(responder={"select Movie filter false": []})
    with console(factory) as at:
        at.run()
        run_query(at, "select Movie filter false", cardinality="exactly one")
        assert not at.exception
        assert "NoDataError" in at.error[0].value


def test_positional_arguments_reach_the_driver_typed() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <int64>$0", args="2014")
        assert not at.exception
        assert factory.calls[-1][2] == (2014,)


def test_an_argument_error_points_at_the_problem_and_runs_nothing() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <str>$0", args="'unterminated")
        assert not at.exception
        assert "Invalid argument" in at.error[0].value
        assert any("^" in str(code.value) for code in at.code)
        assert factory.calls == []


def test_mixed_positional_and_named_arguments_are_refused_before_sending() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select (<int64>$0, <str>$name)", args="1", kwargs="name = 'x'")
        assert not at.exception
        assert "Mixed arguments" in at.error[0].value
        assert factory.calls == []


def test_a_batch_with_two_failures_shows_both_errors_and_the_third_result() -> None:
    answers = {
        "select Broken": server_error(
            gel.errors.InvalidReferenceError,
            "object type or alias 'default::Broken' does not exist",
            query="select Broken",
            span=(7, 13),
            hint="did you mean?",
        ),
        "select 1 // 0": gel.errors.DivisionByZeroError("division by zero"),
    }
    with console(FakeFactory(responder=answers)) as at:
        at.session_state["tab_count"] = 3
        at.run()
        at.session_state["q_text_0"] = "select Broken"
        at.session_state["q_text_1"] = "select Movie {title}"
        at.session_state["q_text_2"] = "select 1 // 0"
        submit(at)
        assert not at.exception
        errors = [e.value for e in at.error]
        assert len(errors) == 2
        assert any("InvalidReferenceError" in e for e in errors)
        assert any("DivisionByZeroError" in e for e in errors)
        assert len(at.dataframe[0].value) == 10
        assert any("select Broken" in str(c.value) and "^^^^^^" in str(c.value) for c in at.code)


def test_reset_my_connection_closes_the_client_and_the_next_query_opens_a_new_one() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 1")
        assert len(factory.built) == 1
        at.toggle(key="show_resources").set_value(True).run()
        at.button(key="res_reset").click().run()
        assert not at.exception
        assert factory.built[0].stats.closed
        run_query(at, "select 2")
        assert len(factory.built) == 2
        assert not factory.built[1].stats.closed


def test_a_failing_query_keeps_the_session_working() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "selec 1")
        assert "EdgeQLSyntaxError" in at.error[0].value
        run_query(at, "select Movie {title}")
        assert not at.exception
        assert len(at.dataframe[0].value) == 10


def test_two_sessions_get_their_own_token_loop_client_and_results() -> None:
    from streamlit.testing.v1 import AppTest

    import st_utils
    from tests.apptest_support import APP

    factory = FakeFactory()
    with console(factory) as first:
        second = AppTest.from_file(APP, default_timeout=30)
        second.secrets["connections"] = {"gel": {"fake_client": True}}
        first.run()
        second.run()
        run_query(first, "select Movie {title}")
        run_query(second, "select 7")
        runtimes = list(st_utils.session_registry()._runtimes.values())
        assert len(runtimes) == 2
        assert runtimes[0].loop.thread is not runtimes[1].loop.thread
        assert len(factory.built) == 2
        assert factory.built[0].stats.loop is not factory.built[1].stats.loop
        assert len(first.dataframe[0].value) == 10
        assert list(second.dataframe[0].value["value"]) == [7]
        assert "Movie" not in texts(second)
