"""Against a real Gel server (GEL_DSN): analyze answers read into a plan; analyze keeps the
read-only guard. Skipped with the reason when no server is configured."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ecc.display import plans
from ecc.display.results import shape_result
from ecc.driver.client import QueryMethod
from ecc.driver.errors import ConsoleInputError
from ecc.driver.execute import ExecutionPolicy, PhaseClock, execute
from tests.live_support import LIVE
from tests.test_live import request
from tests.test_live import run_engine as run

pytestmark = LIVE
READ_ONLY = ExecutionPolicy(read_only=True, timeout_s=10)


@pytest.mark.parametrize("method", list(QueryMethod), ids=lambda m: m.value)
def test_an_analyze_answer_reads_into_a_plan(method: QueryMethod) -> None:
    query = "analyze select {a := 1, b := 'x'}"
    clock = PhaseClock()

    async def body(client: Any) -> Any:
        return await execute(client, request(query, method), READ_ONLY, clock)

    shaped = shape_result(run(body), method, 100)
    plan = plans.read_plan(shaped.value)
    assert isinstance(plan, plans.QueryPlan), plan
    assert plan.buffers[0] == query
    assert plan.coarse.total_ms >= 0 and len(plan.fine.nodes) >= 1
    assert {"describe", "execute"} <= set(clock.seconds)


def test_analyze_of_an_insert_is_refused_in_read_only_mode() -> None:
    name = f"Tmp{uuid.uuid4().hex[:8]}"

    async def body(client: Any) -> Any:
        # An unknown type fails to compile on the server before any capability check, so
        # the insert targets a free object type created (and dropped) around the check.
        await client.execute(f"create type {name} {{ create property x: int64; }}")
        try:
            with pytest.raises(ConsoleInputError, match="read-only"):
                await execute(client, request(f"analyze insert {name} {{ x := 1 }}"),
                              READ_ONLY)
            return await client.query(f"select count({name})")
        finally:
            await client.execute(f"drop type {name}")

    assert run(body) == [0]
