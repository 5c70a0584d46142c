"""ECC: a multi-session query console for Gel (EdgeDB). This page only wires parts together."""

from __future__ import annotations

import streamlit as st

import st_comps
import st_utils

st.set_page_config(page_title="Gel query console", page_icon="🔎", layout="wide")

settings = st_utils.read_settings()
if isinstance(settings, st_utils.SettingsProblem):
    st_comps.setup_panel(settings.message)
    st.stop()
if not settings.connection.configured and not settings.fake_client:
    st_comps.setup_panel()
    st.stop()

moved = st_utils.page_moved()  # before any widget, and before session_runtime() mints a token
st_utils.sign_in_gate(settings)
ready = settings  # narrowed: a ConsoleSettings from here on (closures keep the narrow type)
runtime = st_utils.page_runtime(settings)  # or the max_sessions message, then stop
if runtime.ensure_loop() or st.session_state.pop("loop_notice", False):
    st.warning(st_utils.LOOP_NOTICE, icon="🔁")
prefs = st_utils.user_prefs(settings)
# A submission is queued before anything is drawn: its queries run while the page draws.
submitted = st_utils.submit_requested(runtime, ready, prefs)

with st.sidebar:
    st_utils.sidebar(settings, runtime)

st.title("Gel query console")
if moved:
    st.info(st_utils.MOVED_NOTICE, icon="🔀")
link = st_utils.load_shared_link(settings)
if link.loaded:
    st.info("Loaded a shared query into the form. Check it, then press Run.", icon="🔗")
if link.problem:
    st.warning(link.problem, icon="🔗")
tab_count = int(st.session_state.get("tab_count", 1))
st_comps.query_form(
    tab_count, inputs_for=lambda text: st_utils.typed_inputs_for(runtime, text, ready),
    max_query_chars=settings.max_query_chars,
    completion=st_utils.schema_for_completion(runtime, settings),
)
if submitted is None:  # a page that moved here submits once its form is drawn
    submitted = st_utils.submit_requested(runtime, ready, prefs, form_drawn=True)
st_utils.follow_descriptions(ready)
errors = st.session_state.pop("action_errors", [])  # from a button callback
if submitted is not None:
    errors = submitted
for view in errors:
    st_comps.render_error(view)
if st.session_state.pop("loop_notice", False):
    st.warning(st_utils.LOOP_NOTICE, icon="🔁")

# Results go here; the rest of the page is drawn before this run streams them in as they
# finish (one script run per submission).
live = st_utils.draw_results(runtime, prefs, settings.stream_window_s)
# Panels that list runs were drawn before the streamed runs ended: they redraw in place.
stale = [st_utils.schema_explorer(runtime, settings), st_utils.history_and_resources(runtime)]
st_utils.rerun_on_reconnect()
if st_utils.stream_results(live, runtime, prefs):
    for redraw in filter(None, stale):
        redraw()
