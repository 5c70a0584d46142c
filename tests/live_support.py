"""Helpers for tests that drive the engine with the real driver (a live server, or a closed
loopback port): run a query through a ``SessionRuntime`` as the page does, find a free port."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ecc.driver.client import QueryClient
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.running.runs import RunRecord
from ecc.running.sessions import BranchClientFactory, RuntimeLimits, SessionRuntime

READ_ONLY = ExecutionPolicy(read_only=True, timeout_s=30)
# A live test module's ``pytestmark``: marked ``live``, skipped (saying why) without a server.
LIVE = [
    pytest.mark.live,
    pytest.mark.skipif(
        not os.environ.get("GEL_DSN"),
        reason="GEL_DSN is not set: no live Gel server to test against",
    ),
]


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released before anyone connects)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def new_runtime(factory: Callable[[], QueryClient], secret_values: tuple[str, ...] = (),
                branch_client_factory: BranchClientFactory | None = None) -> SessionRuntime:
    return SessionRuntime(f"live-{secrets.token_hex(4)}", factory,
                          RuntimeLimits(close_timeout_s=3.0), secret_values,
                          branch_client_factory=branch_client_factory)


def run_query(runtime: SessionRuntime, query: str, policy: ExecutionPolicy = READ_ONLY,
              wait_s: float = 60.0, **request: Any) -> tuple[RunRecord, float]:
    """Submit one query as the page does and wait for its outcome (bounded); ``request``:
    more of the ``QueryRequest`` (``branch``, ``globals``).
    Returns the finished record and the seconds from submission to outcome."""
    start = time.monotonic()
    submitted = runtime.submit([QueryRequest(name="live", query=query, **request)], policy)
    submitted.future.result(timeout=wait_s)
    elapsed = time.monotonic() - start
    record = runtime.book.get(submitted.records[0].run_id)
    assert record is not None and not record.active
    return record, elapsed


class TcpRelay:
    """A loopback TCP relay to a server that can be stopped and started again on the same
    port: stopping cuts every connection through it and refuses new ones (the server went
    away), starting again lets them through (it came back). Runs its own loop in its own
    thread; ``close()`` ends both."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self.port = 0  # chosen at the first start, kept afterwards
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-relay",
                                        daemon=True)
        self._thread.start()
        self._server: Any = None
        self._transports: set[Any] = set()

    def _call(self, coro: Any, timeout: float = 5.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        self._call(self._stop())

    def close(self) -> None:
        self._call(self._stop())
        self._call(self._cancel_handlers())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()  # a reset, as when a server process dies
        self._transports.clear()

    async def _cancel_handlers(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _relay(self, reader: Any, writer: Any) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        ends = (writer.transport, up_writer.transport)
        self._transports.update(ends)

        async def pipe(source: Any, sink: Any) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._transports.difference_update(ends)


def relayed_dsn(dsn: str, relay_port: int, server_host: str) -> str:
    """``dsn`` pointed at the relay on 127.0.0.1, TLS still checking the server's own name."""
    scheme, _, body = dsn.partition("://")
    userinfo, at, hostpart = body.rpartition("@")
    where = hostpart.split("/", 1)[0].split("?", 1)[0]
    rest = hostpart[len(where):]
    if "tls_server_name=" not in rest:
        rest += ("&" if "?" in rest else "?") + f"tls_server_name={server_host}"
    return f"{scheme}://{userinfo}{at}127.0.0.1:{relay_port}{rest}"
