"""Where each run's time went (RunPhases), and analyze under the read-only guard."""

from __future__ import annotations

import asyncio

import pytest

from ecc.driver.errors import ConsoleInputError
from ecc.driver.execute import ExecutionPolicy, PhaseClock, QueryRequest, execute
from ecc.fake.client import FakeClient
from ecc.running.runs import BatchRunner, RunBook, RunPhases, RunRecord

READ_ONLY = ExecutionPolicy(read_only=True, timeout_s=5.0)
WRITABLE = ExecutionPolicy(read_only=False, timeout_s=5.0)


def run(queries: list[str], client: FakeClient, policy: ExecutionPolicy = READ_ONLY,
        max_running: int = 8) -> list[RunRecord]:
    book = RunBook()
    records = book.add_batch(QueryRequest(name=f"Q{i}", query=q) for i, q in enumerate(queries))
    runner = BatchRunner(book, max_running=max_running, max_kept_rows=1000)
    asyncio.run(runner.run_batch(lambda: client, records, policy))
    done = [book.get(r.run_id) for r in records]
    assert all(r is not None and not r.active for r in done)
    return [r for r in done if r is not None]


def test_a_read_only_run_records_every_phase() -> None:
    (record,) = run(["select sys::_sleep(0.05)"], FakeClient())
    phases = record.phases
    assert record.status == "done"
    assert phases.queued_s is not None and phases.queued_s >= 0
    assert phases.describe_s is not None and phases.describe_s >= 0
    assert phases.execute_s is not None and phases.execute_s >= 0.045
    assert phases.shape_s is not None and phases.shape_s >= 0
    assert [label for label, _ in phases.items()] == ["queued", "describe", "server", "shaping"]
    elapsed = record.elapsed_s()
    assert elapsed is not None
    assert phases.describe_s + phases.execute_s + phases.shape_s <= elapsed + 1e-3


def test_waiting_for_a_slot_is_the_queued_phase() -> None:
    first, second = run(["select sys::_sleep(0.1)", "select sys::_sleep(0.01)"], FakeClient(),
                        max_running=1)
    assert first.phases.queued_s is not None and second.phases.queued_s is not None
    assert second.phases.queued_s >= 0.09 > first.phases.queued_s


def test_without_read_only_there_is_no_describe_phase() -> None:
    (record,) = run(["select 1"], FakeClient(), WRITABLE)
    assert record.phases.describe_s is None
    assert record.phases.execute_s is not None


def test_a_refused_run_keeps_the_phases_it_reached() -> None:
    (record,) = run(["insert Movie {title := 'x'}"], FakeClient())
    assert record.status == "failed"
    assert record.phases.describe_s is None  # the guard raised before its lap
    assert record.phases.execute_s is None
    assert record.phases.queued_s is not None


def test_phases_default_to_nothing_recorded() -> None:
    assert RunPhases().items() == []
    assert RunPhases(execute_s=0.5).items() == [("server", 0.5)]


def test_the_clock_adds_laps_per_phase() -> None:
    clock = PhaseClock()
    clock.lap("a")
    clock.lap("a")
    clock.lap("b")
    assert set(clock.seconds) == {"a", "b"}
    assert all(v >= 0 for v in clock.seconds.values())


def test_analyze_of_a_write_is_refused_in_read_only_mode() -> None:
    client = FakeClient()

    async def go() -> None:
        await execute(client, QueryRequest("Q1", "analyze insert Movie {title := 'x'}"),
                      READ_ONLY)

    with pytest.raises(ConsoleInputError, match="read-only"):
        asyncio.run(go())
    assert client.stats.describes == 1
    assert client.stats.calls == []  # nothing was sent


def test_analyze_of_a_read_runs_and_answers_a_plan() -> None:
    client = FakeClient()
    clock = PhaseClock()

    async def go() -> object:
        return await execute(client, QueryRequest("Q1", "analyze select Movie {title}"),
                             READ_ONLY, clock)

    answer = asyncio.run(go())
    assert isinstance(answer, list) and isinstance(answer[0], str)
    assert '"coarse_grained"' in answer[0]
    assert set(clock.seconds) == {"describe", "execute"}
