"""A test page for the history and saved-queries panels alone (tests/test_app_memory.py): the
real glue (st_page/browser_memory.py, st_page/saved_queries.py) with page actions that only
record what they were asked to do."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run` adds tests/

import streamlit as st

from ecc.arguments.drafts import DraftLimits
from ecc.driver.client import QueryMethod
from ecc.library.entries import Loadable, QueryText
from ecc.settings.config import ConsoleSettings
from st_page import browser_memory, saved_queries

settings = ConsoleSettings(fake_client=True, team_library=st.session_state.get("probe_team"))


def current() -> QueryText:
    return QueryText(st.session_state.get("probe_text", "select 1"), QueryMethod.QUERY_JSON,
                     kwargs_text=st.session_state.get("probe_kwargs", ""))


def did(what: str) -> Callable[[Loadable], None]:
    def action(query: Loadable) -> None:
        st.session_state["probe_did"] = f"{what}: {query.query}"
    return action


memory = browser_memory.session_memory(settings)
actions = saved_queries.PageActions(current=current, load=did("load"), run=did("run"))
for view in st.session_state.pop(saved_queries.ACTION_ERRORS, []):
    st.error(f"{view.title}: {view.message}")
if memory is not None:
    browser_memory.history_panel(memory, actions.load, actions.run)
saved_queries.panel(memory, saved_queries.team_library(settings), actions, DraftLimits())
st.text("did: " + st.session_state.get("probe_did", "nothing"))
if memory is not None:
    browser_memory.mount(memory)
