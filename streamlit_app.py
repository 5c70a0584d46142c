"""ECC: a multi-session query console for Gel (EdgeDB). This page only wires parts together."""

from __future__ import annotations

import streamlit as st

import st_comps
import st_live
import st_utils

st.set_page_config(page_title="Gel query console", page_icon="🔎", layout="wide")

settings = st_utils.read_settings()
if isinstance(settings, st_utils.SettingsProblem):
    st_comps.setup_panel(settings.message)
    st.stop()
if not settings.connection.configured and not settings.fake_client:
    st_comps.setup_panel()
    st.stop()

st_utils.sign_in_gate(settings)
ready = settings  # narrowed: a ConsoleSettings from here on (closures keep the narrow type)
runtime = st_utils.session_runtime(settings)
if runtime.ensure_loop() or st.session_state.pop("loop_notice", False):
    st.warning(st_utils.LOOP_NOTICE, icon="🔁")
prefs = st_utils.user_prefs(settings)

with st.sidebar:
    st_utils.sidebar(settings, runtime)

st.title("Gel query console")
if st_utils.load_shared_link():
    st.info("Loaded a shared query into the form. Check it, then press Run.", icon="🔗")
tab_count = int(st.session_state.get("tab_count", 1))
content = st_comps.query_form(
    tab_count, inputs_for=lambda text: st_utils.typed_inputs_for(runtime, text, ready)
)
if content is not None:
    for view in st_utils.submit_form(runtime, content, settings, prefs):
        st_comps.render_error(view)
    if st.session_state.pop("loop_notice", False):
        st.warning(st_utils.LOOP_NOTICE, icon="🔁")

# Results go here; the rest of the page is drawn before this run streams them in as they
# finish (one script run per submission).
live = st_live.draw(runtime, prefs, settings.stream_window_s)
st_utils.history_and_resources(runtime)
st_live.stream(live, runtime, prefs)
