"""Results on the page: one slot per shown run, the running list with its Cancel buttons,
both streamed into the page run as queries finish (then polled by a fragment)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import st_comps
from ecc.running.runs import RunRecord
from ecc.running.sessions import SessionRuntime
from st_comps import STATUS_ICONS, format_elapsed
from st_data_structures import UserPrefs

# Results on the page as each query finishes, in the page run that is already going.
#
# A page run that finds queries of its session queued or running draws their slots where the
# results belong (``draw_results``), draws the rest of the page, and at its end
# (``stream_results``) sleeps on the run book's condition: each record is drawn into its slot
# once, when it finishes, and the running list's elapsed times are redrawn every ``TICK_S``.
# So a submission costs one script run and nothing finished is ever rebuilt or re-sent while
# its siblings run. Each ``st.*`` call is a point where Streamlit stops the run for a newer
# one: a click (Cancel, any widget) gets its rerun within a tick.
#
# A run streams at most ``stream_window_s`` (a setting). What still runs after that is handed
# to a fragment that polls every ``POLL_S`` (one whole-page rerun starts it, one ends it); with
# ``stream_window_s = 0`` that fragment is used from the start (AppTest's ``at.run()`` returns
# only when the script ends, so tests of the running list use it). Both draw through
# ``_draw_live``: one drawing of the running list and the result slots.

TICK_S = 0.25  # running elapsed times are redrawn this often while a run streams
POLL_S = 0.5  # the fallback fragment's interval
POLL_KEY = "live_poll"  # set: this session's running queries are left to the fragment


@dataclass
class LiveResults:
    """What ``draw`` left for ``stream``: the slots of everything still active."""

    version: int  # the run book's version the drawing started from
    window_s: float
    running_box: DeltaGenerator | None = None  # the whole running list
    rows: RunningRows | None = None
    pending: dict[int, DeltaGenerator] = field(default_factory=dict)  # run id -> result slot
    statuses: dict[int, str] = field(default_factory=dict)  # as last drawn in ``pending``
    line_statuses: dict[int, str] = field(default_factory=dict)  # as last drawn in ``rows``
    still: int = 0  # active runs in the running list, as last drawn
    ticked_at: float = 0.0

    @property
    def active(self) -> bool:
        return self.rows is not None or bool(self.pending)


def cancel_runs(runtime: SessionRuntime, run_ids: list[int] | None) -> None:
    """Button callback: cancel some or all of this session's runs."""
    count = runtime.cancel(run_ids)
    st.session_state["cancel_notice"] = (
        f"Asked {count} quer{'y' if count == 1 else 'ies'} to stop." if count else
        "Nothing to cancel: the query had already finished."
    )


def shown_records(runtime: SessionRuntime) -> list[RunRecord]:
    """The run chosen in the history, else the last submission's runs."""
    run_id = st.session_state.get("shown_run")
    if run_id is not None:
        record = runtime.book.get(int(run_id))
        if record is not None:
            return [record]
    batch_id = st.session_state.get("shown_batch")
    return runtime.book.batch(int(batch_id)) if batch_id is not None else []


def draw_results(runtime: SessionRuntime, prefs: UserPrefs, window_s: float) -> LiveResults:
    """The running list and the shown results as they are now, for ``stream_results`` to
    keep up to date; or, when this session's runs are left to polling (``window_s`` 0, or a
    stream whose window ended), the polling fragment drawing the same."""
    st_comps.keep_result_caches(runtime.book.newest_first())
    if window_s <= 0 or st.session_state.get(POLL_KEY):
        _polling_results(runtime, prefs)
        return LiveResults(version=0, window_s=0)
    return _draw_live(runtime, prefs, window_s)


def _draw_live(runtime: SessionRuntime, prefs: UserPrefs, window_s: float) -> LiveResults:
    """The one drawing of the running list and the shown results (streamed or polled): each
    active one in a slot ``_redraw`` can fill again; finished ones are final."""
    now = time.monotonic()
    live = LiveResults(version=runtime.book.version,  # read before the records it describes
                       window_s=window_s, ticked_at=now)
    notice = st.session_state.pop("cancel_notice", None)
    if notice:
        st.info(notice, icon="🚫")
    active = runtime.book.active()
    if active:
        live.running_box = st.empty()
        with live.running_box.container():
            live.rows = running_rows(active, now, functools.partial(cancel_runs, runtime))
        live.line_statuses = {r.run_id: r.status for r in active}
        live.still = len(active)
    shown = shown_records(runtime)
    if shown:
        st.subheader("Results")
        for record in shown:
            with st.container(border=True):
                if record.active:
                    live.pending[record.run_id] = slot = st.empty()
                    live.statuses[record.run_id] = record.status
                    with slot.container():
                        st_comps.render_record(record, prefs, now)
                else:
                    st_comps.render_record(record, prefs, now)
    return live


def stream_results(live: LiveResults, runtime: SessionRuntime, prefs: UserPrefs) -> bool:
    """At the end of the page run: draw each record once as it finishes, until nothing runs
    or the window is over (then the fallback fragment takes over, after one rerun).
    True when runs finished while this run streamed (what was drawn above them is older)."""
    if not live.active:
        return False
    deadline = time.monotonic() + live.window_s
    version = live.version
    while True:
        now = time.monotonic()
        _redraw(live, runtime, prefs, now)
        if not live.active:
            return True
        if now >= deadline:
            break
        version = runtime.book.wait_for_change(version, min(TICK_S, deadline - now))
    st.session_state[POLL_KEY] = True
    st.rerun()


def _redraw(live: LiveResults, runtime: SessionRuntime, prefs: UserPrefs, now: float) -> None:
    """Draw what changed: a finished record into its slot (once); running lines when their
    status changed, and all of them once per tick (their elapsed times)."""
    book = runtime.book
    tick = now - live.ticked_at >= TICK_S * 0.9
    if tick:
        live.ticked_at = now
    for run_id, slot in list(live.pending.items()):
        record = book.get(run_id)
        if record is None:
            del live.pending[run_id]
            slot.empty()
            continue
        if not record.active:
            del live.pending[run_id]  # drawn now for the last time in this run
        elif not tick and live.statuses.get(run_id) == record.status:
            continue
        live.statuses[run_id] = record.status
        with slot.container():
            st_comps.render_record(record, prefs, now)
    if live.rows is None or live.running_box is None:
        return
    still = 0
    for run_id, line in live.rows.lines.items():
        record = book.get(run_id)
        if record is None:
            continue
        still += record.active
        if tick or live.line_statuses.get(run_id) != record.status:
            live.line_statuses[run_id] = record.status
            line.markdown(running_line(record, now))
    if not still:
        live.running_box.empty()
        live.rows = None
    elif tick or still != live.still:
        live.rows.header.subheader(f"Running ({still})")
    live.still = still


def _polling_results(runtime: SessionRuntime, prefs: UserPrefs) -> None:
    """The fallback: a fragment draws the results and the running list (``_draw_live``)
    every ``POLL_S`` while anything runs (never a whole-page rerun loop); one whole-page
    rerun ends it."""
    polling = bool(runtime.book.active())

    @st.fragment(run_every=POLL_S if polling else None)
    def _results() -> None:
        live = _draw_live(runtime, prefs, window_s=0)
        if not live.still:
            st.session_state.pop(POLL_KEY, None)
            if polling:
                st.rerun(scope="app")  # everything finished: refresh history, stop polling

    _results()


def running_line(record: RunRecord, now: float) -> str:
    """One run's line in the running list (its name, run id, status and elapsed time)."""
    elapsed = record.elapsed_s(now)
    waited = now - record.submitted_at
    timing = format_elapsed(elapsed) if elapsed is not None else \
        f"queued {format_elapsed(waited)}"
    return (f"{STATUS_ICONS[record.status]} **{record.request.name}** "
            f"(run {record.run_id}) · {record.status} · {timing}")


@dataclass
class RunningRows:
    """The running list's slots, for a page run that refreshes them while it streams."""

    header: DeltaGenerator
    lines: dict[int, DeltaGenerator]  # run id -> its line


def running_rows(active: list[RunRecord], now: float,
                 on_cancel: Callable[[list[int] | None], None]) -> RunningRows:
    """The running list, each heading and line in a slot that can be redrawn in place."""
    header = st.empty()
    header.subheader(f"Running ({len(active)})")
    lines: dict[int, DeltaGenerator] = {}
    for record in active:
        c1, c2 = st.columns([6, 1])
        lines[record.run_id] = c1.empty()
        lines[record.run_id].markdown(running_line(record, now))
        c2.button("Cancel", key=f"cancel_{record.run_id}", on_click=on_cancel,
                  args=([record.run_id],))
    if len(active) > 1:
        st.button("Cancel all", key="cancel_all", on_click=on_cancel, args=(None,))
    return RunningRows(header, lines)
