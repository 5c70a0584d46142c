"""Against a real Gel server: run when GEL_DSN is set, skipped with the reason otherwise.

These use literals and free objects (no schema), except one test that creates a uniquely
named type and drops it again, whatever happens."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from ecc.client import ClientOptions, QueryMethod, create_gel_client
from ecc.config import load_settings
from ecc.errors import ConsoleInputError, error_view
from ecc.execute import ExecutionPolicy, QueryRequest, execute
from ecc.results import shape_result, table_data

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("GEL_DSN"),
        reason="GEL_DSN is not set: no live Gel server to test against",
    ),
]


def run(body: Callable[[Any], Coroutine[Any, Any, Any]]) -> Any:
    async def main() -> Any:
        settings = load_settings({}, os.environ)
        client = create_gel_client(settings.connection, ClientOptions(5, 5))
        try:
            return await body(client)
        finally:
            await asyncio.wait_for(client.aclose(), 5)

    return asyncio.run(main())


def request(
    query: str, method: QueryMethod = QueryMethod.QUERY, *args: Any, **kwargs: Any
) -> QueryRequest:
    return QueryRequest(name="live", query=query, method=method, args=args, kwargs=kwargs)


def test_a_select_runs_read_only_and_renders() -> None:
    async def body(client: Any) -> Any:
        return await execute(
            client,
            request("select {a := 1, b := 'x', c := [1, 2]}"),
            ExecutionPolicy(read_only=True, timeout_s=10),
        )

    raw = run(body)
    table = table_data(shape_result(raw, QueryMethod.QUERY, 100), 100)
    assert table.columns["a"] == [1]


def test_read_only_refuses_an_insert_before_sending_it() -> None:
    async def body(client: Any) -> Any:
        return await execute(
            client,
            request("insert schema::Migration {}"),
            ExecutionPolicy(read_only=True, timeout_s=10),
        )

    with pytest.raises(ConsoleInputError, match="read-only"):
        run(body)


def test_the_server_timeout_gives_a_timeout_view() -> None:
    async def body(client: Any) -> Any:
        return await execute(
            client, request("select sys::_sleep(3)"), ExecutionPolicy(read_only=True, timeout_s=1)
        )

    with pytest.raises(Exception) as caught:
        run(body)
    assert error_view(caught.value).kind == "timeout"


def test_ddl_runs_when_writes_are_allowed_and_is_cleaned_up() -> None:
    name = f"EccLive{uuid.uuid4().hex[:8]}"

    async def body(client: Any) -> Any:
        policy = ExecutionPolicy(read_only=False, timeout_s=30)
        await execute(client, request(f"create type {name} {{ create property p: str }}"), policy)
        try:
            await execute(client, request(f"insert {name} {{ p := 'x' }}"), policy)
            return await execute(client, request(f"select {name}.p"), policy)
        finally:
            await execute(client, request(f"drop type {name}"), policy)

    assert run(body) == ["x"]
