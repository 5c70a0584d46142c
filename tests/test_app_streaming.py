"""One script run per submission: the page run streams results in as queries finish."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

import st_comps
import st_utils
from ecc.driver.client import QueryMethod
from ecc.driver.execute import QueryRequest
from ecc.running.runs import RunBook
from st_page import results
from tests.apptest_support import FakeFactory, console, run_query, texts, wait_until
from tests.conftest import kill_loop

pytestmark = pytest.mark.usefixtures("clean_driver_env")


def only_runtime() -> st_utils.SessionRuntime:
    (runtime,) = st_utils.session_registry()._runtimes.values()
    return runtime


# --- the setting ------------------------------------------------------------------------------
def test_the_stream_window_is_a_bounded_setting() -> None:
    from ecc.settings.config import SettingsError, load_settings

    assert load_settings({}, {}).stream_window_s == 30.0
    assert load_settings({"stream_window_s": 0}, {}).stream_window_s == 0.0
    with pytest.raises(SettingsError, match="stream_window_s"):
        load_settings({"stream_window_s": -1}, {})


# --- the run book's condition -----------------------------------------------------------------
def book_with_one_run() -> tuple[RunBook, int]:
    book = RunBook()
    (record,) = book.add_batch([QueryRequest(name="Query 1", query="select 1",
                                             method=QueryMethod.QUERY)])
    return book, record.run_id


def test_wait_for_change_returns_at_once_when_the_book_moved_on() -> None:
    book, _ = book_with_one_run()
    started = time.monotonic()
    assert book.wait_for_change(book.version - 1, timeout=5) == book.version
    assert time.monotonic() - started < 1


def test_wait_for_change_times_out_with_the_same_version_when_nothing_happens() -> None:
    book, _ = book_with_one_run()
    version = book.version
    started = time.monotonic()
    assert book.wait_for_change(version, timeout=0.1) == version
    assert time.monotonic() - started >= 0.09


def test_wait_for_change_wakes_when_another_thread_finishes_a_run() -> None:
    book, run_id = book_with_one_run()
    version = book.version
    finisher = threading.Timer(0.05, lambda: book.finish(run_id, "done"))
    finisher.start()
    started = time.monotonic()
    assert book.wait_for_change(version, timeout=5) > version
    assert time.monotonic() - started < 1  # woken, not timed out
    finished = book.get(run_id)
    assert finished is not None and finished.status == "done"
    finisher.join()


@pytest.mark.parametrize("write", ["mark_running", "clear"])
def test_every_write_bumps_the_version(write: str) -> None:
    book, run_id = book_with_one_run()
    version = book.version
    book.mark_running(run_id) if write == "mark_running" else book.clear()
    assert book.version > version


# --- the page ---------------------------------------------------------------------------------
def test_a_query_slower_than_the_old_inline_wait_shows_in_the_submitting_run() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, "select sys::_sleep(0.7)")
        assert not at.exception
        assert "✅" in texts(at)
        assert len(at.dataframe[0].value) == 1
        assert "Running (1)" not in [h.value for h in at.subheader]  # the list is gone
        assert not only_runtime().busy
        assert results.POLL_KEY not in at.session_state


def test_each_finished_result_is_drawn_once_while_its_siblings_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: Counter[tuple[int, str]] = Counter()
    real = st_comps.render_record

    def counting(record: Any, prefs: Any, now: float) -> None:
        drawn[(record.run_id, record.status)] += 1
        real(record, prefs, now)

    monkeypatch.setattr(st_comps, "render_record", counting)
    with console(FakeFactory()) as at:
        at.session_state["tab_count"] = 3
        at.run()
        for tab, seconds in enumerate((0.1, 0.4, 0.8)):
            at.session_state[f"q_text_{tab}"] = f"select sys::_sleep({seconds})"
        at.run()
        drawn.clear()
        next(b for b in at.button if b.label == "Run").click().run()
        assert not at.exception
        done = {run_id: n for (run_id, status), n in drawn.items() if status == "done"}
        assert sorted(done.values()) == [1, 1, 1], drawn
        assert len(at.dataframe) == 3
        # While the slower ones ran, their running lines were redrawn (elapsed time), and
        # the first result was not: only "done" counts above, and it is one each.
        assert sum(n for (_, status), n in drawn.items() if status != "done") >= 3


def test_the_stream_is_bounded_then_a_polling_fragment_takes_over() -> None:
    with console(FakeFactory(), stream_window_s=0.3) as at:
        at.run()
        started = time.monotonic()
        run_query(at, "select sys::_sleep(2)")
        assert time.monotonic() - started < 1.8, "the run outlived its streaming window"
        assert not at.exception
        assert at.session_state[results.POLL_KEY] is True
        assert "Running (1)" in [h.value for h in at.subheader]
        wait_until(lambda: not only_runtime().busy, timeout=5)
        at.run()
        assert "✅" in texts(at)
        assert results.POLL_KEY not in at.session_state  # polling ends with the queries


def test_a_new_submission_streams_again_after_a_fallback() -> None:
    with console(FakeFactory(), stream_window_s=0.2) as at:
        at.run()
        run_query(at, "select sys::_sleep(0.6)")
        assert at.session_state[results.POLL_KEY] is True
        wait_until(lambda: not only_runtime().busy, timeout=5)
        run_query(at, "select sys::_sleep(0.1)")
        assert results.POLL_KEY not in at.session_state
        assert "✅" in texts(at)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_run_again_streams_its_result_and_reports_a_restarted_loop() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, "select 5")
        at.toggle(key="show_history").set_value(True).run()
        runtime = only_runtime()
        kill_loop(runtime)
        at.selectbox(key="history_run").set_value(1)
        at.button(key="history_rerun").click().run()
        assert not at.exception
        assert any("event loop had stopped" in w.value for w in at.warning)
        newest = runtime.book.newest_first()[0]
        assert newest.request.query == "select 5" and newest.status == "done"
        assert "✅" in texts(at)


def test_an_open_history_shows_the_streamed_runs_finished() -> None:
    """History is drawn before the run streams; with it open, the run reruns once at the end
    so the history shows the finished run, not "running"."""
    with console(FakeFactory()) as at:
        at.run()
        at.toggle(key="show_history").set_value(True).run()
        run_query(at, "select sys::_sleep(0.3)")
        assert not at.exception
        # Drawn before the run finished: the browser keeps it from the end of that page run.
        assert at.toggle(key="show_history").label == "History (1)"
        [history] = [df for df in at.dataframe if "status" in df.value.columns]
        assert list(history.value["status"]) == ["done"]
        at.run()  # the rerun the browser's acknowledgement brings
        assert at.toggle(key="show_history").label == "History (1) · 1 kept in this browser"
