"""The history panel: this session's runs, newest first; load one into the form, run it
again, show it, clear the history, download it as JSON. Below them, the history this browser
keeps across reloads and sessions (``st_page.browser_memory``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import streamlit as st

from ecc.arguments.drafts import (
    DraftLimits,
    argument_size_error,
    build_request,
    request_argument_sizes,
)
from ecc.driver.errors import ConsoleInputError
from ecc.library.browser import BrowserMemory
from ecc.library.entries import HistoryEntry, Loadable, SavedQuery, draft_of
from ecc.running.runs import RunBook, RunPhases, RunRecord
from ecc.running.sessions import SessionLimitError, SessionRuntime
from st_page import browser_memory, streamlit_internals
from st_page.branch_and_globals import switch_to_recorded
from st_page.form import queue_runs
from st_utils import SettingsProblem, read_settings, session_runtime, user_prefs


def history_panel(runtime: SessionRuntime, memory: BrowserMemory | None = None
                  ) -> Callable[[], None] | None:
    """The history, drawn only when opened (a toggle, not an expander: an expander's content
    is built on every rerun even when collapsed): this session's runs (results, timings),
    then what this browser keeps of every session's runs (``memory``: search, load, run
    again, forget). When open, returns what redraws the session's table in place: the page
    calls it when runs it streamed finished after the table was drawn."""
    records = runtime.book.newest_first()
    if not st.toggle(history_label(len(records), memory), key="show_history"):
        return None
    with st.container(border=True):
        redraw = _history(runtime, records)
        if memory is not None:
            st.markdown("**Kept in this browser**")
            browser_memory.history_panel(memory, load=load_kept, run=run_kept)
        return redraw


def history_label(session_runs: int, memory: BrowserMemory | None) -> str:
    """The toggle's label: this session's runs, and the runs this browser keeps when it keeps
    any (after a reload the session has none while the browser still holds earlier ones).
    Cheap: two counts, nothing built."""
    label = f"History ({session_runs:,})"
    kept = memory.history_count if memory is not None else 0
    return f"{label} · {kept:,} kept in this browser" if kept else label


def _history(runtime: SessionRuntime, records: list[RunRecord]) -> Callable[[], None] | None:
    if not records:
        st.caption("Runs of this session appear here, newest first (the last 100 are kept).")
        return None
    table = st.empty()  # one slot: the table can be drawn again, with newer statuses
    with table.container():
        history_table(records)

    def redraw_table() -> None:
        with table.container():
            history_table(runtime.book.newest_first()[:len(records)])

    ids = [r.run_id for r in records]
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
    c1.selectbox("Run", ids, key="history_run", format_func=lambda i: f"run {i}")
    # Callbacks read the chosen run when clicked: args bound at render time would carry the
    # choice of the previous run of the page.
    c2.button("Load into form", key="history_load", on_click=load_into_form)
    c3.button("Run again", key="history_rerun", on_click=run_again)
    c4.button("Show", key="history_show", on_click=_show_run)
    c5.button("Clear", key="history_clear", on_click=_clear_history)
    st.download_button("Download history (JSON)",
                       data=lambda: history_json(runtime.book.newest_first()),
                       file_name="history.json", mime="application/json",
                       on_click="ignore", key="history_download")
    return redraw_table


def _clear_history() -> None:
    book = st.session_state.get("run_book")
    if isinstance(book, RunBook):
        book.clear()
    st.session_state.pop("shown_run", None)


def _chosen_run() -> int | None:
    chosen = st.session_state.get("history_run")
    return int(chosen) if chosen is not None else None


def _show_run() -> None:
    st.session_state["shown_run"] = _chosen_run()


def load_into_form() -> None:
    run_id = _chosen_run()
    book = st.session_state.get("run_book")
    record = book.get(run_id) if isinstance(book, RunBook) and run_id is not None else None
    settings = read_settings()
    if record is None or isinstance(settings, SettingsProblem):
        return
    # On the run's branch when the operator still allows it; else loaded, and the page says so.
    not_allowed = switch_to_recorded(_request_branch(record), settings, loading=True)
    st.session_state["action_errors"] = [not_allowed] if not_allowed is not None else []
    fill_form(record.request)


def _request_branch(record: RunRecord) -> str:
    """The branch a session's run was on, by name ("": the connection's unnamed default)."""
    return record.request.branch_shown or record.request.branch or ""


def _kept_branch(kept: Loadable) -> str:
    """The branch a kept query was recorded on ("": none; a team query has none)."""
    return kept.branch if isinstance(kept, HistoryEntry | SavedQuery) else ""


def fill_form(request: Loadable) -> None:
    """Put a query back into the first tab (editor text, arguments, method): a run's request,
    or a query the browser keeps (history, saved) or the team's library holds."""
    state = st.session_state
    state["tab_count"] = 1
    state["q_mode_0"] = "text"  # the request's arguments are kept as argument-language text
    state["q_text_0"] = request.query
    state["q_args_0"] = request.args_text
    state["q_kwargs_0"] = request.kwargs_text
    state["q_json_0"] = request.method.returns_json
    state["q_card_0"] = request.method.cardinality.value  # a key of CARDINALITY_LABELS


def run_again() -> None:
    run_id = _chosen_run()
    settings = read_settings()
    if run_id is None or isinstance(settings, SettingsProblem):
        return
    try:
        runtime = session_runtime(settings,
                                  connected=streamlit_internals.browser_connected())
    except SessionLimitError as refused:
        st.session_state["action_errors"] = [refused.view]
        return
    record = runtime.book.get(run_id)
    if record is None:
        return
    not_allowed = switch_to_recorded(_request_branch(record), settings, loading=False)
    if not_allowed is not None:  # never on another branch than the one it ran on
        st.session_state["action_errors"] = [not_allowed]
        return
    fill_form(record.request)  # the editor shows what runs again
    too_large = argument_size_error(record.request.name, request_argument_sizes(record.request),
                                    settings.max_args_chars)
    if too_large is not None:  # kept under a larger limit, say, before a settings change
        st.session_state["action_errors"] = [too_large]
        return
    # Shown by the page in the run this callback precedes (a callback cannot draw).
    st.session_state["action_errors"] = queue_runs(
        runtime, [record.request], settings, user_prefs(settings)
    )


def load_kept(kept: Loadable) -> None:
    """Load a kept query (history, saved, team) into the form, on the branch it was recorded
    on when the operator still allows it (else the page says so)."""
    settings = read_settings()
    if isinstance(settings, SettingsProblem):
        return
    not_allowed = switch_to_recorded(_kept_branch(kept), settings, loading=True)
    st.session_state["action_errors"] = [not_allowed] if not_allowed is not None else []
    fill_form(kept)


def run_kept(kept: Loadable) -> None:
    """Load a kept query (history, saved, team) into the form and run it, through the same
    checks as typed text (its arguments are argument-language text, parsed here), on the
    branch it was recorded on; nothing runs when the operator no longer allows that branch."""
    settings = read_settings()
    if isinstance(settings, SettingsProblem):
        return
    not_allowed = switch_to_recorded(_kept_branch(kept), settings, loading=False)
    if not_allowed is not None:
        st.session_state["action_errors"] = [not_allowed]
        return
    fill_form(kept)  # the editor shows what runs
    try:
        runtime = session_runtime(settings,
                                  connected=streamlit_internals.browser_connected())
        request = build_request(draft_of(kept, "Query 1"),
                                DraftLimits.from_settings(settings))
    except SessionLimitError as refused:
        st.session_state["action_errors"] = [refused.view]
        return
    except ConsoleInputError as refused:
        st.session_state["action_errors"] = [refused.view.scrubbed(settings.secret_values)]
        return
    st.session_state["action_errors"] = queue_runs(runtime, [request], settings,
                                                   user_prefs(settings))


def history_table(records: list[RunRecord]) -> None:
    rows = {
        "run": [r.run_id for r in records],
        "status": [r.status for r in records],
        "query": [r.request.query[:200] for r in records],
        "arguments": [_args_summary(r) for r in records],
        "method": [r.request.method.value for r in records],
        "branch": [r.request.branch_shown for r in records],
        "globals": [r.request.globals_text for r in records],
        "elapsed ms": [
            round((r.elapsed_s() or 0) * 1000, 1) if not r.active else None for r in records
        ],
        "rows": [r.rows for r in records],
        "submitted": [time.strftime("%H:%M:%S", time.localtime(r.submitted_wall))
                      for r in records],
        **{f"{label} ms": [_phase_ms(r.phases, name) for r in records]
           for name, label in RunPhases.LABELS},
    }
    st.dataframe(rows, hide_index=True)


def _args_summary(record: RunRecord) -> str:
    request = record.request
    return "; ".join(t for t in (request.args_text.strip(), request.kwargs_text.strip()) if t)


def history_json(records: list[RunRecord]) -> str:
    return json.dumps(
        [
            {
                "run": r.run_id,
                "status": r.status,
                "query": r.request.query,
                "positional_arguments": r.request.args_text,
                "named_arguments": r.request.kwargs_text,
                "method": r.request.method.value,
                "branch": r.request.branch_shown or None,
                "globals": r.request.globals_text or None,
                "elapsed_s": r.elapsed_s(),
                "rows": r.rows,
                "submitted": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                           time.localtime(r.submitted_wall)),
                "error": r.error.message if r.error else None,
                "phases_s": dict(r.phases.items()),
            }
            for r in records
        ],
        indent=2,
    )


def _phase_ms(phases: RunPhases, name: str) -> float | None:
    value: float | None = getattr(phases, name)
    return None if value is None else round(value * 1000, 1)
