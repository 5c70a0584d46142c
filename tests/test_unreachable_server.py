"""A server that does not answer, with the real driver and the real client factory (no server
needed: a loopback port nobody listens on). The live twin in test_live.py also recovers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import gel
import pytest

import st_utils
from ecc.driver.client import QueryClient
from ecc.driver.describe_cache import DescribeCache, Description
from ecc.driver.execute import ExecutionPolicy, QueryRequest, execute
from ecc.running.sessions import SessionRuntime
from ecc.settings.config import load_settings
from tests.conftest import wait_until
from tests.live_support import closed_port, new_runtime, run_query

CONNECT_WAIT_S = 1.0


@pytest.fixture
def port() -> int:
    return closed_port()


@contextmanager
def unreachable_runtime(port: int, connect_wait_s: float = CONNECT_WAIT_S
                        ) -> Iterator[SessionRuntime]:
    """A session whose client (the real factory) points at ``port``, where nobody listens;
    closed at the end."""
    settings = load_settings({"host": "127.0.0.1", "port": port,
                              "connect_wait_s": connect_wait_s}, {})
    runtime = new_runtime(st_utils.client_factory(settings), settings.secret_values)
    try:
        yield runtime
    finally:
        runtime.close()


def test_an_unreachable_port_is_reported_within_the_connect_wait(port: int) -> None:
    with unreachable_runtime(port) as runtime:
        record, elapsed = run_query(runtime, "select 1")
        assert elapsed <= CONNECT_WAIT_S + 1
        assert record.status == "failed" and record.error is not None
        assert record.error.kind == "connection"
        assert record.error.title == "ClientConnectionFailedTemporarilyError"
        assert record.error.message.startswith(f"The server at 127.0.0.1:{port} did not answer")
        assert f"TCP/IP connections on port {port}?" in (record.error.details or "")


def test_after_a_failed_connection_the_session_keeps_answering_promptly(port: int) -> None:
    with unreachable_runtime(port) as runtime:
        run_query(runtime, "select 1")
        runtime.reset_client()  # the page's "Reset my connection"
        assert runtime.client_state == "none"
        record, elapsed = run_query(runtime, "select 2")
        assert record.status == "failed" and elapsed <= CONNECT_WAIT_S + 1
        assert runtime.loop.alive and runtime.client_state == "created"


def test_a_connect_cut_short_inside_the_transaction_times_out_as_itself(port: int) -> None:
    """The real driver, no gate before the transaction: with the description cached, the
    connection is first attempted inside the read-only transaction. When the client bound
    cancels that attempt, ``execute`` raises TimeoutError, not the transaction clean-up's
    InterfaceError (issue 17)."""
    cache = DescribeCache()
    cache.put("select 1", Description(capabilities=0, input_type=None))
    policy = ExecutionPolicy(read_only=True, timeout_s=0.2, describe_cache=cache)
    settings = load_settings({"host": "127.0.0.1", "port": port, "connect_wait_s": 30}, {})

    async def attempt() -> None:
        client = st_utils.client_factory(settings)()
        try:
            await execute(client, QueryRequest(name="Q1", query="select 1"), policy)
        finally:
            client.terminate()

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        asyncio.run(attempt())
    assert time.monotonic() - started < policy.client_bound_s + 5


def test_a_run_joins_the_connection_attempt_under_way_instead_of_queueing_behind_it(
        port: int) -> None:
    """Issue 17: the page's schema read starts connecting when the page opens; a Run pressed
    meanwhile waited for that attempt to fail, then made its own (8.9 s with connect_wait_s
    = 5). Now it shares the attempt under way: both fail together, within the wait."""
    wait_s = 3.0
    with unreachable_runtime(port, wait_s) as runtime:
        other_done: list[float] = []

        async def schema_read(client: QueryClient) -> object:
            return await client.query("select 1")

        other = runtime.start(schema_read)
        other.add_done_callback(lambda _: other_done.append(time.monotonic()))
        wait_until(lambda: runtime.status().client_state == "created", timeout=5)
        record, elapsed = run_query(runtime, "select 1")
        run_done = time.monotonic()
        assert isinstance(other.exception(timeout=10), gel.errors.ClientConnectionError)
        assert record.status == "failed" and record.error is not None
        assert record.error.kind == "connection", record.error
        assert elapsed <= wait_s + 1
        assert run_done - other_done[0] < 1.0  # not a second wait after the first one
