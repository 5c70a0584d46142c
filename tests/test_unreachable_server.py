"""A server that does not answer, with the real driver and the real client factory (no server
needed: a loopback port nobody listens on). The live twin in test_live.py also recovers."""

from __future__ import annotations

import pytest

import st_utils
from ecc.config import load_settings
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
