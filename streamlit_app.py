"""ECC: a multi-session query console for Gel (EdgeDB). This page only wires parts together."""

from __future__ import annotations

import streamlit as st

import st_comps
import st_utils
from ecc.display.safe_text import escape_markdown
from st_page import (
    branch_and_globals,
    browser_memory,
    data_explorer,
    descriptions,
    form,
    history,
    links,
    results,
    saved_queries,
    schema_explorer,
    sidebar,
    signin,
    streamlit_internals,
)

st.set_page_config(page_title="Gel query console", page_icon="🔎", layout="wide")

settings = st_utils.read_settings()
if isinstance(settings, st_utils.SettingsProblem):
    signin.setup_panel(settings.message)
    st.stop()
if not settings.connection.configured and not settings.fake_client:
    signin.setup_panel()
    st.stop()

moved = links.page_moved()  # before any widget, and before session_runtime() mints a token
signin.sign_in_gate(settings)
# The runtime, or the max_sessions message, then stop.
runtime = st_utils.page_runtime(settings, connected=streamlit_internals.browser_connected())
# The session's branch (picker, or a link's &branch=, as the operator allows): from here on
# the page's settings carry it, so descriptions, schema and completions are that branch's.
settings, branch_problem = branch_and_globals.session_settings(runtime, settings)
ready = settings  # narrowed: a ConsoleSettings from here on (closures keep the narrow type)
if runtime.ensure_loop() or st.session_state.pop("loop_notice", False):
    st.warning(st_utils.LOOP_NOTICE, icon="🔁")
prefs = st_utils.user_prefs(settings)
# This user's history and saved queries kept in the browser (None: it keeps none).
memory = browser_memory.session_memory(settings, runtime.book.newest_first())
# A submission is queued before anything is drawn: its queries run while the page draws.
submitted = form.submit_requested(runtime, ready, prefs)

with st.sidebar:
    sidebar.draw_sidebar(settings, runtime)

st.title("Gel query console")
if moved:
    st.info(links.MOVED_NOTICE, icon="🔀")
link = links.load_shared_link(settings)
if link.loaded:
    st.info("Loaded a shared query into the form. Check it, then press Run.", icon="🔗")
if link.problem:
    st.warning(link.problem, icon="🔗")
if branch_problem:
    st.warning(escape_markdown(branch_problem), icon="🔗")
tab_count = int(st.session_state.get("tab_count", 1))
form.query_form(
    tab_count, inputs_for=lambda text: descriptions.typed_inputs_for(runtime, text, ready),
    max_query_chars=settings.max_query_chars,
    completion=schema_explorer.schema_for_completion(runtime, settings),
)
if submitted is None:  # a page that moved here submits once its form is drawn
    submitted = form.submit_requested(runtime, ready, prefs, form_drawn=True)
descriptions.follow_descriptions(ready)
errors = st.session_state.pop("action_errors", [])  # from a button callback
if submitted is not None:
    errors = submitted
for view in errors:
    st_comps.render_error(view)
if st.session_state.pop("loop_notice", False):
    st.warning(st_utils.LOOP_NOTICE, icon="🔁")

# Results go here; the rest of the page is drawn before this run streams them in as they
# finish (one script run per submission).
live = results.draw_results(runtime, prefs, settings.stream_window_s)
# Panels that list runs were drawn before the streamed runs ended: they redraw in place.
schema_note = schema_explorer.schema_explorer(runtime, settings)
data_explorer.data_explorer_panel(runtime, settings, prefs)
stale = [schema_note, history.history_panel(runtime, memory)]
saved_queries.saved_queries_panel(settings, memory)
sidebar.resources(runtime)
links.rerun_on_reconnect()
if results.stream_results(live, runtime, prefs):
    for redraw in filter(None, stale):
        redraw()
if memory is not None:  # last: runs that finished while this run streamed are kept too
    browser_memory.record_finished(memory, runtime.book.newest_first())
    browser_memory.mount(memory)
