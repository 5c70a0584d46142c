"""A session's clients per branch: runs and page reads go to the chosen branch's client,
created on the session's loop; at most ``max_branch_clients`` stay open (least recently used
closed first, never one with a batch in flight); a departed session leaves no client behind
on any branch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ecc.driver.errors import ConsoleInputError
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.fake.branches import FakeBranchClients, FakeBranchServer
from ecc.running.runs import RunRecord
from ecc.running.sessions import RuntimeLimits, SessionRegistry, SessionRuntime
from tests.conftest import loop_threads, wait_until

POLICY = ExecutionPolicy(read_only=True, timeout_s=60.0)
BRANCHES = ("main", "b1", "b2", "b3", "b4")


@pytest.fixture
def clients() -> FakeBranchClients:
    return FakeBranchClients(FakeBranchServer(BRANCHES))


@pytest.fixture
def runtime(clients: FakeBranchClients) -> Iterator[SessionRuntime]:
    before = set(loop_threads())
    rt = SessionRuntime("tok-branches", clients.default_factory(),
                        RuntimeLimits(close_timeout_s=1.0, max_branch_clients=2),
                        branch_client_factory=clients)
    yield rt
    rt.close()
    wait_until(lambda: not (set(loop_threads()) - before), what="the loop thread ended")


def run_on(runtime: SessionRuntime, branch: str | None, query: str = "select Movie {title}",
           **request: Any) -> RunRecord:
    submitted = runtime.submit([QueryRequest("Q1", query, branch=branch, **request)], POLICY)
    submitted.future.result(timeout=5)
    record = runtime.book.get(submitted.records[0].run_id)
    assert record is not None
    return record


def titles(record: RunRecord) -> list[str]:
    assert record.status == "done", record.error
    assert record.result is not None
    rows = record.result.value
    assert isinstance(rows, list)
    return [str(row.title) for row in rows]


def test_a_run_on_a_branch_sees_that_branchs_data(runtime, clients) -> None:
    main = titles(run_on(runtime, None))
    staging = titles(run_on(runtime, "b1"))
    assert len(main) == 10 and len(staging) == 3 and staging[0].endswith(" [b1]")
    assert [c.branch for c in clients.built] == ["main", "b1"]
    assert runtime.branch_clients == ("b1",)


def test_branch_clients_are_created_on_the_sessions_loop(runtime, clients) -> None:
    run_on(runtime, "b1")
    assert clients.on_branch("b1")[0].stats.loop is not None
    # the fake raises if a client is used from another loop: a page read reuses the same one
    answer = runtime.call(lambda c: c.query("select Movie {title}"), timeout=5, branch="b1")
    assert len(answer) == 3
    assert len(clients.on_branch("b1")) == 1


def test_at_most_max_branch_clients_stay_open_least_recent_closed(runtime, clients) -> None:
    for branch in ("b1", "b2", "b1", "b3"):
        run_on(runtime, branch)
    # b1 was used again after b2: b2 is the least recently used one, and the one closed
    assert runtime.branch_clients == ("b1", "b3")
    wait_until(lambda: [c.branch for c in clients.built if c.stats.closed] == ["b2"],
               what="the evicted client closed")
    assert [c.branch for c in clients.open_clients()] == ["b1", "b3"]
    assert runtime.status().branch_clients == ("b1", "b3")
    # connections per session: every pool's peak (fake: queries in flight) stays in its bound
    assert max(c.stats.max_in_flight for c in clients.built) <= 1


def test_a_branch_with_a_batch_in_flight_is_never_closed_under_it(runtime, clients) -> None:
    slow = [runtime.submit([QueryRequest("slow", "select sys::_sleep(0.5)", branch=b)], POLICY)
            for b in ("b1", "b2")]
    wait_until(lambda: all(r.status == "running" for r in runtime.book.active()),
               what="both slow runs running")
    run_on(runtime, "b3")
    # over the budget of 2, and b1 and b2 busy: the idle one (b3) is the one closed
    wait_until(lambda: runtime.branch_clients == ("b1", "b2"), what="b3 dropped")
    wait_until(lambda: [c.branch for c in clients.built if c.stats.closed] == ["b3"],
               what="b3's client closed, and only it")
    for submitted in slow:
        submitted.future.result(timeout=5)
        record = runtime.book.get(submitted.records[0].run_id)
        assert record is not None and record.status == "done", record
    assert runtime.branch_clients == ("b1", "b2")


def test_a_departed_session_leaves_no_client_on_any_branch(clients) -> None:
    registry = SessionRegistry(reap_interval_s=None)
    try:
        rt = registry.get_or_create("tok", lambda token: SessionRuntime(
            token, clients.default_factory(), RuntimeLimits(close_timeout_s=1.0,
                                                            max_branch_clients=3),
            branch_client_factory=clients))
        for branch in (None, "b1", "b2", "b3"):
            run_on(rt, branch)
        assert registry.totals().clients == 4  # the default one and three branches'
        closer = registry.release("tok", wait=True)
        assert closer is not None
        assert registry.totals().clients == 0
        assert clients.open_clients() == []
    finally:
        registry.close_all()


def test_an_unknown_branch_fails_as_a_connection_error_and_the_session_goes_on(runtime) -> None:
    failed = run_on(runtime, "nosuchbranch")
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.kind == "connection"
    assert "nosuchbranch" in failed.error.message + (failed.error.details or "")
    assert titles(run_on(runtime, None))


def test_globals_reach_the_branchs_client(runtime, clients) -> None:
    record = run_on(runtime, "b1", "select global default::tenant",
                    globals={"default::tenant": "acme"}, globals_text="default::tenant = acme")
    assert record.status == "done" and record.request.globals_text == "default::tenant = acme"
    assert record.request.branch == "b1"
    assert {"default::tenant": "acme"} in clients.on_branch("b1")[0].stats.globals_seen


def test_a_runtime_without_a_branch_factory_refuses_a_branch(clients) -> None:
    rt = SessionRuntime("tok-plain", clients.default_factory(),
                        RuntimeLimits(close_timeout_s=1.0))
    try:
        with pytest.raises(ConsoleInputError, match="cannot switch to branch"):
            rt.submit([QueryRequest("Q1", "select 1", branch="b1")], POLICY)
        assert len(rt.book) == 0
    finally:
        rt.close()


def test_one_submission_runs_on_one_branch(runtime) -> None:
    with pytest.raises(ValueError, match="one branch"):
        runtime.submit([QueryRequest("Q1", "select 1", branch="b1"),
                        QueryRequest("Q2", "select 1", branch="b2")], POLICY)
