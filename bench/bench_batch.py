"""20 queries of 200 ms in one submission, on one session's loop: wall time (target <= 300 ms)."""

from __future__ import annotations

import statistics
import time

from bench.common import report
from ecc.client import QueryMethod
from ecc.execute import ExecutionPolicy, QueryRequest
from ecc.sessions import RuntimeLimits, SessionRuntime
from ecc.testing import FakeClient


def main() -> bool:
    runtime = SessionRuntime("bench-batch", lambda: FakeClient(latency_s=0.2),
                             RuntimeLimits(max_running=20))
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
    print(f"20 x 200 ms in one submission: runs (ms) {[round(w * 1000) for w in walls]}")
    return report("20 x 200 ms batch, median wall", statistics.median(walls) * 1000, "ms", 300)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
