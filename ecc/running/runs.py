"""A session's runs: every query it submitted, its live status, its outcome, its history.

Lifecycle of one run::

    queued ──> running ──> done
       │           ├─────> failed      (the driver or our checks raised)
       │           ├─────> timed out   (server query_execution_timeout or client bound)
       └───────────┴─────> cancelled   (the user, or the session closing)

Threads: the ``RunBook`` is written by the session's loop thread and read by the script
thread; every access holds ``_lock`` and readers get immutable ``RunRecord`` snapshots.
Memory: at most ``history_size`` records, and only the newest ``max_kept_results`` keep their
result value; older ones keep their metadata (query, arguments, status, timings, row count).
A result whose estimated size passes ``max_kept_bytes`` is never kept: its run records
``not_kept`` (rows, the size counted, the budget) for the page to say why.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

import gel.errors

from ecc.display.results import ResultNotKept, ShapedResult, shape_result, within_byte_budget
from ecc.driver.client import QueryClient
from ecc.driver.errors import ErrorView, error_view
from ecc.driver.execute import ExecutionPolicy, PhaseClock, QueryRequest, execute

log = logging.getLogger("ecc.running.runs")

RunStatus = Literal["queued", "running", "done", "failed", "cancelled", "timed out"]
ACTIVE: frozenset[RunStatus] = frozenset({"queued", "running"})


@dataclass(frozen=True)
class RunPhases:
    """Where a run's time went, in seconds; None for a phase it did not reach (or, for
    ``describe``, one it skips: without read-only there is no guard)."""

    queued_s: float | None = None  # waiting for a free slot (max_running)
    describe_s: float | None = None  # the read-only guard: the server describes the query
    execute_s: float | None = None  # the server's work, connection acquisition included
    shape_s: float | None = None  # keeping rows for display (shape_result)

    LABELS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("queued_s", "queued"), ("describe_s", "describe"), ("execute_s", "server"),
        ("shape_s", "shaping"))

    def items(self) -> list[tuple[str, float]]:
        """(label, seconds) of the phases recorded, in order."""
        out = []
        for name, label in self.LABELS:
            value = getattr(self, name)
            if value is not None:
                out.append((label, value))
        return out

    @classmethod
    def from_seconds(cls, seconds: dict[str, float], queued_s: float | None) -> RunPhases:
        return cls(queued_s=queued_s, describe_s=seconds.get("describe"),
                   execute_s=seconds.get("execute"), shape_s=seconds.get("shape"))


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    batch_id: int
    request: QueryRequest
    status: RunStatus
    submitted_wall: float  # time.time(), for display
    submitted_at: float  # time.monotonic()
    started_at: float | None = None
    finished_at: float | None = None
    result: ShapedResult | None = None
    result_dropped: bool = False  # the result aged out of memory; metadata stays
    not_kept: ResultNotKept | None = None  # the result was over max_kept_bytes: never kept
    rows: int | None = None
    error: ErrorView | None = None
    phases: RunPhases = RunPhases()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def elapsed_s(self, now: float | None = None) -> float | None:
        """Running time: from start to finish, or to ``now`` while still running."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else (now or time.monotonic())
        return max(0.0, end - self.started_at)




class RunBook:
    def __init__(self, history_size: int = 100, max_kept_results: int = 20) -> None:
        self._lock = threading.Lock()
        self._records: OrderedDict[int, RunRecord] = OrderedDict()
        self._ids = itertools.count(1)
        self._batches = itertools.count(1)
        self._history_size = history_size
        self._max_kept_results = max_kept_results
        # Signalled on every write (``_version`` bumps with it): a page run streaming results
        # sleeps on it instead of polling. Shares ``_lock``, so a version and the records it
        # describes are read together.
        self._changed = threading.Condition(self._lock)
        self._version = 0

    # --- writes -------------------------------------------------------------------------
    def add_batch(self, requests: Iterable[QueryRequest]) -> list[RunRecord]:
        now, wall = time.monotonic(), time.time()
        with self._lock:
            batch_id = next(self._batches)
            added = [
                RunRecord(
                    run_id=next(self._ids),
                    batch_id=batch_id,
                    request=request,
                    status="queued",
                    submitted_wall=wall,
                    submitted_at=now,
                )
                for request in requests
            ]
            for record in added:
                self._records[record.run_id] = record
            self._trim()
            self._bump()
            return added

    def mark_running(self, run_id: int) -> None:
        self._update(run_id, status="running", started_at=time.monotonic())

    def finish(
        self,
        run_id: int,
        status: RunStatus,
        *,
        result: ShapedResult | None = None,
        error: ErrorView | None = None,
        phases: dict[str, float] | None = None,
        not_kept: ResultNotKept | None = None,
    ) -> None:
        now = time.monotonic()
        with self._lock:
            record = self._records.get(run_id)
            if record is None or not record.active:
                return  # cleared meanwhile, or already finished (first outcome wins)
            self._records[run_id] = replace(
                record,
                status=status,
                started_at=record.started_at if record.started_at is not None else now,
                finished_at=now,
                result=result,
                rows=result.total_rows if result is not None else (
                    not_kept.rows if not_kept is not None else None),
                not_kept=not_kept,
                error=error,
                phases=RunPhases.from_seconds(
                    phases or {},
                    None if record.started_at is None else record.started_at - record.submitted_at,
                ),
            )
            self._trim()
            self._bump()

    def end_active(self, error: ErrorView, status: RunStatus = "failed",
                   only: Iterable[int] | None = None) -> int:
        """Give every queued/running run (of ``only``, when given) a final ``status``: its loop
        died ("failed") or its runtime closed ("cancelled"). Returns how many."""
        owned = None if only is None else set(only)
        with self._lock:
            ids = [r.run_id for r in self._records.values()
                   if r.active and (owned is None or r.run_id in owned)]
        for run_id in ids:
            self.finish(run_id, status, error=error)
        return len(ids)

    def clear(self) -> int:
        """Forget finished runs; running ones stay. Returns how many were removed."""
        with self._lock:
            finished = [k for k, r in self._records.items() if not r.active]
            for key in finished:
                del self._records[key]
            self._bump()
            return len(finished)

    def _update(self, run_id: int, **changes: object) -> None:
        with self._lock:
            record = self._records.get(run_id)
            if record is None or not record.active:
                return
            self._records[run_id] = replace(record, **changes)  # type: ignore[arg-type]
            self._bump()

    def _trim(self) -> None:
        """Caller holds the lock. Bound the history and the results kept in memory."""
        while len(self._records) > self._history_size:
            oldest = next((k for k, r in self._records.items() if not r.active), None)
            if oldest is None:
                break
            del self._records[oldest]
        kept = 0
        for key in reversed(self._records):
            record = self._records[key]
            if record.result is None:
                continue
            kept += 1
            if kept > self._max_kept_results:
                self._records[key] = replace(record, result=None, result_dropped=True)

    def _bump(self) -> None:
        """Caller holds the lock. Wake every ``wait_for_change`` waiter."""
        self._version += 1
        self._changed.notify_all()

    # --- reads --------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Bumps on every write; pass it to ``wait_for_change``."""
        with self._lock:
            return self._version

    def wait_for_change(self, since_version: int, timeout: float) -> int:
        """Block until a write newer than ``since_version`` (or ``timeout`` seconds).
        Returns the version now: equal to ``since_version`` when nothing changed."""
        with self._changed:
            self._changed.wait_for(lambda: self._version != since_version,
                                   timeout=max(0.0, timeout))
            return self._version

    def get(self, run_id: int) -> RunRecord | None:
        with self._lock:
            return self._records.get(run_id)

    def newest_first(self) -> list[RunRecord]:
        with self._lock:
            return list(reversed(self._records.values()))

    def active(self) -> list[RunRecord]:
        with self._lock:
            return [r for r in self._records.values() if r.active]

    def queued_count(self) -> int:
        with self._lock:
            return sum(r.status == "queued" for r in self._records.values())

    def batch(self, batch_id: int) -> list[RunRecord]:
        with self._lock:
            return [r for r in self._records.values() if r.batch_id == batch_id]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


def outcome_status(exc: BaseException) -> RunStatus:
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    if isinstance(exc, TimeoutError | gel.errors.QueryTimeoutError):
        return "timed out"
    return "failed"


RECORDING_FAILED = ErrorView(
    kind="internal",
    title="Internal error",
    message="The console could not record this query's outcome; the server logs say why. "
    "Run the query again.",
    retryable=True,
)


class BatchRunner:
    """Runs a session's batches on its loop. One instance per session, used on its loop only
    (except ``cancel``, which hops onto the loop)."""

    def __init__(
        self,
        book: RunBook,
        max_running: int,
        max_kept_rows: int,
        secrets: tuple[str, ...] = (),
        task_prefix: str = "ecc",
        max_kept_bytes: int | None = None,
        slots: asyncio.Semaphore | None = None,
    ) -> None:
        self.book = book
        self._max_running = max_running
        self._max_kept_rows = max_kept_rows
        self._max_kept_bytes = max_kept_bytes  # None: results are bounded by rows only
        self._secrets = secrets
        self._task_prefix = task_prefix
        # The session's max_running slots; shared with another runner of the same session
        # (the data explorer's) when given, else created on the loop that uses it.
        self._semaphore: asyncio.Semaphore | None = slots
        self._tasks: dict[int, asyncio.Task[None]] = {}
        # Runs whose cancel arrived before their task existed (cancel right after submit).
        self._cancel_requested: set[int] = set()
        self._closing = False  # set on the loop by ``cancel_all``: every later task is cancelled

    async def run_batch(
        self,
        client_factory: Callable[[], QueryClient],
        records: list[RunRecord],
        policy: ExecutionPolicy,
    ) -> None:
        """Run one submission as an ``asyncio.TaskGroup``: one named task per query.

        Each task turns its own ``Exception`` into a failed run, so one failing query never
        cancels its siblings (a TaskGroup would); only a bug in this method itself can
        raise out of the group, as an ``ExceptionGroup`` the caller logs and reports.
        """
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._max_running)
        async with asyncio.TaskGroup() as group:
            for record in records:
                name = f"{self._task_prefix}:batch{record.batch_id}:{record.request.name}"
                task = group.create_task(
                    self._run_one(client_factory, record, policy), name=name
                )
                self._tasks[record.run_id] = task
                task.add_done_callback(functools.partial(self._task_done, record))
                if record.run_id in self._cancel_requested or self._closing:
                    self._cancel_requested.discard(record.run_id)
                    task.cancel()

    def _task_done(self, record: RunRecord, task: asyncio.Task[None]) -> None:
        self._tasks.pop(record.run_id, None)
        if task.cancelled():
            # Cancelled before its first step: ``_run_one`` never ran, so record it here
            # (a no-op when ``_run_one`` already did: the first outcome wins).
            view = error_view(asyncio.CancelledError(), subject=record.request.name)
            self.book.finish(record.run_id, "cancelled", error=view)

    async def _run_one(
        self,
        client_factory: Callable[[], QueryClient],
        record: RunRecord,
        policy: ExecutionPolicy,
    ) -> None:
        """Run one query and record its outcome. Never raises: a child that raised would make
        the TaskGroup cancel its siblings. Invariant: the run ends in a final state, even when
        recording the outcome fails (the ``finally``; ``finish`` keeps the first outcome)."""
        try:
            await self._run_and_record(client_factory, record, policy)
        except Exception:
            log.exception("run %s: recording its outcome failed", record.run_id)
        finally:
            try:
                self.book.finish(record.run_id, "failed", error=RECORDING_FAILED)
            except Exception:
                log.exception("run %s: could not be marked failed", record.run_id)

    async def _run_and_record(
        self,
        client_factory: Callable[[], QueryClient],
        record: RunRecord,
        policy: ExecutionPolicy,
    ) -> None:
        assert self._semaphore is not None
        request = record.request
        clock = PhaseClock()
        try:
            async with self._semaphore:
                self.book.mark_running(record.run_id)
                raw = await execute(client_factory(), request, policy, clock)
                shaped = shape_result(raw, request.method, self._max_kept_rows,
                                      policy.row_limit_for(request.method))
                kept = shaped if self._max_kept_bytes is None else \
                    within_byte_budget(shaped, self._max_kept_bytes)
                clock.lap("shape")
            if isinstance(kept, ResultNotKept):
                self.book.finish(record.run_id, "done", not_kept=kept, phases=clock.seconds)
            else:
                self.book.finish(record.run_id, "done", result=kept, phases=clock.seconds)
        except (Exception, asyncio.CancelledError) as exc:
            # A cancelled child ends quietly: the TaskGroup ignores cancelled children, and
            # its siblings keep running.
            view = policy.server_privacy.apply(error_view(
                exc, query=request.query, subject=request.name, timeout_s=policy.timeout_s
            ).scrubbed(self._secrets))
            self.book.finish(record.run_id, outcome_status(exc), error=view,
                             phases=clock.seconds)

    def cancel(self, loop: asyncio.AbstractEventLoop, run_ids: Iterable[int]) -> None:
        """Cancel runs from any thread. Unknown or finished ids are ignored."""
        ids = list(run_ids)

        def _cancel() -> None:
            for run_id in ids:
                task = self._tasks.get(run_id)
                if task is not None:
                    task.cancel()
                elif (record := self.book.get(run_id)) is not None and record.active:
                    # Submitted but its batch has not started on the loop yet.
                    self._cancel_requested.add(run_id)

        loop.call_soon_threadsafe(_cancel)

    def cancel_all(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel every task, and every task of a batch that has not started yet, from any
        thread: the session is closing. The caller records why the runs end first (the
        first outcome wins over the "cancelled" each task would record)."""

        def _cancel() -> None:
            self._closing = True
            for task in list(self._tasks.values()):
                task.cancel()

        loop.call_soon_threadsafe(_cancel)
