"""A test page for the browser memory component alone (tests/test_browser_memory_component.py):
the real component and glue (st_page/browser_memory.py) without the console around them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run` adds tests/

import streamlit as st

from ecc.library.entries import HistoryEntry, new_id
from ecc.settings.config import ConsoleSettings
from st_page import browser_memory

settings = ConsoleSettings(fake_client=True, browser_history_size=3)
memory = browser_memory.session_memory(settings)
assert memory is not None
query = st.text_input("query", key="probe_query")
if st.button("Record", key="probe_record") and query:
    memory.record(HistoryEntry(id=new_id(), query=query, when=time.time()))
if st.button("Forget", key="probe_forget"):
    memory.forget_history()
st.text("loaded: " + ("yes" if memory.loaded else "no"))
# Pending first: once the history names a new query, the pending count of that run is drawn.
st.text("pending: " + str(len(memory.component_data()["cmds"])))
st.text("history: " + json.dumps([e.query for e in memory.history]))
st.text("notice: " + (memory.report.notice() or "none"))
st.text("error: " + (browser_memory.storage_error() or "none"))
browser_memory.mount(memory)
