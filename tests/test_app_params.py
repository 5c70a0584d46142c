"""Typed query parameters in the page: inputs per parameter, errors, memory, shared links."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.apptest_support import (
    FakeFactory,
    console,
    editor_data,
    run_query,
    set_query_text,
    shown,
    submit,
    texts,
    wait_until,
)

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
        assert editor_data(at)["text"] == "select <str>$title"
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


def genre_description(members: Any = ("Action", "SciFi", "Drama")) -> object:
    """What a real server describes for `<Genre>$g` (see the transcripts' describe cases);
    ``members`` is a tuple of str (the stub says tuple[str]; it is variadic)."""
    import uuid

    import gel
    import gel.describe as d

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


def test_typing_a_new_text_never_waits_for_a_slow_server() -> None:
    query = "select <Genre>$g"
    # The server takes far longer than connect_wait_s + 3 to describe anything.
    factory = FakeFactory(input_types={query: genre_description()}, describe_delay_s=60)
    with console(factory, connect_wait_s=3) as at:
        at.run()
        for text in (query, query + " ", query + " limit 1"):  # keystroke pauses
            started = time.monotonic()
            set_query_text(at, text)
            elapsed = time.monotonic() - started
            assert not at.exception
            assert elapsed < 3, f"a page run waited {elapsed:.1f} s for the server"
            # The input parsed from the text is there meanwhile.
            assert at.text_input(key="p_0_g").label.startswith("$g")
        client = factory.built[0]
        wait_until(lambda: client.stats.describes >= 1)  # asked, off the page run


def test_after_a_connection_failure_the_page_stops_describing_and_says_so() -> None:
    import gel.errors

    factory = FakeFactory(
        connect_error=gel.errors.ClientConnectionFailedTemporarilyError("no server"))
    with console(factory) as at:
        at.run()
        set_query_text(at, "select <str>$a")
        client = factory.built[0]

        def asked() -> int:  # the describes, or the first-connect attempts that end them
            return client.stats.describes + client.stats.connects

        wait_until(lambda: asked() >= 1)
        at.run()  # the failure is picked up (the page's poll does this in a browser)
        assert "asks again in" in texts(at)
        before = asked()
        for text in ("select <str>$ab", "select <str>$abc"):
            set_query_text(at, text)
            assert at.text_input(key=f"p_0_{text.split('$')[1]}")
        assert asked() == before
        assert texts(at).count("asks again in") == 1


def test_a_renamed_enum_member_is_offered_after_the_run_fails() -> None:
    import gel.errors

    query = "select <Genre>$g"
    current = {"members": ("Action", "SciFi", "Drama")}

    def responder(text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if kwargs.get("g") not in current["members"]:
            return gel.errors.InvalidValueError(
                f"invalid input value for enum 'default::Genre': \"{kwargs.get('g')}\"")
        return [kwargs["g"]]

    factory = FakeFactory(responder=responder, input_types={query: genre_description()})
    with console(factory) as at:
        at.run()
        run_query(at, query)
        at.selectbox(key="p_0_g").set_value("SciFi")
        # Another client renames the member: the server now describes the new set.
        current["members"] = ("Action", "ScienceFiction", "Drama")
        factory.built[0]._input_types[query] = genre_description(current["members"])
        submit(at)
        assert "invalid input value" in texts(at)
        at.run()
        assert list(at.selectbox(key="p_0_g").options) == list(current["members"])


def test_a_submission_names_every_refused_tab_typed_or_text() -> None:
    # One path reads every tab: a typed tab's bad value and a text tab's unreadable
    # arguments are both named (the typed check no longer runs first, on its own).
    factory = FakeFactory()
    with console(factory) as at:
        at.session_state["tab_count"] = 2
        at.run()
        set_query_text(at, "select <int16>$n")
        at.text_input(key="p_0_n").input("40000")
        run_query(at, "select 2", args="(", tab=1)
        assert not at.exception
        errors = [shown(element.value) for element in at.error]
        assert any("$n" in error and "int16" in error for error in errors), errors
        assert any("Query 2: cannot read the positional arguments" in error
                   for error in errors), errors
        assert factory.calls == []
