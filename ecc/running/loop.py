"""``SessionLoop``: one asyncio loop running forever in its own daemon thread.

Invariants:
- the loop is created, run and closed by its own thread; other threads only submit work with
  ``run_coroutine_threadsafe``/``call_soon_threadsafe``;
- ``stop()`` cancels what is still running on the loop, lets it unwind, closes the loop and
  joins the thread (bounded); after it returns the thread has ended or the bound was hit;
- if the thread dies (a BaseException escaped a callback), ``alive`` turns False and pending
  submissions are failed by the owner (see ``SessionRuntime``), never left hanging.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopStoppedError(RuntimeError):
    """The session's event loop is not running (stopped or died)."""


class SessionLoop:
    def __init__(self, name: str, on_died: Callable[[], object] | None = None) -> None:
        """``on_died`` runs on the loop's thread when a BaseException kills the loop, before
        leftover tasks are cancelled: the owner reports their runs as lost, not cancelled."""
        self.name = name
        self._on_died = on_died
        self._serving = False  # run_forever is running (the unwind runs the loop again)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._started.wait(timeout=5)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    @property
    def alive(self) -> bool:
        return self._serving and self._thread.is_alive() and self._loop.is_running()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._started.set)
        self._serving = True
        try:
            self._loop.run_forever()
        except BaseException:
            # A callback raised SystemExit/KeyboardInterrupt (or worse): the loop is dying.
            self._serving = False
            if self._on_died is not None:
                with contextlib.suppress(Exception):  # the loop is gone either way
                    self._on_died()
            raise
        finally:
            self._serving = False
            self._unwind()

    def _unwind(self) -> None:
        """Cancel leftover tasks and close the loop; runs on the loop's own thread."""
        loop = self._loop
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(
                    asyncio.wait(pending, timeout=2.0)
                )
            loop.run_until_complete(loop.shutdown_asyncgens())
        except BaseException:  # unwinding a dying loop must not raise further
            pass
        finally:
            loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; the returned future is safe to wait on from any thread."""
        if not self.alive:
            coro.close()
            raise LoopStoppedError(f"event loop {self.name} is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait for its result at most ``timeout`` seconds."""
        future = self.submit(coro)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            # Since 3.11 this is the builtin TimeoutError: a coroutine raising its own one
            # lands here too, and must reach the caller unchanged.
            if future.done():
                raise
            future.cancel()
            raise TimeoutError(f"no answer from {self.name} within {timeout:g} s") from None

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the loop and join its thread. True when the thread has ended."""
        if self._thread.is_alive() and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()
