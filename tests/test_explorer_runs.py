"""The explorer's pages and counts run like queries (the session's runner: read-only guard,
timeouts, row limits, max_running) but in their own book; paging edges and what the page
says about the total."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ecc.driver.execute import ExecutionPolicy
from ecc.explorer.paging import count_policy, read_page, total_view
from ecc.explorer.query import build_queries
from ecc.explorer.state import ExplorerState, PropertyFilter
from ecc.fake.client import FakeClient, FakeClientFactory, demo_responder, schema_responder
from ecc.fake.explorer import dataset_schema, explorer_responder, generated_dataset
from ecc.running.runs import RunRecord
from ecc.running.sessions import RuntimeLimits, SessionRuntime
from tests.conftest import loop_threads, wait_until

N = 95
DATASET = generated_dataset(N, 20)
MODEL = dataset_schema(DATASET)
POLICY = ExecutionPolicy(read_only=True, timeout_s=30.0, implicit_limit=1001)


@pytest.fixture()
def runtime() -> Iterator[SessionRuntime]:
    factory = FakeClientFactory(responder=schema_responder(
        MODEL, fallback=explorer_responder(DATASET, demo_responder)))
    rt = SessionRuntime("explorer-test-token", factory, RuntimeLimits(close_timeout_s=1.0))
    before = set(loop_threads())
    yield rt
    rt.close()
    wait_until(lambda: not [t for t in loop_threads() if t not in before and t.is_alive()],
               timeout=10, what="the runtime's loop thread ended")


def finished(rt: SessionRuntime, record: RunRecord) -> RunRecord:
    def done() -> bool:
        now = rt.explorer_book.get(record.run_id)
        return now is not None and not now.active

    wait_until(done, timeout=20, what=f"explorer run {record.run_id} finished")
    final = rt.explorer_book.get(record.run_id)
    assert final is not None
    return final


def page_of(rt: SessionRuntime, state: ExplorerState) -> tuple[list[object], int | None]:
    queries = build_queries(MODEL, state)
    submitted = rt.explore([queries.page, queries.count], POLICY)
    page_run, count_run = (finished(rt, r) for r in submitted.records)
    assert page_run.status == "done", page_run.error
    assert count_run.status == "done", count_run.error
    assert page_run.result is not None and count_run.result is not None
    rows = page_run.result.value
    assert isinstance(rows, list)
    count = count_run.result.value
    assert isinstance(count, list)
    return rows, count[0]


def test_explorer_runs_stay_out_of_the_history(runtime: SessionRuntime) -> None:
    rows, count = page_of(runtime, ExplorerState.of_type("default::Item", 10))
    assert len(rows) == 11 and count == N
    assert len(runtime.book) == 0  # the user's history is untouched
    assert len(runtime.explorer_book) == 2


def test_explorer_runs_pass_the_read_only_guard(runtime: SessionRuntime) -> None:
    page_of(runtime, ExplorerState.of_type("default::Item", 10))
    factory = runtime._client_factory
    assert isinstance(factory, FakeClientFactory)
    client = factory.built[0]
    assert client.stats.describes >= 2  # each text described before it ran
    assert client.stats.transactions >= 2  # and run in a read-only transaction
    assert client.stats.configs and "query_execution_timeout" in client.stats.configs[0]


@pytest.mark.parametrize(("page", "shown", "has_next"), [
    (0, 10, True), (8, 10, True), (9, 5, False), (10, 0, False)])
def test_paging_edges(runtime: SessionRuntime, page: int, shown: int, has_next: bool) -> None:
    state = ExplorerState.of_type("default::Item", 10).at_page(page)
    rows, count = page_of(runtime, state)
    view = read_page(rows, page * 10, 10)
    assert (len(view.rows), view.has_next) == (shown, has_next)
    assert view.has_previous == (page > 0)
    total = total_view(view, None, "not counted")
    if has_next:
        assert total.exact is None and total.at_least == page * 10 + shown
        assert "of more than" in total.caption(view)
    else:
        assert total.exact == (N if shown else page * 10)
    assert total_view(view, count).exact == N


def test_an_empty_filter_result(runtime: SessionRuntime) -> None:
    state = ExplorerState.of_type("default::Item", 10).filtered(
        (PropertyFilter("number", ">", "1000"),))
    rows, count = page_of(runtime, state)
    view = read_page(rows, 0, 10)
    assert rows == [] and count == 0
    assert total_view(view, count).caption(view) == "no objects"


def test_page_size_setting(runtime: SessionRuntime) -> None:
    for size in (1, 7, 200):
        rows, _ = page_of(runtime, ExplorerState.of_type("default::Item", size))
        view = read_page(rows, 0, size)
        assert len(view.rows) == min(size, N) and view.has_next == (size < N)


def test_a_slow_count_is_stopped_by_its_budget() -> None:
    factory = FakeClientFactory(responder=schema_responder(
        MODEL, fallback=explorer_responder(DATASET, demo_responder)), latency_s=0.3)
    rt = SessionRuntime("explorer-budget-token", factory, RuntimeLimits(close_timeout_s=1.0))
    try:
        queries = build_queries(MODEL, ExplorerState.of_type("default::Item", 10))
        budget = count_policy(POLICY, budget_s=0.05)
        assert budget.timeout_s == 0.05 and budget.read_only
        (count_run,) = rt.explore([queries.count], budget).records
        final = finished(rt, count_run)
        assert final.status == "timed out"
        (page_run,) = rt.explore([queries.page], POLICY).records
        assert finished(rt, page_run).status == "done"  # the session keeps working
    finally:
        rt.close()


def test_explorer_and_queries_share_max_running() -> None:
    inner = schema_responder(MODEL, fallback=explorer_responder(DATASET, demo_responder))

    def responder(query: str, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
        if "sys::_sleep" in query:
            return [True]
        return inner(query, args, kwargs)

    factory: Callable[[], FakeClient] = FakeClientFactory(responder=responder)
    rt = SessionRuntime("explorer-slots-token", factory,
                        RuntimeLimits(max_running=1, close_timeout_s=1.0))
    try:
        from ecc.driver.execute import QueryRequest
        (slow,) = rt.submit([QueryRequest("q", "select sys::_sleep(0.5)")], POLICY).records
        wait_until(lambda: (r := rt.book.get(slow.run_id)) is not None and r.status == "running",
                   timeout=10, what="the user's query holds the only slot")
        queries = build_queries(MODEL, ExplorerState.of_type("default::Item", 10))
        (page_run,) = rt.explore([queries.page], POLICY).records
        now = rt.explorer_book.get(page_run.run_id)
        assert now is not None and now.status == "queued"
        assert finished(rt, page_run).status == "done"
        final_slow = rt.book.get(slow.run_id)
        assert final_slow is not None and final_slow.finished_at is not None
        final_page = rt.explorer_book.get(page_run.run_id)
        assert final_page is not None and final_page.started_at is not None
        assert final_page.started_at >= final_slow.finished_at - 0.05
    finally:
        rt.close()


def test_closing_the_session_ends_explorer_runs() -> None:
    factory = FakeClientFactory(responder=schema_responder(
        MODEL, fallback=explorer_responder(DATASET, demo_responder)), latency_s=30)
    rt = SessionRuntime("explorer-close-token", factory, RuntimeLimits(close_timeout_s=1.0))
    queries = build_queries(MODEL, ExplorerState.of_type("default::Item", 10))
    (page_run,) = rt.explore([queries.page], POLICY).records
    rt.close()
    final = rt.explorer_book.get(page_run.run_id)
    assert final is not None and final.status == "cancelled"


def test_explorer_runs_go_to_their_branch_with_their_globals() -> None:
    from dataclasses import replace

    from ecc.fake.client import dataset_responder

    on_branch: dict[str, FakeClient] = {}

    def branch_client(name: str) -> FakeClient:
        on_branch[name] = FakeClient(dataset_responder(N, 20))
        return on_branch[name]

    default = FakeClientFactory(responder=dataset_responder(N, 20))
    rt = SessionRuntime("explorer-branch-token", default, RuntimeLimits(close_timeout_s=1.0),
                        branch_client_factory=branch_client)
    try:
        queries = build_queries(MODEL, ExplorerState.of_type("default::Item", 10))
        stamped = [replace(r, branch="b1", globals={"default::current_user": "ann"})
                   for r in (queries.page, queries.count)]
        page_run, count_run = (finished(rt, r) for r in rt.explore(stamped, POLICY).records)
        assert page_run.status == count_run.status == "done"
        client = on_branch["b1"]
        assert [call[1] for call in client.stats.calls] == [queries.page.query,
                                                           queries.count.query]
        assert client.stats.globals_seen == [{"default::current_user": "ann"}] * 2
        assert not [c for c in default.calls if "$page_offset" in c[1]]  # not the default's
    finally:
        rt.close()
