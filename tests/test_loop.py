"""``SessionLoop``: one asyncio loop in its own thread, stopped and joined by its owner."""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Iterator

import pytest

from ecc.running.loop import LoopStoppedError, SessionLoop


@pytest.fixture
def loop() -> Iterator[SessionLoop]:
    session_loop = SessionLoop("ecc-loop-test")
    yield session_loop
    assert session_loop.stop(timeout=5)


def test_a_new_loop_is_alive_in_its_own_named_thread(loop) -> None:
    assert loop.alive
    assert loop.thread.name == "ecc-loop-test" and loop.thread.daemon

    async def where() -> str:
        return threading.current_thread().name

    assert loop.call(where(), timeout=5) == "ecc-loop-test"


def test_call_returns_the_coroutines_result(loop) -> None:
    async def answer() -> int:
        return 42

    assert loop.call(answer(), timeout=5) == 42


def test_call_past_its_bound_raises_timeout_error_and_cancels_the_coroutine(loop) -> None:
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"no answer from ecc-loop-test within 0\.05 s"):
        loop.call(forever(), timeout=0.05)
    assert cancelled.wait(timeout=5)


@pytest.mark.parametrize("error", [TimeoutError("the coroutine's own bound"), ValueError("bad")],
                         ids=["its own timeout error", "another exception"])
def test_call_passes_the_coroutines_exceptions_unchanged(loop, error: Exception) -> None:
    async def fails() -> None:
        raise error

    with pytest.raises(type(error), match=str(error)):
        loop.call(fails(), timeout=5)


def test_stop_cancels_leftover_tasks_closes_the_loop_and_ends_the_thread() -> None:
    session_loop = SessionLoop("ecc-loop-test")
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    future = session_loop.submit(forever())
    assert started.wait(timeout=5)
    assert session_loop.stop(timeout=5)
    assert cancelled.is_set()
    assert future.cancelled()
    assert session_loop.loop.is_closed()
    assert not session_loop.alive
    assert session_loop.stop() is True  # stopping twice is harmless


def test_submit_on_a_stopped_loop_is_refused_and_closes_the_coroutine() -> None:
    session_loop = SessionLoop("ecc-loop-test")
    session_loop.stop(timeout=5)

    async def never_run() -> None:
        raise AssertionError("must not run")

    coro = never_run()
    with pytest.raises(LoopStoppedError, match="ecc-loop-test"):
        session_loop.submit(coro)
    assert inspect.getcoroutinestate(coro) == inspect.CORO_CLOSED  # no "never awaited" later


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dying_loop_reports_before_its_tasks_are_cancelled() -> None:
    events: list[str] = []
    holder: list[SessionLoop] = []

    def on_died() -> None:
        events.append(f"died (alive={holder[0].alive})")

    session_loop = SessionLoop("ecc-loop-test", on_died=on_died)
    holder.append(session_loop)

    started = threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            events.append("task cancelled")
            raise

    session_loop.submit(forever())
    # Not asyncio.all_tasks() from this thread: it iterates a set the loop thread changes.
    assert started.wait(5)

    def die() -> None:
        raise SystemExit("simulated")

    session_loop.loop.call_soon_threadsafe(die)
    session_loop.thread.join(timeout=5)
    assert not session_loop.thread.is_alive()
    assert events == ["died (alive=False)", "task cancelled"]
    assert session_loop.loop.is_closed()
    assert not session_loop.alive
