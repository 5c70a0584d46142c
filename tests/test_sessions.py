"""Per-session runtimes (loop thread + client + runs) and the registry that owns them.

Every test ends with no ``ecc-loop-*`` thread alive (the autouse fixture checks): whoever
creates a loop closes it, and these tests prove it.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ecc.driver.errors import ConsoleInputError
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.fake.client import FakeClientFactory, demo_responder
from ecc.running.loop import LoopStoppedError
from ecc.running.runs import RunBook
from ecc.running.sessions import (
    LOOP_DIED,
    SESSION_CLOSED,
    RuntimeLimits,
    SessionLimitError,
    SessionRegistry,
    SessionRuntime,
)
from tests.conftest import kill_loop, loop_threads, wait_until

POLICY = ExecutionPolicy(read_only=True, timeout_s=60.0)
SLOW = "select sys::_sleep(30)"


Clients = FakeClientFactory


class Builder:
    def __init__(self, clients: Clients, limits: RuntimeLimits | None = None) -> None:
        self.clients = clients
        self.limits = limits or RuntimeLimits(close_timeout_s=1.0)

    def __call__(self, token: str) -> SessionRuntime:
        return SessionRuntime(token, self.clients, self.limits)


@pytest.fixture(autouse=True)
def new_loop_threads() -> Iterator[Callable[[], list[threading.Thread]]]:
    """The ``ecc-loop-*`` threads this test started (others' may still be winding down);
    after the test, every one of them must have ended."""
    before = set(loop_threads())

    def started_here() -> list[threading.Thread]:
        return [thread for thread in loop_threads() if thread not in before]

    yield started_here
    wait_until(lambda: not started_here(), timeout=5, what="every ecc-loop-* thread ended")


@pytest.fixture
def clients() -> Clients:
    return Clients()


@pytest.fixture
def registry() -> Iterator[SessionRegistry]:
    registry = SessionRegistry(reap_interval_s=None)
    yield registry
    registry.close_all()


@pytest.fixture
def build(clients: Clients) -> Builder:
    return Builder(clients)


def run_query(runtime: SessionRuntime, query: str = "select 1", name: str = "Q1") -> Any:
    """Submit one query and wait (bounded) for its record to finish."""
    submitted = runtime.submit([QueryRequest(name=name, query=query)], POLICY)
    submitted.future.result(timeout=5)
    record = runtime.book.get(submitted.records[0].run_id)
    assert record is not None
    return record


def status_of(runtime: SessionRuntime, run_id: int) -> str:
    record = runtime.book.get(run_id)
    assert record is not None, f"run {run_id} is not in the book"
    return record.status


def start_slow(runtime: SessionRuntime) -> int:
    """Submit a query that runs until cancelled; return its run id once it is running."""
    submitted = runtime.submit([QueryRequest(name="slow", query=SLOW)], POLICY)
    run_id = submitted.records[0].run_id
    wait_until(lambda: status_of(runtime, run_id) == "running", what="slow query running")
    return run_id


def is_closed(runtime: SessionRuntime) -> bool:
    return runtime.closed and not runtime.loop.thread.is_alive()


HELD = "select 'held'"


class Gate:
    """Holds every ``select 'held'`` running until ``open()`` (called from the test's thread);
    other queries get the demo answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opened = False
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def responder(self, query: str, args: Any, kwargs: Any) -> Any:
        return self._held() if query == HELD else demo_responder(query, args, kwargs)

    async def _held(self) -> list[str]:
        event = asyncio.Event()
        with self._lock:
            if not self._opened:
                self._waiting.append((asyncio.get_running_loop(), event))
            else:
                event.set()
        await event.wait()
        return ["held"]

    def open(self) -> None:
        with self._lock:
            self._opened = True
            waiting, self._waiting = self._waiting, []
        for loop, event in waiting:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    yield held
    held.open()  # nothing stays held after the test


def start_held(runtime: SessionRuntime) -> tuple[int, threading.Event]:
    """Submit ``HELD``; return its run id once running, and an event set once the runtime has
    handled its batch's end (its own done callback ran: it was added first)."""
    submitted = runtime.submit([QueryRequest(name="held", query=HELD)], POLICY)
    handled = threading.Event()
    submitted.future.add_done_callback(lambda _: handled.set())
    run_id = submitted.records[0].run_id
    wait_until(lambda: status_of(runtime, run_id) == "running", what="held query running")
    return run_id, handled


# --- isolation and reuse --------------------------------------------------------------------
def test_two_tokens_get_their_own_loop_thread_and_client(registry, build, clients) -> None:
    first = registry.get_or_create("aaaaaaaa-1", build)
    second = registry.get_or_create("bbbbbbbb-2", build)
    assert run_query(first).status == "done"
    assert run_query(second).status == "done"
    assert first.loop.thread is not second.loop.thread
    assert first.loop.loop is not second.loop.loop
    assert len(clients.built) == 2
    one, two = clients.built
    assert one is not two
    assert one.stats.loop is first.loop.loop
    assert two.stats.loop is second.loop.loop


def test_a_rerun_with_the_same_token_reuses_loop_and_client(
    registry, build, clients, new_loop_threads
) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_query(runtime)
    again = registry.get_or_create("aaaaaaaa-1", build)
    assert again is runtime
    assert run_query(again, "select 2").result.value == [2]
    assert len(clients.built) == 1
    assert [call[1] for call in clients.built[0].stats.calls] == ["select 1", "select 2"]
    assert len(new_loop_threads()) == 1


def test_call_runs_a_coroutine_with_the_sessions_client(registry, build, clients) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    assert runtime.call(lambda client: client.query("select 5"), timeout=5) == [5]
    assert clients.built[0].stats.loop is runtime.loop.loop


# --- reaping, releasing, closing ------------------------------------------------------------
def test_reap_idle_closes_an_idle_runtime(registry, build, clients) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_query(runtime)
    reaped = registry.reap_idle(time.monotonic() + 100, 10)
    assert reaped == ["aaaaaaaa-1"]
    assert is_closed(runtime)
    assert clients.built[0].stats.closed
    assert registry.get("aaaaaaaa-1") is None
    assert registry.totals().reaped == 1


def test_reap_idle_keeps_a_recently_used_runtime(registry, build) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    assert registry.reap_idle(time.monotonic(), 10) == []
    assert runtime.loop.alive


def test_reap_idle_never_closes_a_busy_runtime(registry, build, clients) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_id = start_slow(runtime)
    assert registry.reap_idle(time.monotonic() + 100, 10) == []
    assert runtime.loop.alive and not runtime.closed
    assert status_of(runtime, run_id) == "running"
    assert not clients.built[0].stats.closed


def test_reap_idle_never_closes_the_callers_own_session(registry, build) -> None:
    mine = registry.get_or_create("aaaaaaaa-1", build)
    other = registry.get_or_create("bbbbbbbb-2", build)
    reaped = registry.reap_idle(time.monotonic() + 100, 10, keep="aaaaaaaa-1")
    assert reaped == ["bbbbbbbb-2"]
    assert mine.loop.alive
    assert is_closed(other)


def test_release_closes_the_session_at_once(registry, build, clients) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_query(runtime)
    closer = registry.release("aaaaaaaa-1")
    assert closer is not None
    closer.join(timeout=5)
    assert not closer.is_alive()
    assert is_closed(runtime)
    assert clients.built[0].stats.closed
    assert registry.get("aaaaaaaa-1") is None
    assert not registry.release_pending("aaaaaaaa-1")
    assert registry.totals().released == 1


def test_release_of_an_unknown_token_does_nothing(registry) -> None:
    assert registry.release("nobody") is None
    assert registry.totals().released == 0


# --- a disconnect never costs a running query (Streamlit releases on every websocket drop) --
def test_release_of_a_busy_runtime_waits_until_its_runs_end(gate, registry) -> None:
    clients = Clients(responder=gate.responder)
    runtime = registry.get_or_create("aaaaaaaa-1", Builder(clients))
    run_id, _ = start_held(runtime)
    assert registry.release("aaaaaaaa-1") is None  # nothing closes now
    assert registry.release_pending("aaaaaaaa-1")
    assert registry.get("aaaaaaaa-1") is runtime and runtime.loop.alive
    assert not runtime.closed and not clients.built[0].stats.closed
    assert status_of(runtime, run_id) == "running"
    assert registry.totals().release_pending == 1

    gate.open()  # the last run ends and nobody came back: now it closes
    wait_until(lambda: is_closed(runtime), what="the pending release completed")
    record = runtime.book.get(run_id)
    assert record is not None and record.status == "done"
    assert record.result is not None and record.result.value == ["held"]
    assert clients.built[0].stats.closed
    assert registry.get("aaaaaaaa-1") is None
    assert not registry.release_pending("aaaaaaaa-1")
    totals = registry.totals()
    assert (totals.released, totals.release_pending) == (1, 0)
    # Coming back after that simply builds a new runtime.
    again = registry.get_or_create("aaaaaaaa-1", Builder(clients))
    assert again is not runtime and run_query(again, "select 2").status == "done"


def test_a_reconnect_takes_a_pending_release_away_and_keeps_the_runtime(gate, registry) -> None:
    clients = Clients(responder=gate.responder)
    runtime = registry.get_or_create("aaaaaaaa-1", Builder(clients))
    run_id, batch_handled = start_held(runtime)
    registry.release("aaaaaaaa-1")  # the websocket dropped
    # The browser reconnects to the same session; its next script run asks again.
    assert registry.get_or_create("aaaaaaaa-1", Builder(clients)) is runtime
    assert not registry.release_pending("aaaaaaaa-1")
    gate.open()
    assert batch_handled.wait(5)
    assert status_of(runtime, run_id) == "done"
    assert registry.get("aaaaaaaa-1") is runtime
    assert runtime.loop.alive and not runtime.closed
    assert len(clients.built) == 1 and not clients.built[0].stats.closed
    assert run_query(runtime, "select 2").status == "done"  # and it keeps working


def test_a_run_of_a_disconnected_session_leaves_the_pending_release_in_place(
        gate, registry) -> None:
    clients = Clients(responder=gate.responder)
    runtime = registry.get_or_create("aaaaaaaa-1", Builder(clients))
    run_id, _ = start_held(runtime)
    registry.release("aaaaaaaa-1")  # the websocket dropped; nobody comes back
    # The dropped session's own script run asks for its runtime after the drop.
    assert registry.get_or_create("aaaaaaaa-1", Builder(clients),
                                  came_back=False) is runtime
    assert registry.release_pending("aaaaaaaa-1")
    gate.open()  # its last run ends: the release completes
    wait_until(lambda: is_closed(runtime), what="the pending release completed")
    assert status_of(runtime, run_id) == "done"
    assert registry.get("aaaaaaaa-1") is None and clients.built[0].stats.closed


def test_a_runtime_built_for_a_disconnected_session_is_release_pending(build) -> None:
    registry = SessionRegistry(reap_interval_s=None, release_grace_s=60.0)
    try:
        runtime = registry.get_or_create("aaaaaaaa-1", build)
        registry.release("aaaaaaaa-1", wait=True)  # idle: closed at once
        fresh = registry.get_or_create("aaaaaaaa-1", build, came_back=False)
        assert fresh is not runtime and registry.release_pending("aaaaaaaa-1")
        assert run_query(fresh, "select 2").status == "done"  # it works while it lasts
        wait_until(lambda: is_closed(fresh), what="released when its run ended")
        assert registry.get("aaaaaaaa-1") is None
        # A connected browser's run afterwards gets a runtime that stays.
        kept = registry.get_or_create("aaaaaaaa-1", build)
        assert not registry.release_pending("aaaaaaaa-1")
        assert run_query(kept, "select 3").status == "done" and not kept.closed
    finally:
        registry.close_all()


def test_a_runtime_handed_out_after_a_release_is_never_closed_under_it() -> None:
    """The reconnect (``get_or_create``) and the last run's end (which completes a pending
    release) race on different threads: whichever wins, the runtime the page got stays open."""
    registry = SessionRegistry(reap_interval_s=None)
    gates: list[Gate] = []
    try:
        for attempt in range(30):
            token = f"race{attempt:04d}"
            gate = Gate()
            gates.append(gate)
            runtime = registry.get_or_create(token, Builder(Clients(responder=gate.responder)))
            _, batch_handled = start_held(runtime)
            registry.release(token)
            ending = threading.Thread(target=gate.open)
            ending.start()
            got = registry.get_or_create(token, Builder(Clients()))
            ending.join(5)
            assert batch_handled.wait(5)
            assert not got.closed, f"attempt {attempt}: the page's runtime was closed"
            assert registry.get(token) is got
            if got is not runtime:  # the release completed first: the old one closes
                wait_until(functools.partial(is_closed, runtime), what="the released runtime")
            registry.release(token, wait=True)
    finally:
        for gate in gates:
            gate.open()
        registry.close_all()


def test_a_pending_release_expires_after_the_grace_and_says_the_session_closed(
    gate,
) -> None:
    clients = Clients(responder=gate.responder)
    registry = SessionRegistry(reap_interval_s=None, release_grace_s=120)
    try:
        runtime = registry.get_or_create("aaaaaaaa-1", Builder(clients))
        run_id, _ = start_held(runtime)
        registry.release("aaaaaaaa-1")
        now = time.monotonic()
        assert registry.reap_idle(now + 60, 1) == []  # busy, within the grace: kept
        assert registry.reap_idle(now + 121, 10_000) == ["aaaaaaaa-1"]
        assert is_closed(runtime)
        record = runtime.book.get(run_id)
        assert record is not None and record.status == "cancelled"
        assert record.error == SESSION_CLOSED
        assert clients.built[0].stats.in_flight == 0 and clients.built[0].stats.closed
        assert not registry.release_pending("aaaaaaaa-1")
    finally:
        registry.close_all()


# --- why a run ended: the session closing, or the user ----------------------------------
def test_closing_a_runtime_records_the_session_closed_not_the_users_cancel(
    registry, build, clients
) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_id = start_slow(runtime)
    runtime.close()
    record = runtime.book.get(run_id)
    assert record is not None and record.status == "cancelled"
    assert record.error == SESSION_CLOSED
    assert "session was closed" in record.error.message
    assert clients.built[0].stats.in_flight == 0


def test_a_users_cancel_is_recorded_as_cancelled(registry, build) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_id = start_slow(runtime)
    runtime.cancel([run_id])
    wait_until(lambda: status_of(runtime, run_id) == "cancelled")
    record = runtime.book.get(run_id)
    assert record is not None and record.error is not None
    assert record.error != SESSION_CLOSED
    assert (record.error.kind, record.error.message) == ("cancelled", "The query was cancelled.")


def test_a_closing_runtime_never_starts_its_queued_runs() -> None:
    clients = Clients()
    runtime = SessionRuntime("tok-queued", clients,
                             RuntimeLimits(max_running=1, close_timeout_s=1.0))
    submitted = runtime.submit([QueryRequest(name="slow", query=SLOW),
                                QueryRequest(name="next", query="select 'never'")], POLICY)
    slow, queued = submitted.records
    wait_until(lambda: status_of(runtime, slow.run_id) == "running")
    runtime.close()
    assert [status_of(runtime, r.run_id) for r in (slow, queued)] == ["cancelled", "cancelled"]
    assert all(runtime.book.get(r.run_id).error == SESSION_CLOSED  # type: ignore[union-attr]
               for r in (slow, queued))
    assert [call[1] for call in clients.all_calls] == [SLOW]


def test_close_all_closes_every_runtime_and_cancels_its_runs(build, clients) -> None:
    registry = SessionRegistry(reap_interval_s=None)
    runtimes = [registry.get_or_create(f"token{i:03d}", build) for i in range(3)]
    run_ids = [start_slow(runtime) for runtime in runtimes]
    registry.close_all()
    assert all(is_closed(runtime) for runtime in runtimes)
    assert all(client.stats.closed for client in clients.built)
    for runtime, run_id in zip(runtimes, run_ids, strict=True):
        assert status_of(runtime, run_id) == "cancelled"
        assert runtime.book.get(run_id).error == SESSION_CLOSED  # type: ignore[union-attr]
    assert registry.totals().sessions == 0


def test_submit_after_close_is_refused(build) -> None:
    runtime = build("aaaaaaaa-1")
    runtime.close()
    with pytest.raises(LoopStoppedError, match="closed"):
        runtime.submit([QueryRequest(name="Q1", query="select 1")], POLICY)
    runtime.close()  # idempotent


def test_a_closed_token_gets_a_fresh_runtime(registry, build) -> None:
    first = registry.get_or_create("aaaaaaaa-1", build)
    first.close()
    second = registry.get_or_create("aaaaaaaa-1", build)
    assert second is not first
    assert run_query(second).status == "done"


def test_two_hundred_sessions_leave_no_thread_and_no_open_client(
    registry, build, clients, new_loop_threads
) -> None:
    baseline = threading.active_count()
    for i in range(200):
        token = f"cycle{i:03d}-session"
        runtime = registry.get_or_create(token, build)
        assert run_query(runtime).status == "done"
        registry.release(token, wait=True)
    assert new_loop_threads() == []
    assert len(clients.built) == 200
    assert all(client.stats.closed for client in clients.built)
    wait_until(lambda: threading.active_count() <= baseline, what="thread count back to baseline")
    assert registry.totals().sessions == 0


# --- cancel, reset, status ------------------------------------------------------------------
def test_cancel_stops_every_active_run(registry, build) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_id = start_slow(runtime)
    assert runtime.cancel() == 1
    wait_until(lambda: status_of(runtime, run_id) == "cancelled")
    assert runtime.cancel() == 0  # nothing active any more


def test_cancel_right_after_submit_is_not_lost(registry, build) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    for _ in range(20):
        submitted = runtime.submit([QueryRequest(name="slow", query=SLOW)], POLICY)
        run_id = submitted.records[0].run_id
        assert runtime.cancel([run_id]) == 1
        submitted.future.result(timeout=5)
        assert status_of(runtime, run_id) == "cancelled"


def test_reset_client_closes_it_and_the_next_query_makes_a_new_one(
    registry, build, clients
) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_query(runtime)
    runtime.reset_client()
    assert clients.built[0].stats.closed
    assert runtime.client_state == "none"
    assert run_query(runtime, "select 2").status == "done"
    assert len(clients.built) == 2
    assert not clients.built[1].stats.closed
    assert runtime.client_state == "created"


def test_status_describes_the_runtime(registry, build) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_query(runtime)
    start_slow(runtime)
    status = runtime.status(now=runtime.last_used + 3)
    assert (status.token, status.loop_alive, status.loop_restarts) == ("aaaaaaaa-1", True, 0)
    assert (status.client_state, status.query_count, status.active_runs) == ("created", 2, 1)
    assert status.idle_s == pytest.approx(3)
    totals = registry.totals()
    assert (totals.sessions, totals.live_loops, totals.clients) == (1, 1, 1)
    assert (totals.active_runs, totals.queries) == (1, 2)


# --- loop death -----------------------------------------------------------------------------
# The simulated death is an exception escaping the loop's thread: pytest reports it, we expect it.
expected_thread_death = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnhandledThreadExceptionWarning"
)


@expected_thread_death
def test_a_dead_loop_fails_its_runs_with_the_loop_died_view(registry, build) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    run_id = start_slow(runtime)
    kill_loop(runtime)
    assert not runtime.loop.alive
    record = runtime.book.get(run_id)
    assert record is not None
    assert record.status == "failed"
    assert record.error == LOOP_DIED


@expected_thread_death
def test_a_dead_loop_is_replaced_and_the_session_works_again(
    registry, build, clients, new_loop_threads
) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    start_slow(runtime)
    old_thread = runtime.loop.thread
    kill_loop(runtime)
    assert runtime.ensure_loop() is True
    assert runtime.loop_restarts == 1
    assert runtime.loop.thread is not old_thread and runtime.loop.alive
    assert clients.built[0].stats.terminated  # the dead loop's client could only be terminated
    record = run_query(runtime, "select 3")
    assert record.status == "done" and record.result.value == [3]
    assert clients.built[1].stats.loop is runtime.loop.loop
    assert runtime.ensure_loop() is False  # alive again: nothing to do
    assert len(new_loop_threads()) == 1


@expected_thread_death
def test_submit_on_a_dead_loop_restarts_it_and_says_so(registry, build) -> None:
    runtime = registry.get_or_create("aaaaaaaa-1", build)
    kill_loop(runtime)
    submitted = runtime.submit([QueryRequest(name="Q1", query="select 1")], POLICY)
    assert submitted.loop_restarted
    submitted.future.result(timeout=5)
    assert status_of(runtime, submitted.records[0].run_id) == "done"


# --- the reaper thread ----------------------------------------------------------------------
def test_the_reaper_thread_reclaims_an_idle_session_by_itself(build, clients) -> None:
    registry = SessionRegistry(reap_interval_s=0.05, idle_threshold_s=0.1)
    try:
        runtime = registry.get_or_create("aaaaaaaa-1", build)
        run_query(runtime)
        wait_until(lambda: registry.get("aaaaaaaa-1") is None, what="reaper removed the session")
        wait_until(lambda: is_closed(runtime), what="reaped runtime closed")
        assert clients.built[0].stats.closed
        assert registry.totals().reaped == 1
    finally:
        registry.close_all()
    assert not any(t.name == "ecc-reaper" and t.is_alive() for t in threading.enumerate())


def test_the_reaper_thread_spares_a_busy_session(build) -> None:
    registry = SessionRegistry(reap_interval_s=0.02, idle_threshold_s=0.05)
    try:
        busy = registry.get_or_create("aaaaaaaa-1", build)
        start_slow(busy)
        idle = registry.get_or_create("bbbbbbbb-2", build)
        # The idle one going proves a reaper pass ran past the threshold for both.
        wait_until(lambda: registry.get("bbbbbbbb-2") is None, what="idle session reaped")
        assert is_closed(idle) or idle.closed
        assert registry.get("aaaaaaaa-1") is busy and busy.loop.alive
    finally:
        registry.close_all()


def test_a_reconnecting_browser_keeps_its_history_in_a_new_runtime(registry) -> None:
    # The page keeps the book in session state and hands it to every runtime it builds.
    book = RunBook()
    first = registry.get_or_create("tok-blip", _book_builder(book))
    first.submit([QueryRequest(name="Q", query="select 1")], POLICY).future.result(5)
    registry.release("tok-blip", wait=True)
    assert first.closed
    again = registry.get_or_create("tok-blip", _book_builder(book))
    assert again is not first and again.book is book
    assert [r.request.query for r in again.book.newest_first()] == ["select 1"]


def test_a_closing_runtime_ends_only_the_runs_it_started() -> None:
    """A runtime closing (its session expired) while another runtime of the same browser
    session runs queries in the same book: the old close must not end the new one's runs."""
    book = RunBook()
    build = _book_builder(book)
    old, new = build("tok-race"), build("tok-race")
    try:
        [old_run] = old.submit([QueryRequest(name="old", query=SLOW)], POLICY).records
        wait_until(lambda: status_of(old, old_run.run_id) == "running")
        closer = threading.Thread(target=old.close)
        closer.start()
        [new_run] = new.submit([QueryRequest(name="new", query=SLOW)], POLICY).records
        wait_until(lambda: status_of(new, new_run.run_id) == "running")
        closer.join(timeout=10)
        assert not closer.is_alive()
        assert status_of(new, old_run.run_id) == "cancelled"
        assert status_of(new, new_run.run_id) == "running"
        assert new.busy and not old.busy
    finally:
        old.close()
        new.close()


def test_reaping_keeps_the_history_and_the_next_use_gets_a_new_runtime(registry) -> None:
    book = RunBook()
    first = registry.get_or_create("tok-idle", _book_builder(book))
    first.submit([QueryRequest(name="Q", query="select 1")], POLICY).future.result(5)
    assert registry.reap_idle(time.monotonic() + 1000, 300) == ["tok-idle"]
    assert first.closed and len(book) == 1
    again = registry.get_or_create("tok-idle", _book_builder(book))
    again.submit([QueryRequest(name="Q2", query="select 2")], POLICY).future.result(5)
    assert [r.status for r in book.newest_first()] == ["done", "done"]


def test_a_runtime_handed_out_is_touched_inside_the_registry_lock(registry) -> None:
    runtime = registry.get_or_create("tok-touch", _fake_runtime_builder())
    runtime.touch(time.monotonic() - 10_000)
    again = registry.get_or_create("tok-touch", _fake_runtime_builder())
    assert again is runtime
    assert registry.reap_idle(time.monotonic(), 300) == []


def test_building_a_runtime_does_not_hold_the_registry_lock() -> None:
    """``release`` runs on Streamlit's server thread: it must not wait for another session's
    runtime being built (thread start, waits)."""
    registry = SessionRegistry(reap_interval_s=None)
    building = threading.Event()
    finish_build = threading.Event()

    def slow_build(token: str) -> SessionRuntime:
        building.set()
        finish_build.wait(5)
        return _fake_runtime_builder()(token)

    try:
        registry.get_or_create("tok-other", _fake_runtime_builder())
        builder = threading.Thread(target=registry.get_or_create, args=("tok-slow", slow_build))
        builder.start()
        assert building.wait(5)
        started = time.monotonic()
        closer = registry.release("tok-other")
        assert time.monotonic() - started < 1.0  # did not wait for the build
        finish_build.set()
        builder.join(5)
        assert closer is not None
        closer.join(5)
        assert registry.get("tok-slow") is not None
    finally:
        finish_build.set()
        registry.close_all()


def test_two_threads_building_one_token_end_with_one_runtime() -> None:
    registry = SessionRegistry(reap_interval_s=None)
    gate = threading.Barrier(2)
    built: list[SessionRuntime] = []

    def build(token: str) -> SessionRuntime:
        runtime = _fake_runtime_builder()(token)
        built.append(runtime)
        gate.wait(5)  # both builds happen before either inserts
        return runtime

    got: list[SessionRuntime] = []
    try:
        threads = [threading.Thread(target=lambda: got.append(registry.get_or_create("t", build)))
                   for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(5)
        assert len(built) == 2 and got[0] is got[1]
        loser = next(rt for rt in built if rt is not got[0])
        assert loser.closed
    finally:
        registry.close_all()


def test_a_session_refuses_runs_beyond_max_queued_and_queues_nothing() -> None:
    limits = RuntimeLimits(max_running=1, max_queued=3, close_timeout_s=1.0)
    runtime = SessionRuntime("tok-queue", Clients(), limits)
    try:
        runtime.submit([QueryRequest(name="slow", query=SLOW)], POLICY)
        wait_until(lambda: len(runtime.book.active()) == 1 and runtime.book.queued_count() == 0)
        runtime.submit([QueryRequest(name=f"Q{i}", query=SLOW) for i in range(3)], POLICY)
        with pytest.raises(ConsoleInputError) as refused:
            runtime.submit([QueryRequest(name="one more", query="select 1")], POLICY)
        assert "limit of 3 waiting queries" in refused.value.view.message
        assert len(runtime.book) == 4
    finally:
        runtime.close()


def _fake_runtime_builder() -> Callable[[str], SessionRuntime]:
    return Builder(Clients())


def _book_builder(book: RunBook) -> Callable[[str], SessionRuntime]:
    clients = Clients()
    return lambda token: SessionRuntime(token, clients, RuntimeLimits(close_timeout_s=1.0),
                                        book=book)


# --- max_sessions: a process-wide cap on runtimes (loop threads and pools) ---------------------
def test_the_session_past_max_sessions_is_refused_and_the_others_keep_working(
    registry, build, clients, new_loop_threads
) -> None:
    registry.max_sessions = 2
    first = registry.get_or_create("aaaaaaaa-1", build)
    second = registry.get_or_create("bbbbbbbb-2", build)
    with pytest.raises(SessionLimitError) as refused:
        registry.get_or_create("cccccccc-3", build)
    view = refused.value.view
    assert view.kind == "capacity" and view.retryable
    assert view.message == ("The console is at its limit of 2 active sessions; try again in a "
                            "minute.")
    assert registry.get("cccccccc-3") is None
    assert len(new_loop_threads()) == 2 and len(clients.built) == 0  # nothing built for it
    assert run_query(first).status == "done" and run_query(second).status == "done"
    assert registry.get_or_create("aaaaaaaa-1", build) is first  # known tokens still served


def test_a_released_session_frees_its_slot(registry, build) -> None:
    registry.max_sessions = 1
    first = registry.get_or_create("aaaaaaaa-1", build)
    with pytest.raises(SessionLimitError):
        registry.get_or_create("bbbbbbbb-2", build)
    registry.release("aaaaaaaa-1", wait=True)
    second = registry.get_or_create("bbbbbbbb-2", build)
    assert run_query(second).status == "done"
    assert is_closed(first)


def test_a_reaped_session_frees_its_slot_too(registry, build) -> None:
    registry.max_sessions = 1
    registry.get_or_create("aaaaaaaa-1", build)
    assert registry.reap_idle(time.monotonic() + 100, 10) == ["aaaaaaaa-1"]
    assert run_query(registry.get_or_create("bbbbbbbb-2", build)).status == "done"


def test_racing_new_sessions_never_pass_max_sessions(registry, clients) -> None:
    """Building happens outside the lock: two new sessions may both build, but only one is
    added; the other's runtime is closed and it gets the message."""
    registry.max_sessions = 1
    gate = threading.Barrier(2)

    def slow_build(token: str) -> SessionRuntime:
        gate.wait(timeout=5)  # both passed the first check before either is added
        return SessionRuntime(token, clients, RuntimeLimits(close_timeout_s=1.0))

    outcomes: list[object] = []

    def create(token: str) -> None:
        try:
            outcomes.append(registry.get_or_create(token, slow_build))
        except SessionLimitError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create, args=(t,)) for t in ("tok-a", "tok-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    winners = [o for o in outcomes if isinstance(o, SessionRuntime)]
    assert len(winners) == 1 and sum(isinstance(o, SessionLimitError) for o in outcomes) == 1
    assert registry.totals().sessions == 1


# --- a departed session leaves nothing behind (issue 18, memory after churn) ----------------
def _departed_refs(runtime: SessionRuntime) -> list[weakref.ref[Any]]:
    """Weak references to what one session owned: its runtime, loop, asyncio loop, book."""
    return [weakref.ref(runtime), weakref.ref(runtime.loop), weakref.ref(runtime.loop.loop),
            weakref.ref(runtime.book)]


def _alive_after_gc(refs: list[weakref.ref[Any]]) -> list[str]:
    gc.collect()
    return [type(obj).__name__ for obj in (ref() for ref in refs) if obj is not None]


def test_a_released_idle_session_leaves_no_object_behind(registry) -> None:
    # Only the page's session state (which Streamlit drops after disconnectedSessionTTL)
    # may keep a session's objects; the registry and the loop thread keep none of them.
    runtime = registry.get_or_create("gone-idle", _book_builder(RunBook()))
    assert run_query(runtime).status == "done"
    refs = _departed_refs(runtime)
    registry.release("gone-idle", wait=True)
    assert runtime.closed
    del runtime
    assert _alive_after_gc(refs) == []


def test_a_busy_session_released_leaves_no_object_behind_once_its_runs_end(gate) -> None:
    registry = SessionRegistry(reap_interval_s=None)
    clients = Clients(responder=gate.responder)
    try:
        runtime = registry.get_or_create(
            "gone-busy", lambda token: SessionRuntime(
                token, clients, RuntimeLimits(close_timeout_s=1.0), book=RunBook()))
        start_held(runtime)
        refs = _departed_refs(runtime)
        assert registry.release("gone-busy") is None  # pending: its run keeps going
        gate.open()
        wait_until(functools.partial(is_closed, runtime), what="the pending release completed")
        del runtime
        clients.built.clear()  # the fake factory's own list of the clients it built
        wait_until(lambda: _alive_after_gc(refs) == [], what="no object of the session alive")
    finally:
        registry.close_all()
