"""Per-session runtime (loop thread + client) and the process-wide registry of them.

Ownership (who closes what):
- ``SessionRegistry`` creates every ``SessionRuntime`` and is the only one that closes them,
  always the same way (drop it from the map under the lock, then ``SessionRuntime.close()``
  outside it), for three reasons: ``release(token)`` (a browser session disconnected: Streamlit's
  ``on_release``), ``reap_idle(now, threshold)`` (the reaper thread, or a user's "Release idle
  resources"), ``close_all()`` (process exit, via ``atexit``).
- A disconnect is not an end: Streamlit calls ``on_release`` on every websocket drop, and the
  browser usually reconnects to the same session within a second. So ``release`` closes an
  idle runtime at once (coming back builds a new one) but only marks a busy one
  release-pending: its runs keep going; it closes when its last run ends, or when the reaper
  finds it pending longer than ``release_grace_s`` (Streamlit's ``disconnectedSessionTTL``).
  ``get_or_create`` for a pending token (the browser came back) takes the mark away.
- A ``SessionRuntime`` owns its ``SessionLoop`` and the clients created on that loop: one for
  the connection's branch, and one per other branch the session used (at most
  ``max_branch_clients``, least recently used closed first; one with a batch in flight is
  closed when its batches end). Closing it records why its runs end (``SESSION_CLOSED``), then
  cancels them, closes every client (bounded ``aclose``, else ``terminate``) and ends the
  loop thread.
- The ``RunBook`` (history and results) belongs to the browser session, not to the runtime:
  the page keeps it in ``st.session_state`` (which survives reconnects) and hands it to each
  runtime it builds. Closing a runtime for any reason loses no history; a runtime marks only
  the runs it started itself, so a runtime built for a reconnecting browser is never touched
  by the old one's close.

Invariants: two tokens never share a loop or a client; a runtime with active runs is never
reaped as idle, and a disconnect never closes it; the client is created on, and only used
from, its session's loop.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from ecc.driver.client import FirstConnectGate, QueryClient
from ecc.driver.errors import ErrorView, input_error
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.running.loop import LoopStoppedError, SessionLoop
from ecc.running.runs import BatchRunner, RunBook, RunRecord, RunStatus

log = logging.getLogger("ecc.running.sessions")

ClientFactory = Callable[[], QueryClient]
BranchClientFactory = Callable[[str], QueryClient]  # a client on the named branch
ClientState = Literal["none", "created", "closed"]
# The data explorer's own book: a few recent pages and counts, never the user's history.
EXPLORER_HISTORY = 8
EXPLORER_KEPT_RESULTS = 4


@dataclass(frozen=True)
class RuntimeLimits:
    max_running: int = 8
    max_kept_rows: int = 100_000
    max_kept_bytes: int = 20_000_000
    max_kept_results: int = 20
    history_size: int = 100
    max_queued: int = 40
    close_timeout_s: float = 2.0
    # Clients kept for branches other than the connection's (each a pool of at most
    # max_running + 1 connections); the least recently used idle one is closed past it.
    max_branch_clients: int = 2


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
    branch_clients: tuple[str, ...] = ()  # branches with a client open, least recent first


@dataclass
class _BranchClient:
    """A client on one branch other than the connection's, created on the session's loop.
    ``batches`` in flight on it keep it from being closed; ``gate`` is its first connection's."""

    client: QueryClient | None = None
    gate: FirstConnectGate = field(default_factory=FirstConnectGate)
    batches: int = 0


@dataclass(frozen=True)
class SubmitResult:
    records: list[RunRecord]
    future: concurrent.futures.Future[None]
    loop_restarted: bool  # the previous loop had died; the page says so


SESSION_CLOSED = ErrorView(
    kind="cancelled",
    title="Session closed",
    message="The session was closed (the browser left and did not come back, or the server "
    "stopped) before the query finished. Run it again.",
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
        branch_client_factory: BranchClientFactory | None = None,
    ) -> None:
        self.token = token
        self._client_factory = client_factory
        self._branch_client_factory = branch_client_factory
        # Branch -> its client, least recently used first. Guarded by ``_branch_lock`` (the
        # script thread adds entries at submit, the loop thread creates and drops clients).
        self._branches: OrderedDict[str, _BranchClient] = OrderedDict()
        self._branch_lock = threading.Lock()
        # Evicted clients still closing on the loop: terminated if the runtime closes first.
        # Guarded by ``_branch_lock``.
        self._retiring: set[QueryClient] = set()
        self._limits = limits
        self._secrets = secrets
        self._lock = threading.RLock()
        self.book = book if book is not None else RunBook(limits.history_size,
                                                          limits.max_kept_results)
        # The data explorer's runs (pages and counts): the same guard, timeouts, row limits
        # and max_running slots as queries, but their own small book, so paging never pushes
        # the user's results out of the history.
        self.explorer_book = RunBook(EXPLORER_HISTORY, EXPLORER_KEPT_RESULTS)
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
        # Called (on the loop thread) when a batch ends and none of this runtime's runs is
        # active any more; the registry closes a release-pending runtime there.
        self.on_idle: Callable[[SessionRuntime], None] | None = None

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
        """The session's runner; the explorer's runner is made with it and shares its
        max_running slots (one semaphore per loop)."""
        slots = asyncio.Semaphore(self._limits.max_running)
        self._explorer_runner = self._runner_for(self.explorer_book, "-explore", slots)
        return self._runner_for(self.book, "", slots)

    def _runner_for(self, book: RunBook, suffix: str, slots: asyncio.Semaphore) -> BatchRunner:
        return BatchRunner(
            book,
            max_running=self._limits.max_running,
            max_kept_rows=self._limits.max_kept_rows,
            max_kept_bytes=self._limits.max_kept_bytes,
            secrets=self._secrets,
            task_prefix=f"ecc-{self.token[:8]}{suffix}",
            slots=slots,
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
            self.explorer_book.end_active(LOOP_DIED)
            self._terminate_client()
            self._loop.stop(timeout=1.0)
            self._loop = self._new_loop()
            self._runner = self._new_runner()
            self.loop_restarts += 1
            return True

    # --- client -------------------------------------------------------------------------
    def _client_on_loop(self, branch: str | None = None) -> QueryClient:
        """The session's client on ``branch`` (None: the connection's), created lazily.
        Called on the session's loop only."""
        if branch is not None:
            return self._branch_client_on_loop(branch)
        if self._client is None:
            self._client = self._client_factory()
            self._client_state = "created"
            self._first_connect.reset()
        return self._client

    # --- branch clients -------------------------------------------------------------------
    def _branch_entry(self, branch: str) -> _BranchClient:
        """Caller holds ``_branch_lock``. The branch's entry, made most recently used."""
        if self._branch_client_factory is None:
            raise input_error(f"This console cannot switch to branch {branch[:80]!r}.",
                              title="Branch not allowed")
        entry = self._branches.get(branch)
        if entry is None:
            entry = self._branches[branch] = _BranchClient()
        self._branches.move_to_end(branch)
        return entry

    def _branch_client_on_loop(self, branch: str) -> QueryClient:
        with self._branch_lock:
            entry = self._branch_entry(branch)
            if entry.client is None:
                assert self._branch_client_factory is not None
                entry.client = self._branch_client_factory(branch)
                entry.gate.reset()
            client = entry.client
            evicted = self._evict_over_budget()
        self._retire(evicted)
        return client

    def _gate(self, branch: str | None) -> FirstConnectGate:
        if branch is None:
            return self._first_connect
        with self._branch_lock:
            return self._branch_entry(branch).gate

    def _evict_over_budget(self) -> list[QueryClient]:
        """Caller holds ``_branch_lock``. Drop the least recently used idle branch clients past
        ``max_branch_clients``; a branch with a batch in flight stays until it ends."""
        evicted: list[QueryClient] = []
        budget = self._limits.max_branch_clients
        for branch in list(self._branches):
            if len(self._branches) <= budget:
                break
            entry = self._branches[branch]
            if entry.batches:
                continue
            del self._branches[branch]
            if entry.client is not None:
                evicted.append(entry.client)
        return evicted

    def _retire(self, clients: list[QueryClient]) -> None:
        """Close evicted clients on the loop without waiting (bounded ``aclose``)."""
        for client in clients:
            with self._branch_lock:
                self._retiring.add(client)
            try:
                future = self._loop.submit(_aclose(client, self._limits.close_timeout_s))
            except Exception:
                self._retired(client)
                _safe_terminate(client)
                continue
            future.add_done_callback(functools.partial(self._retired, client))

    def _retired(self, client: QueryClient, _future: object = None) -> None:
        with self._branch_lock:
            self._retiring.discard(client)

    def _batch_on_branch_done(self, branch: str) -> None:
        with self._branch_lock:
            entry = self._branches.get(branch)
            if entry is not None:
                entry.batches = max(0, entry.batches - 1)
            evicted = self._evict_over_budget()
        self._retire(evicted)

    @property
    def branch_clients(self) -> tuple[str, ...]:
        """Branches (other than the connection's) with a client open, least recent first."""
        with self._branch_lock:
            return tuple(b for b, e in self._branches.items() if e.client is not None)

    @property
    def client_state(self) -> ClientState:
        return self._client_state

    def call(self, make_coro: Callable[[QueryClient], object], timeout: float, *,
             branch: str | None = None) -> object:
        """Run ``make_coro(client)`` on the session loop and wait for its result; the client
        is ``branch``'s (None: the connection's)."""
        self.ensure_loop()
        self.touch()
        return self._loop.call(self._with_client(make_coro, branch), timeout=timeout)

    def start(self, make_coro: Callable[[QueryClient], object], *, branch: str | None = None
              ) -> concurrent.futures.Future[object]:
        """Run ``make_coro(client)`` on the session loop without waiting: its future."""
        self.ensure_loop()
        self.touch()
        return self._loop.submit(self._with_client(make_coro, branch))

    async def _with_client(self, make_coro: Callable[[QueryClient], object],
                           branch: str | None = None) -> object:
        client = self._client_on_loop(branch)
        await self._gate(branch).pass_through(client)
        return await make_coro(client)  # type: ignore[misc]

    def reset_client(self) -> None:
        """Close this session's client; the next query creates a fresh one."""
        with self._lock:
            self.ensure_loop()
            self._close_client()
            self._client_state = "none"

    def _take_branch_clients(self) -> list[QueryClient]:
        with self._branch_lock:
            clients = [e.client for e in self._branches.values() if e.client is not None]
            self._branches.clear()
        return clients

    def _close_client(self) -> None:
        """Close every client of the session (the connection's branch and the others)."""
        client, self._client = self._client, None
        clients = [c for c in (client, *self._take_branch_clients()) if c is not None]
        if client is not None:
            self._client_state = "closed"
        for each in clients:
            try:
                self._loop.call(_aclose(each, self._limits.close_timeout_s),
                                timeout=self._limits.close_timeout_s + 1)
            except Exception:
                log.warning("session %s: client did not close in time; terminating",
                            self.token[:8])
                _safe_terminate(each)

    def _terminate_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._client_state = "closed"
        for each in [c for c in (client, *self._take_branch_clients()) if c is not None]:
            _safe_terminate(each)

    def _terminate_retiring(self) -> None:
        with self._branch_lock:
            retiring, self._retiring = list(self._retiring), set()
        for client in retiring:
            if not client.is_closed():
                _safe_terminate(client)

    # --- runs ---------------------------------------------------------------------------
    def submit(self, requests: list[QueryRequest], policy: ExecutionPolicy) -> SubmitResult:
        """Queue a batch and return at once; the batch runs on the session's loop, on the
        requests' branch (one branch per submission: the page's).

        Raises ``ConsoleInputError`` (nothing queued) when the session already has
        ``max_queued`` runs waiting for a free slot."""
        return self._queue(requests, policy, explorer=False)

    def explore(self, requests: list[QueryRequest], policy: ExecutionPolicy) -> SubmitResult:
        """Run the data explorer's requests (a page, a count) as a batch: the same path as
        ``submit`` (their branch and globals, read-only guard, timeouts, row limits, the
        max_running slots), recorded in ``explorer_book`` instead of the history. Explorer
        runs never keep a release-pending session alive (they are not the user's)."""
        return self._queue(requests, policy, explorer=True)

    def _queue(self, requests: list[QueryRequest], policy: ExecutionPolicy, *,
               explorer: bool) -> SubmitResult:
        branches = {r.branch for r in requests}
        if len(branches) > 1:
            raise ValueError(f"one submission runs on one branch, not {sorted(map(str, branches))}")
        branch = next(iter(branches), None)
        book = self.explorer_book if explorer else self.book
        with self._lock:
            restarted = self.ensure_loop()
            # Read after ensure_loop: a restarted loop comes with new runners.
            runner = self._explorer_runner if explorer else self._runner
            self.touch()
            waiting = book.queued_count()
            if waiting + len(requests) > self._limits.max_queued:
                raise input_error(
                    f"This session has {waiting} quer{'y' if waiting == 1 else 'ies'} waiting "
                    f"for a free slot; {len(requests)} more would pass the limit of "
                    f"{self._limits.max_queued} waiting queries (max_queued). Nothing was run.",
                    title="Too many queued queries",
                    hint="Wait for the running queries to finish, or cancel some, then run "
                    "again.",
                )
            gate = self._gate(branch)  # refuses a branch this runtime cannot open
            if branch is not None:
                with self._branch_lock:
                    self._branch_entry(branch).batches += 1
            records = book.add_batch(requests)
            if not explorer:
                with self._owned_lock:
                    self._owned_runs.update(r.run_id for r in records)
                self.query_count += len(records)
            future = self._loop.submit(runner.run_batch(
                lambda: self._client_on_loop(branch), records,
                replace(policy, first_connect=gate)
            ))
            if branch is not None:
                future.add_done_callback(lambda _f: self._batch_on_branch_done(branch))
            if not explorer:
                future.add_done_callback(self._batch_done)
            return SubmitResult(records=records, future=future, loop_restarted=restarted)

    def cancel_explorer(self, run_ids: list[int]) -> int:
        """Cancel explorer runs (a count the user stopped, a page left behind)."""
        ids = [i for i in run_ids if (rec := self.explorer_book.get(i)) is not None
               and rec.active]
        if ids and self._loop.alive:
            self._explorer_runner.cancel(self._loop.loop, ids)
        return len(ids)

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
        on_idle = self.on_idle
        if on_idle is not None and not self.busy:
            try:
                on_idle(self)
            except Exception:
                log.exception("session %s: the idle hook failed", self.token[:8])

    def cancel(self, run_ids: list[int] | None = None) -> int:
        """Cancel the given runs, or all active ones. Returns how many were asked to stop."""
        ids = run_ids if run_ids is not None else [r.run_id for r in self.book.active()]
        ids = [i for i in ids if (rec := self.book.get(i)) is not None and rec.active]
        if ids and self._loop.alive:
            self._runner.cancel(self._loop.loop, ids)
        return len(ids)

    @property
    def busy(self) -> bool:
        """A run this runtime started is queued or running (the book may also hold another
        runtime's runs: it belongs to the browser session)."""
        with self._owned_lock:
            owned = set(self._owned_runs)
        return any(r.run_id in owned for r in self.book.active())

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
            branch_clients=self.branch_clients,
        )

    # --- end ----------------------------------------------------------------------------
    def close(self, reason: ErrorView = SESSION_CLOSED) -> None:
        """End runs (with ``reason``), close the client, stop the loop and join its thread.
        Idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            # Why the runs end is recorded before anything is cancelled: a cancelled task
            # records the user's "cancelled", and the first outcome wins.
            self._end_owned_runs(reason, "cancelled")
            self.explorer_book.end_active(reason, "cancelled")
            if self._loop.alive:
                self._runner.cancel_all(self._loop.loop)
                self._explorer_runner.cancel_all(self._loop.loop)
                self._close_client()
            else:
                self._terminate_client()
            self._loop.stop(timeout=self._limits.close_timeout_s + 3)
            self._terminate_retiring()


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
    clients: int  # open clients, every branch's
    active_runs: int
    queries: int
    reaped: int
    released: int
    release_pending: int = 0  # disconnected while busy: kept until their runs end


RuntimeBuilder = Callable[[str], SessionRuntime]


class SessionLimitError(RuntimeError):
    """The process is at ``max_sessions``: this browser session gets no runtime (no loop
    thread, no pool) until another session's is released or reaped. Carries its view."""

    def __init__(self, limit: int) -> None:
        self.view = ErrorView(
            kind="capacity",
            title="Console busy",
            message=f"The console is at its limit of {limit} active sessions; try again in a "
            "minute.",
            hint="Sessions are freed when their browser tab closes or after they sit idle. "
            "An administrator can raise max_sessions in [connections.gel].",
            retryable=True,
        )
        super().__init__(self.view.message)


class SessionRegistry:
    """Process-wide map token → ``SessionRuntime``. Thread-safe.

    Lock discipline: ``_lock`` guards the map and the counters only. Building a runtime
    (starting its loop thread) and closing one (joining it, closing a client) happen outside
    the lock, so Streamlit's server thread (``release`` from ``on_release``) never waits on
    them. A runtime handed out by ``get_or_create`` is touched under the lock, so the reaper,
    which picks its victims under the same lock, cannot take it in between; its
    release-pending mark is taken away under the same lock, so a pending release completing
    (the last run ended) and a browser coming back never both win."""

    def __init__(self, reap_interval_s: float | None = 30.0,
                 idle_threshold_s: float = 300.0, release_grace_s: float = 120.0,
                 max_sessions: int | None = None) -> None:
        self._lock = threading.Lock()
        self._runtimes: dict[str, SessionRuntime] = {}
        # token -> time.monotonic() of the release a busy runtime is waiting out
        self._release_pending: dict[str, float] = {}
        # Process-wide cap on runtimes (each one a loop thread and a client pool); None: none.
        # Set by the page from the settings, like ``idle_threshold_s``. A release-pending
        # runtime still counts: its thread and pool are still there.
        self.max_sessions = max_sessions
        self._reaped = 0
        self._released = 0
        self.idle_threshold_s = idle_threshold_s
        self.release_grace_s = release_grace_s
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None
        if reap_interval_s is not None:
            self._reaper = threading.Thread(
                target=self._reap_forever, args=(reap_interval_s,), name="ecc-reaper",
                daemon=True,
            )
            self._reaper.start()
        atexit.register(self.close_all)

    def get_or_create(self, token: str, build: RuntimeBuilder, *,
                      came_back: bool = True) -> SessionRuntime:
        """The token's runtime, built when it has none. Raises ``SessionLimitError`` when
        building one would pass ``max_sessions`` (checked before building, so a refused
        session never starts a thread, and again when adding it, under the lock).
        ``came_back=False``: the caller is a run of a session whose browser is gone, which
        takes no pending release away (and a runtime built for it is release-pending)."""
        with self._lock:
            runtime = self._runtimes.get(token)
            if runtime is not None and not runtime.closed:
                if came_back:
                    self._release_pending.pop(token, None)  # the browser came back
                runtime.touch()
                return runtime
            refused = self._refusal(token)
        if refused is not None:
            raise refused
        fresh: SessionRuntime | None = build(token)
        with self._lock:
            runtime = self._runtimes.get(token)
            if runtime is None or runtime.closed:
                assert fresh is not None
                refused = self._refusal(token)
                runtime = None if refused is not None else fresh
                if runtime is not None:
                    fresh = None
                    runtime.on_idle = self._runs_ended
                    self._runtimes[token] = runtime
            if runtime is not None:
                if came_back:
                    self._release_pending.pop(token, None)
                else:
                    self._release_pending.setdefault(token, time.monotonic())
                runtime.touch()
        if fresh is not None:  # refused, or another thread built one for this token first
            fresh.close()
        if runtime is None:
            assert refused is not None
            raise refused
        return runtime

    def _refusal(self, token: str) -> SessionLimitError | None:
        """Caller holds the lock. The error when a new runtime for ``token`` would pass
        ``max_sessions`` (the token's own closed runtime, about to be replaced, not counted)."""
        if self.max_sessions is None:
            return None
        live = sum(1 for t, rt in self._runtimes.items() if t != token and not rt.closed)
        if live < self.max_sessions:
            return None
        log.warning("refused a new session: %d of max_sessions = %d are active", live,
                    self.max_sessions)
        return SessionLimitError(self.max_sessions)

    def get(self, token: str) -> SessionRuntime | None:
        with self._lock:
            return self._runtimes.get(token)

    def release(self, token: str, *, wait: bool = False) -> threading.Thread | None:
        """The session's browser disconnected (it may come back). An idle runtime is dropped
        now: its loop and client close on a helper thread (returned), so the caller
        (Streamlit's server thread) never blocks on the database. A busy one is only marked
        release-pending (None returned): it closes when its last run ends, unless
        ``get_or_create`` asks for it first. The history stays with the browser session."""
        with self._lock:
            runtime = self._runtimes.get(token)
            if runtime is None:
                return None
            if runtime.busy:
                self._release_pending.setdefault(token, time.monotonic())
                return None
            self._drop(token)
        return self._close_in_background(runtime, wait=wait)

    def release_pending(self, token: str) -> bool:
        """Whether ``token``'s runtime waits for its runs to end before it closes."""
        with self._lock:
            return token in self._release_pending

    def _runs_ended(self, runtime: SessionRuntime) -> None:
        # The runtime's on_idle hook, on its loop thread: closing it here would join the
        # thread it runs on, hence the helper thread.
        with self._lock:
            token = runtime.token
            if (token not in self._release_pending or self._runtimes.get(token) is not runtime
                    or runtime.busy):
                return
            self._drop(token)
        self._close_in_background(runtime)

    def _drop(self, token: str) -> None:
        """Caller holds the lock: forget a released runtime (closing it is the caller's)."""
        del self._runtimes[token]
        self._release_pending.pop(token, None)
        self._released += 1

    @staticmethod
    def _close_in_background(runtime: SessionRuntime, *, wait: bool = False
                             ) -> threading.Thread:
        closer = threading.Thread(target=runtime.close, name=f"ecc-close-{runtime.token[:8]}",
                                  daemon=True)
        closer.start()
        if wait:
            closer.join()
        return closer

    def reap_idle(self, now: float, threshold_s: float, *, keep: str | None = None) -> list[str]:
        """Close every runtime idle longer than ``threshold_s`` with no active run, and every
        one release-pending for longer than ``release_grace_s`` (its session expired: nobody
        comes back for its runs). ``keep`` (the caller's own token) is never reaped.
        Returns the reaped tokens."""
        with self._lock:
            victims = [
                rt for token, rt in self._runtimes.items()
                if token != keep and (
                    (now - rt.last_used > threshold_s and not rt.busy)
                    or now - self._release_pending.get(token, now) > self.release_grace_s)
            ]
            for rt in victims:
                del self._runtimes[rt.token]
                self._release_pending.pop(rt.token, None)
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
            pending = len(self._release_pending)
        return RegistryTotals(
            sessions=len(runtimes),
            live_loops=sum(rt.loop.alive for rt in runtimes),
            clients=sum(rt.client_state == "created" for rt in runtimes)
            + sum(len(rt.branch_clients) for rt in runtimes),
            active_runs=sum(len(rt.book.active()) for rt in runtimes),
            queries=sum(rt.query_count for rt in runtimes),
            reaped=reaped,
            released=released,
            release_pending=pending,
        )

    def close_all(self) -> None:
        """Close everything (process exit, tests). Stops the reaper."""
        self._stop.set()
        with self._lock:
            runtimes = list(self._runtimes.values())
            self._runtimes.clear()
            self._release_pending.clear()
        for rt in runtimes:
            rt.close()
        if self._reaper is not None and self._reaper is not threading.current_thread():
            self._reaper.join(timeout=5)
        atexit.unregister(self.close_all)
