"""A server that does not answer, with the real driver and the real client factory (no server
needed: a loopback port nobody listens on). The live twin in test_live.py also recovers."""

from __future__ import annotations

import pytest

import st_utils
from ecc.config import load_settings
from ecc.describe_cache import DescribeCache, Description
from ecc.execute import ExecutionPolicy
from tests.live_support import closed_port, new_runtime, run_query

CONNECT_WAIT_S = 1.0


@pytest.fixture
def port() -> int:
    return closed_port()


def test_an_unreachable_port_is_reported_within_the_connect_wait(port: int) -> None:
    settings = load_settings({"host": "127.0.0.1", "port": port,
                              "connect_wait_s": CONNECT_WAIT_S}, {})
    runtime = new_runtime(st_utils.client_factory(settings), settings.secret_values)
    try:
        record, elapsed = run_query(runtime, "select 1")
        assert elapsed <= CONNECT_WAIT_S + 1
        assert record.status == "failed" and record.error is not None
        assert record.error.kind == "connection"
        assert record.error.title == "ClientConnectionFailedTemporarilyError"
        assert record.error.message.startswith(f"The server at 127.0.0.1:{port} did not answer")
        assert f"TCP/IP connections on port {port}?" in (record.error.details or "")
    finally:
        runtime.close()


def test_after_a_failed_connection_the_session_keeps_answering_promptly(port: int) -> None:
    settings = load_settings({"host": "127.0.0.1", "port": port,
                              "connect_wait_s": CONNECT_WAIT_S}, {})
    runtime = new_runtime(st_utils.client_factory(settings), settings.secret_values)
    try:
        run_query(runtime, "select 1")
        runtime.reset_client()  # the page's "Reset my connection"
        assert runtime.client_state == "none"
        record, elapsed = run_query(runtime, "select 2")
        assert record.status == "failed" and elapsed <= CONNECT_WAIT_S + 1
        assert runtime.loop.alive and runtime.client_state == "created"
    finally:
        runtime.close()


def test_a_connect_cut_short_inside_the_transaction_times_out_as_itself(port: int) -> None:
    """The real driver: with the description cached, the connection is first attempted inside
    the read-only transaction. When the client bound cancels that attempt, the run says
    "timed out", not the transaction clean-up's InterfaceError (issue 17)."""
    cache = DescribeCache()
    cache.put("select 1", Description(capabilities=0, input_type=None))
    policy = ExecutionPolicy(read_only=True, timeout_s=0.2, describe_cache=cache)
    settings = load_settings({"host": "127.0.0.1", "port": port, "connect_wait_s": 30}, {})
    runtime = new_runtime(st_utils.client_factory(settings), settings.secret_values)
    try:
        record, elapsed = run_query(runtime, "select 1", policy)
        assert record.status == "timed out" and record.error is not None
        assert record.error.kind == "timeout", record.error
        assert elapsed < policy.client_bound_s + 5
    finally:
        runtime.close()
