"""20 queries of 200 ms in one submission, on one session's loop, with the default settings
(``max_running = 8``: three waves of the server's 200 ms). Target <= 800 ms, the page's goal
(bench_ws measures what the page shows). Never a tuned ``max_running``."""

from __future__ import annotations

import statistics
import time

from bench.common import report
from ecc.driver.client import QueryMethod
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.fake.client import FakeClient
from ecc.running.sessions import RuntimeLimits, SessionRuntime
from ecc.settings.config import ConsoleSettings


def main() -> bool:
    defaults = ConsoleSettings()
    runtime = SessionRuntime("bench-batch", lambda: FakeClient(latency_s=0.2),
                             RuntimeLimits(max_running=defaults.max_running))
    requests = [QueryRequest(name=f"Query {i}", query="select 1", method=QueryMethod.QUERY)
                for i in range(20)]
    policy = ExecutionPolicy(read_only=True, timeout_s=10)
    walls = []
    try:
        for _ in range(7):
            start = time.perf_counter()
            submitted = runtime.submit(requests, policy)
            submitted.future.result(timeout=10)
            walls.append(time.perf_counter() - start)
            assert all(r.status == "done" for r in runtime.book.batch(
                submitted.records[0].batch_id)), "every query must succeed"
    finally:
        runtime.close()
    print(f"20 x 200 ms in one submission, default settings (max_running = "
          f"{defaults.max_running}), at the engine: runs (ms) {[round(w * 1000) for w in walls]}")
    return report(f"20 x 200 ms batch, max_running = {defaults.max_running} (default), "
                  "median wall", statistics.median(walls) * 1000, "ms", 800)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
