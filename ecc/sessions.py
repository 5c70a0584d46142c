"""Per-session runtime (loop thread + client) and the process-wide registry of them.

Ownership (who closes what):
- ``SessionRegistry`` creates every ``SessionRuntime`` and is the only one that closes them,
  always the same way (drop it from the map under the lock, then ``SessionRuntime.close()``
  outside it), for three reasons: ``release(token)`` (a browser session disconnected: Streamlit's
  ``on_release``), ``reap_idle(now, threshold)`` (the reaper thread, or a user's "Release idle
  resources"), ``close_all()`` (process exit, via ``atexit``).
- A ``SessionRuntime`` owns its ``SessionLoop`` and the client created on that loop; closing
  it cancels the runs it started, closes the client (bounded ``aclose``, else ``terminate``)
  and ends the loop thread.
- The ``RunBook`` (history and results) belongs to the browser session, not to the runtime:
  the page keeps it in ``st.session_state`` (which survives reconnects) and hands it to each
  runtime it builds. Closing a runtime for any reason loses no history; a runtime marks only
  the runs it started itself, so a runtime built for a reconnecting browser is never touched
  by the old one's close.

Invariants: two tokens never share a loop or a client; a runtime with active runs is never
reaped as idle; the client is created on, and only used from, its session's loop.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from ecc.client import FirstConnectGate, QueryClient
from ecc.errors import ErrorView, input_error
from ecc.execute import ExecutionPolicy, QueryRequest
from ecc.loop import LoopStoppedError, SessionLoop
from ecc.runs import BatchRunner, RunBook, RunRecord, RunStatus

log = logging.getLogger("ecc.sessions")

ClientFactory = Callable[[], QueryClient]
ClientState = Literal["none", "created", "closed"]


@dataclass(frozen=True)
class RuntimeLimits:
    max_running: int = 8
    max_kept_rows: int = 100_000
    max_kept_results: int = 20
    history_size: int = 100
    max_queued: int = 40
    close_timeout_s: float = 2.0


@dataclass(frozen=True)
class RuntimeStatus:
    token: str
    loop_alive: bool
    loop_restarts: int
    client_state: ClientState
    query_count: int
    active_runs: int
    idle_s: float
    created_s_ago: float


@dataclass(frozen=True)
class SubmitResult:
    records: list[RunRecord]
    future: concurrent.futures.Future[None]
    loop_restarted: bool  # the previous loop had died; the page says so


SESSION_CLOSED = ErrorView(
    kind="cancelled",
    title="Cancelled",
    message="The session's connection was closed (idle, or the browser left) before the query "
    "finished. Run it again.",
)
LOOP_DIED = ErrorView(
    kind="internal",
    title="Session loop stopped",
    message=(
        "This session's event loop stopped unexpectedly while the query was queued or "
        "running; a new loop was started. Run the query again."
    ),
    retryable=True,
)


class SessionRuntime:
    def __init__(
        self,
        token: str,
        client_factory: ClientFactory,
        limits: RuntimeLimits,
        secrets: tuple[str, ...] = (),
        book: RunBook | None = None,
    ) -> None:
        self.token = token
        self._client_factory = client_factory
        self._limits = limits
        self._secrets = secrets
        self._lock = threading.RLock()
        self.book = book if book is not None else RunBook(limits.history_size,
                                                          limits.max_kept_results)
        self._owned_runs: set[int] = set()  # runs started here: the only ones close() ends
        # Guards ``_owned_runs`` only. Never ``_lock``: the batch-done callback runs on the loop
        # thread while ``close()`` may hold ``_lock`` waiting for that loop.
        self._owned_lock = threading.Lock()
        self._loop = self._new_loop()
        self._client: QueryClient | None = None
        self._client_state: ClientState = "none"
        # Shared by every path to the client (runs, calls): reset with each new client.
        self._first_connect = FirstConnectGate()
        self._runner = self._new_runner()
        self.created_at = time.monotonic()
        self.last_used = self.created_at
        self.query_count = 0
        self.loop_restarts = 0
        self.closed = False

    def _new_loop(self) -> SessionLoop:
        # If the loop dies, its runs are reported lost before its unwind cancels their tasks
        # (which would otherwise read as the user's "cancelled").
        return SessionLoop(name=f"ecc-loop-{self.token[:8]}", on_died=self._end_owned_runs)

    def _end_owned_runs(self, error: ErrorView = LOOP_DIED,
                        status: RunStatus = "failed") -> int:
        with self._owned_lock:
            owned = set(self._owned_runs)
        return self.book.end_active(error, status, only=owned)

    def _new_runner(self) -> BatchRunner:
        return BatchRunner(
            self.book,
            max_running=self._limits.max_running,
            max_kept_rows=self._limits.max_kept_rows,
            secrets=self._secrets,
            task_prefix=f"ecc-{self.token[:8]}",
        )

    # --- loop ---------------------------------------------------------------------------
    @property
    def loop(self) -> SessionLoop:
        return self._loop

    def touch(self, now: float | None = None) -> None:
        self.last_used = time.monotonic() if now is None else now

    def ensure_loop(self) -> bool:
        """Start a new loop if the old one died. True when it had to (the page says so).

        A dead loop's client cannot be closed on it any more: it is terminated, and every run
        it was carrying is reported failed, never silently lost."""
        with self._lock:
            if self.closed:
                raise LoopStoppedError("this session was closed; reload the page")
            if self._loop.alive:
                return False
            log.warning("session %s: event loop died; starting a new one", self.token[:8])
            self._end_owned_runs()
            self._terminate_client()
            self._loop.stop(timeout=1.0)
            self._loop = self._new_loop()
            self._runner = self._new_runner()
            self.loop_restarts += 1
            return True

    # --- client -------------------------------------------------------------------------
    def _client_on_loop(self) -> QueryClient:
        """The session's client, created lazily. Called on the session's loop only."""
        if self._client is None:
            self._client = self._client_factory()
            self._client_state = "created"
            self._first_connect.reset()
        return self._client

    @property
    def client_state(self) -> ClientState:
        return self._client_state

    def call(self, make_coro: Callable[[QueryClient], object], timeout: float) -> object:
        """Run ``make_coro(client)`` on the session loop and wait for its result."""
        self.ensure_loop()
        self.touch()
        return self._loop.call(self._with_client(make_coro), timeout=timeout)

    def start(self, make_coro: Callable[[QueryClient], object]
              ) -> concurrent.futures.Future[object]:
        """Run ``make_coro(client)`` on the session loop without waiting: its future."""
        self.ensure_loop()
        self.touch()
        return self._loop.submit(self._with_client(make_coro))

    async def _with_client(self, make_coro: Callable[[QueryClient], object]) -> object:
        client = self._client_on_loop()
        await self._first_connect.pass_through(client)
        return await make_coro(client)  # type: ignore[misc]

    def reset_client(self) -> None:
        """Close this session's client; the next query creates a fresh one."""
        with self._lock:
            self.ensure_loop()
            self._close_client()
            self._client_state = "none"

    def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        self._client_state = "closed"
        try:
            self._loop.call(_aclose(client, self._limits.close_timeout_s),
                            timeout=self._limits.close_timeout_s + 1)
        except Exception:
            log.warning("session %s: client did not close in time; terminating",
                        self.token[:8])
            _safe_terminate(client)

    def _terminate_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._client_state = "closed"
            _safe_terminate(client)

    # --- runs ---------------------------------------------------------------------------
    def submit(self, requests: list[QueryRequest], policy: ExecutionPolicy) -> SubmitResult:
        """Queue a batch and return at once; the batch runs on the session's loop.

        Raises ``ConsoleInputError`` (nothing queued) when the session already has
        ``max_queued`` runs waiting for a free slot."""
        with self._lock:
            restarted = self.ensure_loop()
            self.touch()
            waiting = self.book.queued_count()
            if waiting + len(requests) > self._limits.max_queued:
                raise input_error(
                    f"This session has {waiting} quer{'y' if waiting == 1 else 'ies'} waiting "
                    f"for a free slot; {len(requests)} more would pass the limit of "
                    f"{self._limits.max_queued} waiting queries (max_queued). Nothing was run.",
                    title="Too many queued queries",
                    hint="Wait for the running queries to finish, or cancel some, then run "
                    "again.",
                )
            records = self.book.add_batch(requests)
            with self._owned_lock:
                self._owned_runs.update(r.run_id for r in records)
            self.query_count += len(records)
            future = self._loop.submit(self._runner.run_batch(
                self._client_on_loop, records, replace(policy, first_connect=self._first_connect)
            ))
            future.add_done_callback(self._batch_done)
            return SubmitResult(records=records, future=future, loop_restarted=restarted)

    def _batch_done(self, future: concurrent.futures.Future[None]) -> None:
        # A batch that just finished counts as use: the reaper must not take the session
        # before its user has had the chance to look at the results.
        self.touch()
        with self._owned_lock:  # the snapshot inside: a batch added meanwhile stays owned
            self._owned_runs &= {r.run_id for r in self.book.active()}
        if not future.cancelled() and future.exception() is not None:
            # Only a bug in the runner gets here (each run records its own failure).
            log.error("session %s: a batch failed", self.token[:8],
                      exc_info=future.exception())

    def cancel(self, run_ids: list[int] | None = None) -> int:
        """Cancel the given runs, or all active ones. Returns how many were asked to stop."""
        ids = run_ids if run_ids is not None else [r.run_id for r in self.book.active()]
        ids = [i for i in ids if (rec := self.book.get(i)) is not None and rec.active]
        if ids and self._loop.alive:
            self._runner.cancel(self._loop.loop, ids)
        return len(ids)

    @property
    def busy(self) -> bool:
        return bool(self.book.active())

    def status(self, now: float | None = None) -> RuntimeStatus:
        now = time.monotonic() if now is None else now
        return RuntimeStatus(
            token=self.token,
            loop_alive=self._loop.alive,
            loop_restarts=self.loop_restarts,
            client_state=self._client_state,
            query_count=self.query_count,
            active_runs=len(self.book.active()),
            idle_s=max(0.0, now - self.last_used),
            created_s_ago=max(0.0, now - self.created_at),
        )

    # --- end ----------------------------------------------------------------------------
    def close(self) -> None:
        """Cancel runs, close the client, stop the loop and join its thread. Idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self._loop.alive:
                self.cancel()
                self._close_client()
            else:
                self._terminate_client()
            self._loop.stop(timeout=self._limits.close_timeout_s + 3)
            self._end_owned_runs(SESSION_CLOSED, "cancelled")


async def _aclose(client: QueryClient, timeout: float) -> None:
    try:
        await asyncio.wait_for(client.aclose(), timeout)
    except (TimeoutError, Exception):
        _safe_terminate(client)


def _safe_terminate(client: QueryClient) -> None:
    with contextlib.suppress(Exception):  # best effort on a client we are abandoning
        client.terminate()


@dataclass(frozen=True)
class RegistryTotals:
    sessions: int
    live_loops: int
    clients: int
    active_runs: int
    queries: int
    reaped: int
    released: int


RuntimeBuilder = Callable[[str], SessionRuntime]


class SessionRegistry:
    """Process-wide map token → ``SessionRuntime``. Thread-safe.

    Lock discipline: ``_lock`` guards the map and the counters only. Building a runtime
    (starting its loop thread) and closing one (joining it, closing a client) happen outside
    the lock, so Streamlit's server thread (``release`` from ``on_release``) never waits on
    them. A runtime handed out by ``get_or_create`` is touched under the lock, so the reaper,
    which picks its victims under the same lock, cannot take it in between."""

    def __init__(self, reap_interval_s: float | None = 30.0,
                 idle_threshold_s: float = 300.0) -> None:
        self._lock = threading.Lock()
        self._runtimes: dict[str, SessionRuntime] = {}
        self._reaped = 0
        self._released = 0
        self.idle_threshold_s = idle_threshold_s
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        if reap_interval_s is not None:
            self._reaper = threading.Thread(
                target=self._reap_forever, args=(reap_interval_s,), name="ecc-reaper",
                daemon=True,
            )
            self._reaper.start()
        atexit.register(self.close_all)

    def get_or_create(self, token: str, build: RuntimeBuilder) -> SessionRuntime:
        with self._lock:
            runtime = self._runtimes.get(token)
            if runtime is not None and not runtime.closed:
                runtime.touch()
                return runtime
        fresh: SessionRuntime | None = build(token)
        with self._lock:
            runtime = self._runtimes.get(token)
            if runtime is None or runtime.closed:
                assert fresh is not None
                runtime, fresh = fresh, None
                self._runtimes[token] = runtime
            runtime.touch()
        if fresh is not None:  # another thread built one for this token first: it wins
            fresh.close()
        return runtime

    def get(self, token: str) -> SessionRuntime | None:
        with self._lock:
            return self._runtimes.get(token)

    def release(self, token: str, *, wait: bool = False) -> threading.Thread | None:
        """Drop a session now (its browser disconnected). Its loop and client are closed on a
        helper thread, so the caller (Streamlit's server thread) never blocks on the database.
        Its history stays with the browser session (``st.session_state``)."""
        with self._lock:
            runtime = self._runtimes.pop(token, None)
            if runtime is not None:
                self._released += 1
        if runtime is None:
            return None
        closer = threading.Thread(target=runtime.close, name=f"ecc-close-{token[:8]}",
                                  daemon=True)
        closer.start()
        if wait:
            closer.join()
        return closer

    def reap_idle(self, now: float, threshold_s: float, *, keep: str | None = None) -> list[str]:
        """Close every runtime idle longer than ``threshold_s`` with no active run.
        ``keep`` (the caller's own token) is never reaped. Returns the reaped tokens."""
        with self._lock:
            victims = [
                rt for token, rt in self._runtimes.items()
                if token != keep and now - rt.last_used > threshold_s and not rt.busy
            ]
            for rt in victims:
                del self._runtimes[rt.token]
            self._reaped += len(victims)
        for rt in victims:
            rt.close()
        return [rt.token for rt in victims]

    def _reap_forever(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.reap_idle(time.monotonic(), self.idle_threshold_s)
            except Exception:
                log.exception("reaper pass failed")

    def totals(self) -> RegistryTotals:
        with self._lock:
            runtimes = list(self._runtimes.values())
            reaped, released = self._reaped, self._released
        return RegistryTotals(
            sessions=len(runtimes),
            live_loops=sum(rt.loop.alive for rt in runtimes),
            clients=sum(rt.client_state == "created" for rt in runtimes),
            active_runs=sum(len(rt.book.active()) for rt in runtimes),
            queries=sum(rt.query_count for rt in runtimes),
            reaped=reaped,
            released=released,
        )

    def close_all(self) -> None:
        """Close everything (process exit, tests). Stops the reaper."""
        self._stop.set()
        with self._lock:
            runtimes = list(self._runtimes.values())
            self._runtimes.clear()
        for rt in runtimes:
            rt.close()
        if self._reaper is not None and self._reaper is not threading.current_thread():
            self._reaper.join(timeout=5)
        atexit.unregister(self.close_all)
