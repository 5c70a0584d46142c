"""Run again and Load into editor on the branch a run was recorded on (AppTest, fake server
with branches): from the session's history table and from the history kept in the browser,
the picker switched when the operator's policy still allows the branch, and nothing run
(the page saying which branch and why) when it does not; saved queries keep their branch."""

from __future__ import annotations

import json
from typing import Any

from streamlit.testing.v1 import AppTest

from ecc.library.browser import BrowserMemory
from ecc.library.entries import MemoryLimits
from ecc.running.runs import RunBook, RunRecord
from ecc.settings.config import ConsoleSettings
from st_page.browser_memory import MEMORY_KEY
from tests.apptest_support import console, run_query, texts
from tests.conftest import wait_until
from tests.test_app_memory import loaded_console_memory

STAGING_TITLE = "Alien [staging]"



def book(at: AppTest) -> RunBook:
    found = at.session_state["run_book"]
    assert isinstance(found, RunBook)
    return found


def finished(at: AppTest) -> list[RunRecord]:
    wait_until(lambda: bool(at.run()) and not any(r.active for r in book(at).newest_first()),
               20, "the runs to finish")
    return book(at).newest_first()


def first_title(record: RunRecord) -> str:
    assert record.status == "done", record.error
    assert record.result is not None and isinstance(record.result.value, list)
    return str(record.result.value[0].title)


def picker(at: AppTest) -> Any:
    return next(s for s in at.selectbox if s.key == "ecc_branch")


def allow(at: AppTest, **settings: Any) -> None:
    """The operator changes the settings between two page runs."""
    at.secrets["connections"] = {"gel": {"fake_client": True, **settings}}


def kept_entry(branch: str | None, query: str = "select Movie {title}") -> dict[str, str]:
    value: dict[str, Any] = {"v": 2 if branch is not None else 1, "q": query, "a": "",
                             "k": "", "m": "query", "s": "done", "e": 0.01, "r": 10,
                             "t": 1_700_000_000.0}
    if branch is not None:
        value.update(b=branch, g="")
    return {"k1": json.dumps(value)}


def with_kept(at: AppTest, history: dict[str, str]) -> BrowserMemory:
    """A console session whose browser handed over ``history`` (as the component's load)."""
    memory = BrowserMemory("anon", MemoryLimits.from_settings(ConsoleSettings()))
    memory.adopt_loaded({"load": memory.load_token, "h": history, "s": {}})
    at.session_state[MEMORY_KEY] = memory
    return memory


# --- the session's history table -------------------------------------------------------------
def test_run_again_runs_on_the_recorded_branch_and_switches_the_picker(page_branches) -> None:
    with console(allowed_branches=["*"]) as at:
        at.run()
        picker(at).select("staging").run()
        run_query(at, "select Movie {title}")
        [on_staging] = finished(at)
        assert first_title(on_staging) == STAGING_TITLE
        picker(at).select("main").run()
        at.toggle(key="show_history").set_value(True).run()
        at.selectbox(key="history_run").set_value(on_staging.run_id).run()
        at.button(key="history_rerun").click().run()
        assert not at.exception, at.exception
        again = finished(at)[0]
        assert again.run_id != on_staging.run_id
        assert again.request.branch == "staging" and first_title(again) == STAGING_TITLE
        assert picker(at).value == "staging"


def test_run_again_on_a_branch_no_longer_allowed_says_so_and_runs_nothing(page_branches) -> None:
    with console(allowed_branches=["staging"]) as at:
        at.run()
        picker(at).select("staging").run()
        run_query(at, "select Movie {title}")
        [on_staging] = finished(at)
        allow(at, allowed_branches=["dev"])
        at.run()
        at.toggle(key="show_history").set_value(True).run()
        at.selectbox(key="history_run").set_value(on_staging.run_id).run()
        at.button(key="history_rerun").click().run()
        assert not at.exception, at.exception
        shown = texts(at)
        assert "This query ran on branch 'staging', which this console does not allow now" \
            in shown
        assert "not one of the branches this console allows: dev" in shown
        assert "Nothing was run." in shown
        assert len(finished(at)) == 1  # only the first run
        assert picker(at).value == "main"


def test_load_into_form_on_a_refused_branch_loads_and_says_where_a_run_goes(page_branches) -> None:
    with console(allowed_branches=["staging"]) as at:
        at.run()
        picker(at).select("staging").run()
        run_query(at, "select Movie {title} limit 2")
        [on_staging] = finished(at)
        allow(at, pinned_branch="main")
        at.session_state["q_text_0"] = "select 0"
        at.run()
        at.toggle(key="show_history").set_value(True).run()
        at.selectbox(key="history_run").set_value(on_staging.run_id).run()
        at.button(key="history_load").click().run()
        assert not at.exception, at.exception
        assert at.session_state["q_text_0"] == "select Movie {title} limit 2"
        shown = texts(at)
        assert "pinned to branch 'main'; branch 'staging' cannot be used" in shown
        assert "a run of it now goes to this session's branch, 'main'" in shown
        assert len(finished(at)) == 1


# --- the history kept in the browser ---------------------------------------------------------
def test_the_kept_history_shows_the_branch_and_runs_again_there(page_branches) -> None:
    with console(allowed_branches=["*"]) as at:
        with_kept(at, kept_entry("dev"))
        at.run()
        at.toggle(key="show_history").set_value(True).run()
        kept_table = at.dataframe[-1].value
        assert list(kept_table["branch"]) == ["dev"]
        at.button(key="memory_rerun").click().run()
        assert not at.exception, at.exception
        [again] = finished(at)
        assert again.request.branch == "dev" and first_title(again) == "Alien [dev]"
        assert picker(at).value == "dev"


def test_a_kept_run_on_a_branch_not_allowed_runs_nothing_and_names_it(page_branches) -> None:
    with console() as at:  # the operator allows the connection's branch only
        with_kept(at, kept_entry("staging"))
        at.run()
        at.toggle(key="show_history").set_value(True).run()
        at.button(key="memory_rerun").click().run()
        assert not at.exception, at.exception
        shown = texts(at)
        assert "This query ran on branch 'staging'" in shown
        assert "runs on its connection's branch only" in shown and "Nothing was run." in shown
        assert book(at).newest_first() == []


def test_a_version_1_kept_run_runs_on_the_session_s_branch(page_branches) -> None:
    with console(allowed_branches=["*"]) as at:
        with_kept(at, kept_entry(None))
        at.run()
        picker(at).select("staging").run()
        at.toggle(key="show_history").set_value(True).run()
        assert list(at.dataframe[-1].value["branch"]) == [""]
        at.button(key="memory_rerun").click().run()
        [again] = finished(at)
        assert again.request.branch == "staging"


def test_a_finished_run_is_kept_with_its_branch(page_branches) -> None:
    with console(allowed_branches=["*"]) as at:
        memory = loaded_console_memory(at)
        at.run()
        picker(at).select("staging").run()
        run_query(at, "select Movie {title}")
        finished(at)
        wait_until(lambda: bool(at.run() and memory.history), 15, "the run kept")
        assert memory.history[0].branch == "staging"


# --- saved queries -----------------------------------------------------------------------------
def test_a_saved_query_keeps_its_branch_and_its_link_carries_it(page_branches) -> None:
    with console(allowed_branches=["*"]) as at:
        memory = loaded_console_memory(at)
        at.run()
        picker(at).select("dev").run()
        at.session_state["q_text_0"] = "select Movie {title}"
        at.toggle(key="show_saved").set_value(True).run()
        at.text_input(key="saved_name").input("On dev").run()
        at.button(key="saved_save").click().run()
        assert not at.exception, at.exception
        [saved] = memory.saved
        assert saved.branch == "dev"
        assert any("&branch=dev" in c.value for c in at.code)
        picker(at).select("main").run()
        at.button(key="saved_run").click().run()
        [ran] = finished(at)
        assert ran.request.branch == "dev" and picker(at).value == "dev"


def test_a_hostile_recorded_branch_name_is_shown_as_text(page_branches) -> None:
    from tests.test_app_hardening import foreign_structure

    hostile = "[x](https://evil.example) **b**"  # a valid shape: 1-63 printable characters
    with console() as at:
        with_kept(at, kept_entry(hostile))
        at.run()
        at.toggle(key="show_history").set_value(True).run()
        assert list(at.dataframe[-1].value["branch"]) == [hostile]
        at.button(key="memory_rerun").click().run()
        assert not at.exception, at.exception
        assert "This query ran on branch '[x](https://evil.example) **b**'" in texts(at)
        assert foreign_structure(at) == set()
        assert book(at).newest_first() == []
