"""Typed query parameters in the page: inputs per parameter, errors, memory, shared links."""

from __future__ import annotations

from typing import Any

import pytest

from tests.apptest_support import FakeFactory, console, run_query, shown, texts

pytestmark = pytest.mark.usefixtures("clean_driver_env")


def test_a_typed_positional_parameter_reaches_the_driver_as_an_int() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <int64>$0", params={"0": "2014"})
        assert not at.exception
        assert factory.calls[-1][1:] == ("select <int64>$0", (2014,), {})


def test_typed_inputs_and_the_argument_language_make_the_same_driver_call() -> None:
    typed, free = FakeFactory(), FakeFactory()
    query = "select (<int64>$0, <str>$1, <uuid>$2)"
    uid = "12345678-1234-5678-1234-567812345678"
    with console(typed) as at:
        at.run()
        run_query(at, query, params={"0": "7", "1": "a;b", "2": uid})
        assert not at.exception
    with console(free) as at:
        at.run()
        run_query(at, query, args=f"7, 'a;b', uuid('{uid}')")
        assert not at.exception
    assert typed.calls[-1] == free.calls[-1]


def test_a_named_typed_parameter_is_sent_as_a_keyword() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <str>$title", params={"title": "Dune"})
        assert factory.calls[-1][2:] == ((), {"title": "Dune"})


def test_an_out_of_range_value_names_the_parameter_and_runs_nothing() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <int16>$n", params={"n": "40000"})
        assert not at.exception
        error = shown(at.error[0].value)
        assert "$n" in error and "int16" in error
        assert factory.calls == []


def test_a_required_parameter_left_empty_is_refused() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select (<str>$title, <int64>$year)")
        assert len(at.error) == 1  # one message listing what is missing, not one per input
        assert "Parameters needed" in shown(at.error[0].value)
        assert "$title (str), $year (int64)" in shown(at.error[0].value)
        assert factory.calls == []


def test_an_optional_parameter_left_empty_is_sent_as_the_empty_set() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <optional str>$x ?? 'default'", params={"x": ""})
        assert not at.exception
        assert factory.calls[-1][3] == {"x": None}


def test_a_parameter_without_a_cast_is_explained_and_nothing_runs() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select $x")
        assert "<str>$x" in texts(at)  # the fix is spelled out
        assert factory.calls == []


def test_mixed_parameter_styles_are_refused() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select (<int64>$0, <str>$name)", params={"0": "1", "name": "x"})
        assert at.error
        assert factory.calls == []


def test_values_survive_editing_the_query_text() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <str>$title", params={"title": "Dune"})
        run_query(at, "select <int64>$year", params={"year": "2000"})
        assert factory.calls[-1][3] == {"year": 2000}
        run_query(at, "select <str>$title")  # $title is back: its value was remembered
        assert at.text_input(key="p_0_title").value == "Dune"
        assert factory.calls[-1][3] == {"title": "Dune"}


def test_a_shared_link_fills_the_form_and_runs_nothing() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.query_params["q"] = "select <str>$title"
        at.query_params["p.title"] = "Arrival"
        at.run()
        assert not at.exception
        assert at.text_area(key="q_text_0").value == "select <str>$title"
        assert at.text_input(key="p_0_title").value == "Arrival"
        assert factory.calls == []
        assert "shared query" in texts(at)


def test_running_a_query_puts_it_in_the_page_address() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, "select <str>$title", params={"title": "Dune"})
        assert (
            at.query_params["q"] == ["select <str>$title"]
            or at.query_params["q"] == "select <str>$title"
        )
        shared = at.query_params["p.title"]
        assert shared in ("Dune", ["Dune"])


def genre_description() -> object:
    """What a real server describes for `<Genre>$g` (see the transcripts' describe cases)."""
    import uuid

    import gel
    import gel.describe as d

    members: Any = ("Action", "SciFi", "Drama")  # the stub says tuple[str]; it is variadic
    enum = d.EnumType(desc_id=uuid.uuid4(), name="default::Genre", members=members)
    element = d.Element(
        type=enum, cardinality=gel.Cardinality.ONE, is_implicit=False, kind=gel.ElementKind.PROPERTY
    )
    return d.ObjectType(desc_id=uuid.uuid4(), name=None, elements={"g": element})


def test_an_enum_parameter_offers_the_servers_members_as_a_choice() -> None:
    query = "select <Genre>$g"
    factory = FakeFactory(input_types={query: genre_description()})
    with console(factory) as at:
        at.run()
        run_query(at, query)  # first submit: the server describes the query
        choice = at.selectbox(key="p_0_g")
        assert list(choice.options) == ["Action", "SciFi", "Drama"]
        choice.set_value("SciFi")
        next(b for b in at.button if b.label == "Run").click().run()
        assert factory.calls[-1][3] == {"g": "SciFi"}


def test_when_text_and_server_disagree_the_server_wins_and_the_page_says_so() -> None:
    query = "select <str>$g"
    factory = FakeFactory(input_types={query: genre_description()})
    with console(factory) as at:
        at.run()
        run_query(at, query)
        assert any("server" in i.value and "$g" in i.value for i in at.info)
        assert list(at.selectbox(key="p_0_g").options) == ["Action", "SciFi", "Drama"]
