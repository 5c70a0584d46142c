"""A session's runs: lifecycle, batches on one loop, cancellation, concurrency, bounded history.

Batches run on a fresh loop per test (``asyncio.run``); a query is held "running" by an async
responder waiting on an ``asyncio.Event`` (the gate), so no test depends on timing to observe a
state.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import gel.errors
import pytest

from ecc.display.results import ShapedResult
from ecc.driver.client import QueryMethod
from ecc.driver.errors import ErrorView
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.fake.client import FakeClient, demo_responder
from ecc.running.runs import BatchRunner, RunBook, RunRecord, outcome_status
from tests.conftest import async_wait_until

POLICY = ExecutionPolicy(read_only=True, timeout_s=5.0)
LOOP_DIED_LIKE = ErrorView(kind="internal", title="Loop stopped", message="the loop died")


def req(query: str, name: str = "Q1", **kwargs: Any) -> QueryRequest:
    return QueryRequest(name=name, query=query, **kwargs)


def gated_client(gate: asyncio.Event, **kwargs: Any) -> FakeClient:
    """A fake whose ``select 'gated'`` queries run until ``gate`` is set."""

    async def answer_when_open(query: str, args: Any, kw: Any) -> Any:
        await gate.wait()
        return ["gated"]

    def respond(query: str, args: Any, kw: Any) -> Any:
        if query == "select 'gated'":
            return answer_when_open(query, args, kw)
        return demo_responder(query, args, kw)

    return FakeClient(respond, **kwargs)


def runner_for(book: RunBook, max_running: int = 8, max_kept_rows: int = 1000,
               **kwargs: Any) -> BatchRunner:
    return BatchRunner(book, max_running=max_running, max_kept_rows=max_kept_rows, **kwargs)


@dataclass
class GatedBatch:
    """A batch under way on the running loop; its ``select 'gated'`` queries wait for ``gate``."""

    gate: asyncio.Event
    fake: FakeClient
    runner: BatchRunner
    records: list[RunRecord]
    task: asyncio.Task[None]


async def start_gated(book: RunBook, requests: list[QueryRequest], *, in_flight: int = 1,
                      **runner_kwargs: Any) -> GatedBatch:
    """Start a batch of ``requests`` on a gated fake; return once ``in_flight`` queries are
    at the server."""
    gate = asyncio.Event()
    fake = gated_client(gate)
    records = book.add_batch(requests)
    runner = runner_for(book, **runner_kwargs)
    task = asyncio.create_task(runner.run_batch(lambda: fake, records, POLICY))
    await async_wait_until(lambda: fake.stats.in_flight == in_flight)
    return GatedBatch(gate, fake, runner, records, task)


def record_of(book: RunBook, run_id: int) -> RunRecord:
    record = book.get(run_id)
    assert record is not None, f"run {run_id} is not in the book"
    return record


def status_of(book: RunBook, run_id: int) -> str:
    return record_of(book, run_id).status


def statuses(book: RunBook, records: list[RunRecord]) -> list[str]:
    return [status_of(book, r.run_id) for r in records]


def shaped(value: Any) -> ShapedResult:
    return ShapedResult(QueryMethod.QUERY, value, None, len(value), len(value))


def run_batch(
    book: RunBook,
    requests: list[QueryRequest],
    client: FakeClient,
    policy: ExecutionPolicy = POLICY,
    **runner_kwargs: Any,
) -> list[RunRecord]:
    records = book.add_batch(requests)
    runner = runner_for(book, **runner_kwargs)
    asyncio.run(runner.run_batch(lambda: client, records, policy))
    return [record_of(book, r.run_id) for r in records]


# --- lifecycle ------------------------------------------------------------------------------
def test_a_run_goes_queued_running_done() -> None:
    book = RunBook()

    async def scenario() -> None:
        gate = asyncio.Event()
        fake = gated_client(gate)
        [record] = book.add_batch([req("select 'gated'")])
        assert status_of(book, record.run_id) == "queued"
        batch = asyncio.create_task(runner_for(book).run_batch(lambda: fake, [record], POLICY))
        await async_wait_until(lambda: status_of(book, record.run_id) == "running")
        running = book.get(record.run_id)
        assert running is not None and running.started_at is not None
        assert running.finished_at is None and running.elapsed_s() is not None
        gate.set()
        await batch
        done = book.get(record.run_id)
        assert done is not None and done.status == "done"
        assert done.result is not None and done.result.value == ["gated"]
        assert done.rows == 1 and done.error is None
        assert done.finished_at is not None and done.started_at is not None
        assert done.finished_at >= done.started_at
        assert not done.active

    asyncio.run(scenario())


def test_a_failing_run_is_failed_with_its_error_view() -> None:
    [record] = run_batch(RunBook(), [req("select Nope")], FakeClient())
    assert record.status == "failed"
    assert record.error is not None
    assert (record.error.kind, record.error.title) == ("query", "InvalidReferenceError")
    assert record.error.subject == "Q1"
    assert record.error.excerpt == "1 | select Nope\n           ^^^^"
    assert record.result is None


def test_a_refused_run_is_failed_with_the_read_only_view() -> None:
    [record] = run_batch(RunBook(), [req("delete Movie")], FakeClient())
    assert record.status == "failed"
    assert record.error is not None and record.error.title == "Refused: read-only mode"


def test_a_server_timeout_is_timed_out() -> None:
    policy = ExecutionPolicy(timeout_s=0.05)
    [record] = run_batch(RunBook(), [req("select sys::_sleep(30)")], FakeClient(), policy)
    assert record.status == "timed out"
    assert record.error is not None
    assert (record.error.kind, record.error.title) == ("timeout", "QueryTimeoutError")


def test_a_cancelled_run_is_cancelled() -> None:
    book = RunBook()

    async def scenario() -> RunRecord:
        batch = await start_gated(book, [req("select 'gated'")])
        batch.runner.cancel(asyncio.get_running_loop(), [batch.records[0].run_id])
        await batch.task
        return record_of(book, batch.records[0].run_id)

    record = asyncio.run(scenario())
    assert record.status == "cancelled"
    assert record.error is not None and record.error.kind == "cancelled"


def test_cancelling_a_queued_run_never_starts_it() -> None:
    book = RunBook()

    async def scenario() -> FakeClient:
        batch = await start_gated(book, [req("select 'gated'"), req("select 2", "Q2")],
                                  max_running=1)
        records = batch.records
        assert statuses(book, records) == ["running", "queued"]
        batch.runner.cancel(asyncio.get_running_loop(), [records[1].run_id])
        await async_wait_until(lambda: status_of(book, records[1].run_id) == "cancelled")
        batch.gate.set()
        await batch.task
        assert statuses(book, records) == ["done", "cancelled"]
        return batch.fake

    fake = asyncio.run(scenario())
    assert [call[1] for call in fake.stats.calls] == ["select 'gated'"]


def test_a_cancel_that_arrives_before_the_batch_starts_is_kept() -> None:
    book = RunBook()
    fake = FakeClient()

    async def scenario() -> None:
        records = book.add_batch([req("select sys::_sleep(30)"), req("select 1", "Q2")])
        runner = runner_for(book)
        runner.cancel(asyncio.get_running_loop(), [records[0].run_id])
        await asyncio.sleep(0)  # the cancel is handled; the batch has no task yet
        await runner.run_batch(lambda: fake, records, POLICY)
        assert statuses(book, records) == ["cancelled", "done"]

    asyncio.run(scenario())
    assert [call[1] for call in fake.stats.calls] == ["select 1"]


def test_a_run_cancelled_before_its_first_step_is_recorded_cancelled() -> None:
    book = RunBook()

    async def scenario() -> list[str]:
        records = book.add_batch([req("select sys::_sleep(30)")])
        runner = runner_for(book)
        batch = asyncio.create_task(runner.run_batch(FakeClient, records, POLICY))
        # Handled on the loop's next turn: after the batch creates the run's task, before
        # that task takes its first step.
        runner.cancel(asyncio.get_running_loop(), [records[0].run_id])
        await batch
        return statuses(book, records)

    assert asyncio.run(scenario()) == ["cancelled"]
    assert book.active() == []


def test_cancel_all_ends_running_runs_and_never_starts_queued_ones() -> None:
    book = RunBook()

    async def scenario() -> FakeClient:
        batch = await start_gated(book, [req("select 'gated'"), req("select 2", "Q2")],
                                  max_running=1)
        batch.runner.cancel_all(asyncio.get_running_loop())
        await batch.task
        # A batch submitted after the close began is cancelled before it starts.
        later = book.add_batch([req("select 3", "Q3")])
        await batch.runner.run_batch(lambda: batch.fake, later, POLICY)
        assert statuses(book, batch.records + later) == ["cancelled"] * 3
        return batch.fake

    fake = asyncio.run(scenario())
    assert [call[1] for call in fake.stats.calls] == ["select 'gated'"]
    assert fake.stats.in_flight == 0


def test_a_reason_recorded_before_cancel_all_is_the_one_kept() -> None:
    """The session closing records why first; the tasks' own "cancelled" comes second and
    the first outcome wins, so the page says the session closed, not that the user cancelled."""
    book = RunBook()
    closed = ErrorView(kind="cancelled", title="Session closed", message="closed")

    async def scenario() -> RunRecord:
        batch = await start_gated(book, [req("select 'gated'")])
        book.end_active(closed, "cancelled")
        batch.runner.cancel_all(asyncio.get_running_loop())
        await batch.task
        assert batch.fake.stats.in_flight == 0
        return record_of(book, batch.records[0].run_id)

    record = asyncio.run(scenario())
    assert (record.status, record.error) == ("cancelled", closed)


def test_errors_are_scrubbed_of_secrets() -> None:
    def leaky(query: str, args: Any, kwargs: Any) -> Any:
        return gel.errors.AuthenticationError("password 's3cret-pw' rejected")

    [record] = run_batch(RunBook(), [req("select 1")], FakeClient(leaky), secrets=("s3cret-pw",))
    assert record.error is not None
    assert record.error.message == "password '***' rejected"


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (asyncio.CancelledError(), "cancelled"),
        (TimeoutError(), "timed out"),
        (gel.errors.QueryTimeoutError("x"), "timed out"),
        (gel.errors.EdgeQLSyntaxError("x"), "failed"),
        (ValueError("x"), "failed"),
    ],
)
def test_outcome_status(exc, status) -> None:
    assert outcome_status(exc) == status


# --- batches --------------------------------------------------------------------------------
def test_failures_in_a_batch_do_not_cancel_their_siblings() -> None:
    answers: dict[str, list[object]] = {"select 'missing'": []}
    requests = [
        req("select Nope", "Q1"),
        req("select sys::_sleep(0.1)", "Q2"),
        req("select 'missing'", "Q3", method=QueryMethod.QUERY_REQUIRED_SINGLE),
    ]
    q1, q2, q3 = run_batch(RunBook(), requests, FakeClient(answers))
    assert (q1.status, q2.status, q3.status) == ("failed", "done", "failed")
    assert q1.error is not None and q1.error.title == "InvalidReferenceError"
    assert q3.error is not None and (q3.error.kind, q3.error.title) == ("result", "NoDataError")
    assert q2.result is not None and q2.result.value == [True] and q2.error is None
    # The survivor finished after both failures: the group did not cancel it.
    assert q1.finished_at and q2.finished_at and q3.finished_at
    assert q2.finished_at > max(q1.finished_at, q3.finished_at)


def test_an_error_inside_the_error_handling_fails_only_that_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Building the error view itself raises: the run still ends failed, its sibling still
    finishes, and the bug is logged rather than swallowed."""
    import ecc.running.runs

    def broken_error_view(exc: BaseException, **_: Any) -> ErrorView:
        raise RuntimeError("bug in the error view")

    monkeypatch.setattr(ecc.running.runs, "error_view", broken_error_view)
    requests = [req("select Nope", "Q1"), req("select sys::_sleep(0.1)", "Q2")]
    q1, q2 = run_batch(RunBook(), requests, FakeClient())
    assert (q1.status, q2.status) == ("failed", "done")
    assert q1.error == ecc.running.runs.RECORDING_FAILED
    assert "recording its outcome failed" in caplog.text


def test_a_failure_while_recording_success_still_ends_the_run(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import ecc.running.runs

    def broken_shape(*args: Any, **kwargs: Any) -> ShapedResult:
        raise RuntimeError("bug in shaping")

    def broken_error_view(exc: BaseException, **_: Any) -> ErrorView:
        raise RuntimeError("and in the error view")

    monkeypatch.setattr(ecc.running.runs, "shape_result", broken_shape)
    monkeypatch.setattr(ecc.running.runs, "error_view", broken_error_view)
    [only] = run_batch(RunBook(), [req("select 1")], FakeClient())
    assert only.status == "failed" and only.finished_at is not None


def test_the_server_is_asked_for_at_most_the_implicit_limit_and_the_cut_is_recorded() -> None:
    client = FakeClient({"select Many": list(range(50))})
    policy = ExecutionPolicy(read_only=True, timeout_s=5.0, implicit_limit=11)
    [record] = run_batch(RunBook(), [req("select Many")], client, policy, max_kept_rows=10)
    assert client.stats.implicit_limits == [("select Many", 11)]
    assert record.result is not None
    assert record.result.more_rows and record.result.kept_rows == 10
    assert record.result.value == list(range(10))


def test_single_methods_ask_for_no_implicit_limit() -> None:
    client = FakeClient({"select One": [7]})
    policy = ExecutionPolicy(read_only=True, timeout_s=5.0, implicit_limit=11)
    [record] = run_batch(RunBook(), [req("select One", method=QueryMethod.QUERY_SINGLE)],
                         client, policy)
    assert client.stats.implicit_limits == [("select One", 0)]
    assert record.result is not None and record.result.value == 7


def test_cancelling_one_run_lets_its_siblings_finish_and_releases_the_connection() -> None:
    book = RunBook()

    async def scenario() -> tuple[list[str], FakeClient, Any]:
        batch = await start_gated(book, [req("select 'gated'", f"Q{i}") for i in range(3)],
                                  in_flight=3)
        fake = batch.fake
        batch.runner.cancel(asyncio.get_running_loop(), [batch.records[1].run_id])
        await async_wait_until(lambda: fake.stats.in_flight == 2)
        batch.gate.set()
        await batch.task
        again = await fake.query("select 7")  # the same client still answers
        return statuses(book, batch.records), fake, again

    final, fake, again = asyncio.run(scenario())
    assert final == ["done", "cancelled", "done"]
    assert fake.stats.in_flight == 0
    assert fake.stats.cancelled == 1
    assert again == [7]


def test_max_running_bounds_the_queries_in_flight_and_queues_the_rest() -> None:
    book = RunBook()

    async def scenario() -> FakeClient:
        batch = await start_gated(book, [req("select 'gated'", f"Q{i}") for i in range(5)],
                                  in_flight=2, max_running=2)
        for _ in range(10):  # let the loop turn: nobody else may start
            await asyncio.sleep(0)
        assert sorted(statuses(book, batch.records)) == ["queued"] * 3 + ["running"] * 2
        assert batch.fake.stats.in_flight == 2
        batch.gate.set()
        await batch.task
        assert statuses(book, batch.records) == ["done"] * 5
        return batch.fake

    fake = asyncio.run(scenario())
    assert fake.stats.max_in_flight == 2


def test_runs_finish_in_completion_order_and_the_batch_takes_the_longest_latency() -> None:
    step = 0.02
    ks = list(range(1, 21))
    random.Random(7).shuffle(ks)
    requests = [req(f"select sys::_sleep({step * k:.2f})", f"Q{k}") for k in ks]
    started = time.monotonic()
    records = run_batch(RunBook(), requests, FakeClient(), max_running=20)
    wall = time.monotonic() - started
    assert all(r.status == "done" for r in records)
    by_finish = sorted(records, key=lambda r: r.finished_at or 0.0)
    assert [r.request.name for r in by_finish] == [f"Q{k}" for k in range(1, 21)]
    longest, total = step * 20, step * sum(ks)
    assert longest <= wall < longest + 0.5 < total


def test_the_client_is_created_per_run_from_the_factory() -> None:
    built: list[FakeClient] = []
    fake = FakeClient()

    def factory() -> FakeClient:
        built.append(fake)
        return fake

    book = RunBook()
    records = book.add_batch([req("select 1"), req("select 2", "Q2")])
    asyncio.run(runner_for(book).run_batch(factory, records, POLICY))
    assert len(built) == 2


# --- the book: history, results kept, clear, fail_active ------------------------------------
def finished_book(count: int, history_size: int = 100, max_kept_results: int = 20) -> RunBook:
    book = RunBook(history_size=history_size, max_kept_results=max_kept_results)
    for i in range(count):
        [record] = book.add_batch([req(f"select {i}", f"Q{i}")])
        book.mark_running(record.run_id)
        book.finish(record.run_id, "done", result=shaped([i, i]))
    return book


def test_history_is_bounded_to_history_size() -> None:
    book = finished_book(12, history_size=5)
    assert len(book) == 5
    assert [r.request.name for r in book.newest_first()] == ["Q11", "Q10", "Q9", "Q8", "Q7"]


def test_only_the_newest_results_stay_in_memory() -> None:
    book = finished_book(6, max_kept_results=2)
    kept = [(r.request.name, r.result is not None, r.result_dropped) for r in book.newest_first()]
    assert kept == [
        ("Q5", True, False),
        ("Q4", True, False),
        ("Q3", False, True),
        ("Q2", False, True),
        ("Q1", False, True),
        ("Q0", False, True),
    ]
    dropped = book.newest_first()[-1]
    assert dropped.rows == 2 and dropped.status == "done"  # metadata stays


def test_history_never_drops_an_active_run() -> None:
    book = RunBook(history_size=3)
    records = book.add_batch([req(f"select {i}", f"Q{i}") for i in range(5)])
    assert len(book) == 5  # all queued: nothing may be dropped
    for record in records[:4]:
        book.finish(record.run_id, "done", result=shaped([1]))
    assert len(book) == 3
    assert book.get(records[4].run_id) is not None


def test_clear_forgets_finished_runs_and_keeps_active_ones() -> None:
    book = finished_book(3)
    [running] = book.add_batch([req("select 'slow'", "slow")])
    book.mark_running(running.run_id)
    assert book.clear() == 3
    assert [r.request.name for r in book.newest_first()] == ["slow"]
    assert status_of(book, running.run_id) == "running"


def test_end_active_fails_queued_and_running_runs_only() -> None:
    book = finished_book(1)
    queued, running = book.add_batch([req("select 1", "queued"), req("select 2", "running")])
    book.mark_running(running.run_id)
    assert book.end_active(LOOP_DIED_LIKE) == 2
    for record in (queued, running):
        after = book.get(record.run_id)
        assert after is not None and after.status == "failed" and after.error == LOOP_DIED_LIKE
    assert book.newest_first()[-1].status == "done"
    assert book.active() == []


def test_the_first_outcome_wins() -> None:
    book = RunBook()
    [record] = book.add_batch([req("select 1")])
    book.finish(record.run_id, "cancelled")
    book.finish(record.run_id, "done", result=shaped([1]))
    book.mark_running(record.run_id)
    after = book.get(record.run_id)
    assert after is not None and after.status == "cancelled" and after.result is None


def test_batches_are_numbered_and_listed() -> None:
    book = RunBook()
    first = book.add_batch([req("select 1"), req("select 2", "Q2")])
    second = book.add_batch([req("select 3")])
    assert first[0].batch_id == first[1].batch_id != second[0].batch_id
    assert [r.run_id for r in book.batch(first[0].batch_id)] == [r.run_id for r in first]
    assert [r.run_id for r in book.batch(second[0].batch_id)] == [second[0].run_id]


def test_end_active_can_be_limited_to_some_runs_and_given_a_status() -> None:
    book = RunBook()
    mine, theirs = book.add_batch([req("select 1", "mine"), req("select 2", "theirs")])
    cancelled = ErrorView(kind="cancelled", title="Cancelled", message="closed")
    assert book.end_active(cancelled, "cancelled", only={mine.run_id}) == 1
    assert status_of(book, mine.run_id) == "cancelled"
    assert status_of(book, theirs.run_id) == "queued"


def test_queued_count_counts_only_runs_waiting_for_a_slot() -> None:
    book = RunBook()
    first, second, third = book.add_batch([req("select 1"), req("select 2"), req("select 3")])
    book.mark_running(first.run_id)
    book.finish(second.run_id, "done", result=shaped([1]))
    assert book.queued_count() == 1
    assert status_of(book, third.run_id) == "queued"


def test_elapsed_runs_from_start_to_finish_or_now() -> None:
    record = RunBook().add_batch([req("select 1")])[0]
    assert record.elapsed_s() is None
    running = replace(record, started_at=10.0)
    assert running.elapsed_s(now=12.5) == 2.5
    assert replace(running, finished_at=11.0).elapsed_s(now=99.0) == 1.0


def test_reads_are_snapshots() -> None:
    book = RunBook()
    [record] = book.add_batch([req("select 1")])
    snapshot: Callable[[], list[RunRecord]] = book.newest_first
    before = snapshot()
    book.finish(record.run_id, "done", result=shaped([1]))
    assert before[0].status == "queued"  # the earlier read did not change under the reader
    assert snapshot()[0].status == "done"
