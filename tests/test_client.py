"""The real driver's client, offline: wrong addresses fail fast and clearly, never hang."""

from __future__ import annotations

import asyncio
import socket
import time

import gel

from ecc.client import ClientOptions, create_gel_client
from ecc.config import ConnectionSettings, Secret
from ecc.errors import error_view


def refused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_port_gives_a_connection_error_within_the_connect_wait() -> None:
    settings = ConnectionSettings(host="127.0.0.1", port=refused_port(), user="admin",
                                  password=Secret("not-shown"), tls_security="insecure")

    async def attempt() -> BaseException:
        client = create_gel_client(settings, ClientOptions(connect_wait_s=1, connect_timeout_s=2))
        try:
            await client.query_single("select 1")
        except gel.errors.EdgeDBError as exc:
            return exc
        finally:
            client.terminate()
        raise AssertionError("the query should not have run")

    start = time.monotonic()
    exc = asyncio.run(attempt())
    elapsed = time.monotonic() - start
    assert isinstance(exc, gel.errors.ClientConnectionError)
    assert elapsed < 15, "must not wait the driver's default 30 s"
    view = error_view(exc)
    assert view.kind == "connection"
    assert "not-shown" not in f"{view}"


def test_the_client_is_lazy_nothing_connects_at_creation() -> None:
    settings = ConnectionSettings(host="127.0.0.1", port=refused_port())

    async def create() -> None:
        client = create_gel_client(settings, ClientOptions(connect_wait_s=0, connect_timeout_s=1))
        client.terminate()

    asyncio.run(create())  # no exception: creation never touches the network
