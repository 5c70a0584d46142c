"""Helpers for tests that drive the engine with the real driver (a live server, or a closed
loopback port): run a query through a ``SessionRuntime`` as the page does, find a free port."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable

from ecc.client import QueryClient
from ecc.execute import ExecutionPolicy, QueryRequest
from ecc.runs import RunRecord
from ecc.sessions import RuntimeLimits, SessionRuntime

READ_ONLY = ExecutionPolicy(read_only=True, timeout_s=30)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released before anyone connects)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def new_runtime(factory: Callable[[], QueryClient], secret_values: tuple[str, ...] = ()
                ) -> SessionRuntime:
    return SessionRuntime(f"live-{secrets.token_hex(4)}", factory,
                          RuntimeLimits(close_timeout_s=3.0), secret_values)


def run_query(runtime: SessionRuntime, query: str, policy: ExecutionPolicy = READ_ONLY,
              wait_s: float = 60.0) -> tuple[RunRecord, float]:
    """Submit one query as the page does and wait for its outcome (bounded).
    Returns the finished record and the seconds from submission to outcome."""
    start = time.monotonic()
    submitted = runtime.submit([QueryRequest(name="live", query=query)], policy)
    submitted.future.result(timeout=wait_s)
    elapsed = time.monotonic() - start
    record = runtime.book.get(submitted.records[0].run_id)
    assert record is not None and not record.active
    return record, elapsed
