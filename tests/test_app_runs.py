"""Queries that run while you work: live status, cancel, history, loop recovery (AppTest)."""

from __future__ import annotations

import pytest

import st_utils
from st_page import streamlit_internals
from tests.apptest_support import (
    FakeFactory,
    console,
    editor_data,
    run_query,
    shown,
    texts,
    wait_until,
)
from tests.conftest import kill_loop

pytestmark = pytest.mark.usefixtures("clean_driver_env")


def only_runtime() -> st_utils.SessionRuntime:
    (runtime,) = st_utils.session_registry()._runtimes.values()
    return runtime


# The running list is what a page run draws before it streams; AppTest's ``at.run()`` returns
# only when the script ends, so these tests look at it with streaming off (the polling
# fragment's path). Streaming itself: tests/test_app_streaming.py.
POLL = {"stream_window_s": 0}


def test_a_slow_query_returns_at_once_and_shows_as_running() -> None:
    with console(FakeFactory(), **POLL) as at:
        at.run()
        run_query(at, "select sys::_sleep(3)")
        assert not at.exception
        assert at.subheader[0].value == "Running (1)"
        assert "running" in texts(at)
        only_runtime().cancel()


def test_the_result_appears_when_the_query_finishes() -> None:
    with console(FakeFactory(), **POLL) as at:
        at.run()
        run_query(at, "select sys::_sleep(0.7)")
        assert "Running (1)" in [h.value for h in at.subheader]
        wait_until(lambda: not only_runtime().busy, timeout=5)
        at.run()
        assert "Running (1)" not in [h.value for h in at.subheader]
        assert "✅" in texts(at)


def test_cancel_stops_the_query_and_says_so() -> None:
    factory = FakeFactory()
    with console(factory, **POLL) as at:
        at.run()
        run_query(at, "select sys::_sleep(30)")
        run_id = only_runtime().book.active()[0].run_id
        at.button(key=f"cancel_{run_id}").click().run()
        wait_until(lambda: not only_runtime().busy, timeout=5)
        at.run()
        record = only_runtime().book.get(run_id)
        assert record is not None and record.status == "cancelled"
        assert "cancelled" in texts(at)
        assert factory.built[0].stats.in_flight == 0
        run_query(at, "select Movie {title}")
        wait_until(lambda: not only_runtime().busy, timeout=5)
        at.run()
        assert len(at.dataframe[0].value) == 10  # the pool is healthy after the cancel


def test_queries_beyond_the_limit_wait_visibly_queued() -> None:
    with console(FakeFactory(), max_running=1, **POLL) as at:
        at.session_state["tab_count"] = 3
        at.run()
        for tab in range(3):
            at.session_state[f"q_text_{tab}"] = "select sys::_sleep(30)"
        next(b for b in at.button if b.label == "Run").click().run()
        wait_until(lambda: any(r.status == "running" for r in only_runtime().book.active()))
        at.run()
        statuses = sorted(r.status for r in only_runtime().book.active())
        assert statuses == ["queued", "queued", "running"]
        assert texts(at).count("queued") >= 2
        at.button(key="cancel_all").click().run()
        wait_until(lambda: not only_runtime().busy, timeout=5)


def test_history_lists_runs_newest_first_and_loads_one_back_into_the_form() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, "select 1")
        run_query(at, "select Movie {title}")
        at.toggle(key="show_history").set_value(True).run()
        history = at.dataframe[-1].value
        assert list(history["query"])[:2] == ["select Movie {title}", "select 1"]
        at.selectbox(key="history_run").set_value(1)
        at.button(key="history_load").click().run()
        assert editor_data(at)["text"] == "select 1"


def test_run_again_repeats_a_run_from_history() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 5")
        at.toggle(key="show_history").set_value(True).run()
        at.selectbox(key="history_run").set_value(1)
        at.button(key="history_rerun").click().run()
        assert [c[1] for c in factory.calls] == ["select 5", "select 5"]
        assert len(only_runtime().book) == 2


def test_clear_history_forgets_finished_runs() -> None:
    with console(FakeFactory()) as at:
        at.run()
        run_query(at, "select 1")
        at.toggle(key="show_history").set_value(True).run()
        at.button(key="history_clear").click().run()
        assert len(only_runtime().book) == 0
        # Clearing the session's history leaves what the browser keeps (Forget removes that).
        assert at.toggle(key="show_history").label == "History (0) · 1 kept in this browser"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_loop_is_noticed_replaced_and_its_query_reported_failed() -> None:
    with console(FakeFactory(), **POLL) as at:
        at.run()
        run_query(at, "select sys::_sleep(30)")
        runtime = only_runtime()
        kill_loop(runtime)
        at.run()
        assert not at.exception
        assert any("event loop had stopped" in w.value for w in at.warning)
        assert runtime.loop_restarts == 1
        failed = runtime.book.newest_first()[0]
        assert failed.status == "failed"
        run_query(at, "select Movie {title}")
        wait_until(lambda: not runtime.busy, timeout=5)
        at.run()
        assert len(at.dataframe[0].value) == 10


def test_read_only_mode_refuses_an_insert_before_sending_it() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "insert Person {name := 'x'}")
        assert "read-only" in shown(at.error[0].value)
        assert "modifies data" in shown(at.error[0].value)
        assert factory.calls == []


def test_writes_run_when_read_only_is_off() -> None:
    factory = FakeFactory(responder={"insert Person {name := 'x'}": []})
    with console(factory, read_only=False) as at:
        at.run()
        run_query(at, "insert Person {name := 'x'}")
        assert not at.error
        assert factory.calls[-1][1] == "insert Person {name := 'x'}"


@pytest.mark.parametrize("how", ["button", "ctrl_enter", "analyze"])
def test_a_submission_is_queued_before_the_form_is_drawn(
        how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    from ecc.editor import sync as editor_sync
    from st_page import form

    queued_when_drawn: list[int] = []
    draw = form.query_form

    def spy(*args: object, **kwargs: object) -> None:
        book = st.session_state.get("run_book")
        queued_when_drawn.append(len(book) if book is not None else 0)
        draw(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(form, "query_form", spy)
    factory = FakeFactory()
    with console(factory) as at:
        at.session_state["tab_count"] = 3
        for tab in range(3):
            at.session_state[f"q_text_{tab}"] = f"select {tab}"
        at.run()
        if how == "ctrl_enter":
            at.session_state[editor_sync.RUN_REQUEST_KEY] = True
            at.run()
        else:
            label = "Run" if how == "button" else "Analyze"
            next(b for b in at.button if b.label == label).click().run()
        assert not at.exception
        assert queued_when_drawn[-1] == 3  # the batch was on its way before the form drew
        assert len(at.session_state["run_book"]) == 3  # and only once
        expected = [f"select {t}" for t in range(3)]
        if how == "analyze":
            expected = [f"analyze select {t}" for t in range(3)]
        assert sorted(call[1] for call in factory.calls) == expected


def test_an_empty_extra_tab_is_unused_and_the_others_run() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.session_state["tab_count"] = 3
        for tab, text in enumerate(["select 0", "", "select 2"]):
            at.session_state[f"q_text_{tab}"] = text
        at.run()
        next(b for b in at.button if b.label == "Run").click().run()
        assert not at.exception and not at.error  # the empty second tab: unused, not refused
        assert sorted(call[1] for call in factory.calls) == ["select 0", "select 2"]


# A websocket drop releases an idle runtime at once (SessionRegistry.release), possibly after
# the page run fetched it and before it submits: the run must not crash the page (issue 17).
def _release_before_submit(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """Make the next ``times`` submissions find their runtime closed by a release: the
    registry releases (and closes) the runtime just before its ``submit`` runs."""
    original = st_utils.SessionRuntime.submit
    released: list[str] = []

    def submit(self: st_utils.SessionRuntime, *args: object, **kwargs: object) -> object:
        if len(released) < times:
            released.append(self.token)
            closer = st_utils.session_registry().release(self.token, wait=True)
            assert closer is not None and self.closed  # idle: dropped and closed at once
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(st_utils.SessionRuntime, "submit", submit)
    return released


def test_a_runtime_closed_between_fetch_and_submit_runs_the_query_on_a_fresh_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        first = only_runtime()
        released = _release_before_submit(monkeypatch, times=1)
        run_query(at, "select Movie {title}")
        assert not at.exception
        assert released == [first.token] and first.closed
        second = only_runtime()
        assert second is not first and not second.closed
        wait_until(lambda: not second.busy, timeout=10)
        at.run()
        assert not at.exception
        assert len(at.dataframe[0].value) == 10
        assert [r.status for r in second.book.newest_first()] == ["done"]


def test_a_runtime_closed_again_on_the_retry_says_to_press_run_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with console(FakeFactory()) as at:
        at.run()
        released = _release_before_submit(monkeypatch, times=2)
        run_query(at, "select Movie {title}")
        assert not at.exception
        assert len(released) == 2 and released[0] == released[1]  # one token, two runtimes
        assert "Press Run again" in texts(at)
        assert "Session restarted" in texts(at)
        assert len(at.session_state["run_book"]) == 0  # nothing was queued


def test_only_a_connected_browsers_run_takes_a_pending_release_away(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with console(FakeFactory(), **POLL) as at:
        at.run()
        run_query(at, "select sys::_sleep(30)")
        runtime = only_runtime()
        registry = st_utils.session_registry()
        registry.release(runtime.token)  # the websocket dropped while a query runs
        assert registry.release_pending(runtime.token)
        monkeypatch.setattr(streamlit_internals, "browser_connected", lambda: False)
        at.run()  # the dropped session's own run: nobody came back
        assert not at.exception
        assert only_runtime() is runtime and registry.release_pending(runtime.token)
        monkeypatch.setattr(streamlit_internals, "browser_connected", lambda: True)
        at.run()  # the browser reconnected
        assert only_runtime() is runtime and not registry.release_pending(runtime.token)
        monkeypatch.setattr(streamlit_internals, "browser_connected", lambda: None)
        registry.release(runtime.token)
        at.run()  # Streamlit cannot tell: as before, the run counts as the browser's
        assert not registry.release_pending(runtime.token)
        runtime.cancel()
