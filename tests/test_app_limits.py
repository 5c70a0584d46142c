"""Limits that hold on every path (issue 17), driven through the page.

- ``max_sessions``: the session past the cap gets one message and no runtime; the others keep
  working; a released session frees its slot.
- ``max_args_chars``: one size check for typed inputs, the argument language, shared links
  (read and written) and "Run again".
- ``max_kept_bytes``: a result over the byte budget keeps its metadata and says why.
"""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.apptest_support import APP, FakeFactory, console, run_query, texts

BUSY = "The console is at its limit of 1 active sessions; try again in a minute."


def _second_page(**settings: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["connections"] = {"gel": {"fake_client": True, **settings}}
    return at


def test_the_session_past_max_sessions_gets_the_message_and_the_first_keeps_working() -> None:
    import st_utils

    factory = FakeFactory()
    with console(factory, max_sessions=1) as first:
        first.run()
        second = _second_page(max_sessions=1)
        second.run()
        assert not second.exception
        assert BUSY in texts(second) and "Console busy" in texts(second)
        assert not second.button  # no form, no Run: nothing of the console is drawn
        run_query(first, "select 'still here'")
        assert not first.exception and not first.error
        assert [c[1] for c in factory.calls] == ["select 'still here'"]
        st_utils.session_registry().release(first.session_state["ecc_session_token"], wait=True)
        second.run()  # the released slot is free again
        assert BUSY not in texts(second)
        run_query(second, "select 'my turn'")
        assert not second.error and factory.calls[-1][1] == "select 'my turn'"


# --- max_args_chars on every path ---------------------------------------------------------------
def _address(at: AppTest) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_a_typed_value_over_max_args_chars_is_refused_naming_the_parameter() -> None:
    factory = FakeFactory()
    with console(factory, max_args_chars=20) as at:
        at.run()
        run_query(at, "select <str>$title", params={"title": "y" * 30})
        assert not at.exception
        assert "$title is 30 characters; the limit is 20 characters" in texts(at)
        assert "max_args_chars" in texts(at)
        assert factory.calls == [] and len(at.session_state["run_book"]) == 0  # nothing kept
        assert "p.title" not in _address(at)  # no link of a run that did not run


def test_a_run_within_the_limit_writes_a_link_the_loader_loads() -> None:
    factory = FakeFactory()
    with console(factory, max_args_chars=20) as at:
        at.run()
        run_query(at, "select <str>$title", params={"title": "y" * 20})
        assert [c[1] for c in factory.calls] == ["select <str>$title"]
        address = _address(at)
    assert address["p.title"] == "y" * 20
    with console(FakeFactory(), max_args_chars=20) as opened:
        for key, value in address.items():
            opened.query_params[key] = value
        opened.run()
        assert "not loaded" not in texts(opened)
        assert opened.text_input(key="p_0_title").value == "y" * 20


def test_run_again_over_a_lowered_limit_is_refused_with_the_message() -> None:
    factory = FakeFactory()
    with console(factory, max_args_chars=100) as at:
        at.run()
        run_query(at, "select <str>$title", params={"title": "y" * 30})
        assert len(factory.calls) == 1
        at.secrets["connections"] = {"gel": {"fake_client": True, "max_args_chars": 20}}
        at.toggle(key="show_history").set_value(True).run()
        at.button(key="history_rerun").click().run()
        assert not at.exception
        assert "the named arguments are" in texts(at) and "the limit is 20" in texts(at)
        assert len(factory.calls) == 1  # nothing ran again


# --- max_kept_bytes ------------------------------------------------------------------------------
def test_a_result_over_max_kept_bytes_keeps_its_metadata_and_the_page_says_why() -> None:
    factory = FakeFactory()
    with console(factory, max_kept_bytes=1_000) as at:
        at.run()
        run_query(at, "select '" + "w" * 3_000 + "'")
        assert not at.exception and not at.dataframe  # no rows kept, none drawn
        page = texts(at)
        assert ("The result (1 row) was at least 3 KB, over the 1 KB a session keeps per "
                "result (max_kept_bytes), so it was not kept") in page
        run_query(at, "select 'small'")  # the next result is kept as usual
        assert len(at.dataframe) == 1
        at.toggle(key="show_history").set_value(True).run()
        rows = at.dataframe[-1].value
        assert list(rows["rows"]) == [1, 1] and list(rows["status"]) == ["done", "done"]


def _share(limit: int) -> None:  # an AppTest script: share_link of one typed run
    import streamlit as st

    from ecc.arguments.drafts import DraftLimits
    from st_data_structures import FormContent, QueryTabContent
    from st_page import links

    st.query_params["q"] = "select 'an older run'"
    tab = QueryTabContent(text="select <str>$t", raw_params={"t": "y" * 30})
    links.share_link(FormContent(tabs=(tab,)), DraftLimits(100, limit))


def test_a_link_the_loader_would_refuse_is_never_written() -> None:
    at = AppTest.from_function(_share, args=(20,))
    at.run()
    assert not at.exception
    assert dict(at.query_params) == {}  # not the run's link, and not an older run's either
    assert [el.value for el in at.info] == [
        "This run is not in the page address: a shared link of it could not be opened (its "
        "query has 14 characters and its arguments 30; this console accepts at most 100 and "
        "20)."]
    fits = AppTest.from_function(_share, args=(30,))
    fits.run()
    assert _address(fits) == {"q": "select <str>$t", "mode": "typed", "p.t": "y" * 30}


def test_a_run_too_long_for_an_address_runs_and_says_its_link_was_not_written() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        query = "select '" + "é" * 2_000 + "'"  # 2,009 characters, 6 bytes each encoded
        run_query(at, query)
        assert not at.exception
        assert [c[1] for c in factory.calls] == [query]
        assert _address(at) == {}
        said = re.search(r"a shared link of it could not be opened \(its address would have "
                         r"([\d,]+) bytes; web servers and proxies accept links of at most "
                         r"6,144\)", texts(at))
        assert said is not None and int(said.group(1).replace(",", "")) > 12_000
