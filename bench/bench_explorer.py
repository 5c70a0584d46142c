"""The data explorer on a type of 1,000,000 objects (the fake's generated data set).

Through the session's runtime as the page runs it (``SessionRuntime.explore``: the read-only
guard with a describe cache, the timeout, a read-only transaction, shaping) and the table's
data (``table_data``): time to the first page, per page turn (next page, a deep page, the
last page, another order), a filtered page turn; and the count: what waiting for it before
the first page would add, unfiltered and filtered. Medians of ``--repeats`` runs.

The fake computes a page from its ranks without touching the other objects, so the page
figures are the console's own cost. Its count is a different matter: unfiltered it answers
N at once (a real server counts a 10M-row table by scanning it, see the notes), filtered it
tests every object in Python, which stands for the server's sequential scan.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

from bench.common import report
from ecc.display.results import ShapedResult, table_data
from ecc.driver.describe_cache import DescribeCache
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.explorer.paging import count_policy, read_page
from ecc.explorer.query import build_queries
from ecc.explorer.state import ExplorerState, OrderBy, PropertyFilter
from ecc.fake.client import FakeClientFactory, demo_responder, schema_responder
from ecc.fake.explorer import dataset_schema, explorer_responder, generated_dataset
from ecc.running.runs import RunRecord
from ecc.running.sessions import RuntimeLimits, SessionRuntime

OBJECTS = 1_000_000
PAGE_SIZE = 50


def wait(rt: SessionRuntime, record: RunRecord, timeout: float = 120.0) -> RunRecord:
    deadline = time.monotonic() + timeout
    version = rt.explorer_book.version
    while True:
        now = rt.explorer_book.get(record.run_id)
        if now is not None and not now.active:
            return now
        if time.monotonic() > deadline:
            raise TimeoutError(f"explorer run {record.run_id} did not finish")
        version = rt.explorer_book.wait_for_change(version, 0.5)


class Explorer:
    def __init__(self, objects: int) -> None:
        self.dataset = generated_dataset(objects)
        self.model = dataset_schema(self.dataset)
        factory = FakeClientFactory(responder=schema_responder(
            self.model, fallback=explorer_responder(self.dataset, demo_responder)))
        self.runtime = SessionRuntime("bench-explorer", factory, RuntimeLimits())
        self.policy = ExecutionPolicy(read_only=True, timeout_s=60.0, implicit_limit=100_001,
                                      describe_cache=DescribeCache())

    def run(self, request: QueryRequest, policy: ExecutionPolicy | None = None) -> RunRecord:
        (record,) = self.runtime.explore([request], policy or self.policy).records
        final = wait(self.runtime, record)
        assert final.status == "done", final.error
        return final

    def show(self, state: ExplorerState) -> int:
        """Build, run and shape one page as the page does; the rows shown."""
        queries = build_queries(self.model, state)
        final = self.run(queries.page)
        assert isinstance(final.result, ShapedResult)
        rows = final.result.value
        assert isinstance(rows, list)
        page = read_page(rows, state.current.page * state.page_size, state.page_size)
        table = table_data(final.result, state.page_size)
        return min(table.shown_rows, len(page.rows))

    def count(self, state: ExplorerState) -> int:
        queries = build_queries(self.model, state)
        final = self.run(queries.count, count_policy(self.policy, 60.0))
        assert isinstance(final.result, ShapedResult) and isinstance(final.result.value, list)
        value = final.result.value[0]
        assert isinstance(value, int)
        return value

    def close(self) -> None:
        self.runtime.close()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=OBJECTS)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    n, repeats = args.objects, args.repeats
    pages = (n + PAGE_SIZE - 1) // PAGE_SIZE
    print(f"explorer on {n:,} objects, page size {PAGE_SIZE}, load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    base = ExplorerState.of_type("default::Item", PAGE_SIZE)
    first, turns, deep, last, reorder, filtered = [], [], [], [], [], []
    for _ in range(repeats):
        explorer = Explorer(n)  # a new session: nothing described, nothing cached
        try:
            first.append(timed(partial(explorer.show, base)))
            for page in range(1, 6):
                turns.append(timed(partial(explorer.show, base.at_page(page))))
            deep.append(timed(partial(explorer.show, base.at_page(pages // 2))))
            last.append(timed(partial(explorer.show, base.at_page(pages - 1))))
            reorder.append(timed(partial(explorer.show, base.ordered(
                OrderBy("shuffled", True)))))
            kind = base.filtered((PropertyFilter("kind", "=", "Gamma"),))
            filtered.append(timed(partial(explorer.show, kind.at_page(3))))
        finally:
            explorer.close()
    ok = report("time to first page (new session: describe + run + shape), median",
                median_ms(first), "ms")
    ok &= report("page turn (next page, same text), median", median_ms(turns), "ms")
    ok &= report(f"deep page turn (page {pages // 2:,}), median", median_ms(deep), "ms")
    ok &= report(f"last page (page {pages:,}), median", median_ms(last), "ms")
    ok &= report("another order (shuffled desc, first page), median", median_ms(reorder), "ms")
    ok &= report("filtered page (kind = Gamma, page 4), median", median_ms(filtered), "ms")

    explorer = Explorer(n)
    try:
        explorer.show(base)  # warm: described once
        plain = [timed(lambda: explorer.count(base)) for _ in range(repeats)]
        kind = base.filtered((PropertyFilter("kind", "=", "Gamma"),))
        counted = [timed(lambda: explorer.count(kind)) for _ in range(max(1, repeats // 2))]
        assert explorer.count(kind) == (n + 2) // 5
        page_alone = [timed(lambda: explorer.show(kind)) for _ in range(repeats)]
    finally:
        explorer.close()
    ok &= report("count, no filter (the fake knows N: a server scans)", median_ms(plain), "ms")
    ok &= report(f"count, kind = Gamma (tests all {n:,} objects, as a scan)",
                 median_ms(counted), "ms")
    ratio = statistics.median(counted) / statistics.median(page_alone)
    print(f"filtered first page {median_ms(page_alone):.2f} ms; counting first would make it "
          f"{ratio:.0f}x slower", flush=True)
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
