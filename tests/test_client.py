"""The real driver's client, offline: wrong addresses fail fast and clearly, never hang."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import gel
import pytest

from ecc.driver.client import (
    ClientOptions,
    QueryMethod,
    call_method,
    create_gel_client,
    limited_query_context,
)
from ecc.driver.errors import error_view
from ecc.settings.config import ConnectionSettings, Secret


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


def test_the_client_pool_is_sized_by_max_concurrency() -> None:
    settings = ConnectionSettings(host="127.0.0.1", port=refused_port())

    async def pool_size() -> tuple[int, int | None]:
        client: Any = create_gel_client(
            settings, ClientOptions(connect_wait_s=0, connect_timeout_s=1, max_concurrency=9))
        try:  # the driver's pool, never connected
            return client._impl.get_max_concurrency(), client._impl._user_max_concurrency
        finally:
            client.terminate()

    # The user's value wins over the server's suggested_pool_concurrency (driver 3.1).
    assert asyncio.run(pool_size()) == (9, 9)


def test_the_page_sizes_each_session_pool_to_max_running_plus_one(monkeypatch) -> None:
    import st_utils
    from ecc.settings.config import ConsoleSettings

    seen: list[ClientOptions] = []
    monkeypatch.setattr(st_utils, "create_gel_client",
                        lambda connection, options: seen.append(options))
    st_utils.client_factory(ConsoleSettings(max_running=3))()
    assert [o.max_concurrency for o in seen] == [4]


def test_fractional_connect_settings_reach_the_driver_as_given() -> None:
    # connect_wait_s = 0.5 was rounded to 0 s (and 1.4 to 1 s): the driver takes seconds as
    # floats; its own parsing of the arguments is what is checked here.
    from gel import con_utils

    settings = ConnectionSettings(host="127.0.0.1", port=refused_port())

    async def configured() -> Any:
        client: Any = create_gel_client(
            settings, ClientOptions(connect_wait_s=0.5, connect_timeout_s=1.4))
        try:
            # as the pool parses them before its first connection (base_client.py)
            return con_utils.parse_connect_arguments(
                **client._impl._connect_args, command_timeout=None, server_settings=None)[1]
        finally:
            client.terminate()

    config = asyncio.run(configured())
    assert config.wait_until_available == 0.5
    assert config.connect_timeout == 1.4


# --- the protocol's implicit limit, against the installed driver -----------------------------
def _recording_driver_client(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[Any]]:
    """A real (never connected) gel client whose ``_query`` records the context it gets."""
    import gel

    client = gel.create_async_client(host="127.0.0.1", port=1, wait_until_available=0)
    contexts: list[Any] = []

    async def record(context: Any) -> list[object]:
        contexts.append(context)
        return []

    monkeypatch.setattr(client, "_query", record)
    return client, contexts


@pytest.mark.parametrize("method", list(QueryMethod))
def test_the_limited_context_lowers_like_the_drivers_own_plus_the_limit(
    monkeypatch: pytest.MonkeyPatch, method: QueryMethod
) -> None:
    from gel import enums
    from gel.protocol import protocol

    client, contexts = _recording_driver_client(monkeypatch)
    asyncio.run(getattr(client, method.value)("select <int64>$0", 7))
    [drivers] = contexts
    ours = limited_query_context(client, method, "select <int64>$0", (7,), {}, 11)
    lowered: list[dict[str, Any]] = []
    monkeypatch.setattr(protocol, "ExecuteContext", lambda **kw: lowered.append(kw))
    drivers.lower(allow_capabilities=enums.Capability.ALL)
    ours.lower(allow_capabilities=enums.Capability.ALL)
    theirs, mine = lowered
    assert mine.pop("implicit_limit") == 11 and theirs.pop("implicit_limit", 0) == 0
    assert set(mine) == set(theirs)
    for key in theirs:
        if key == "reg" or key == "qc":  # the client's caches: the very same objects
            assert mine[key] is theirs[key]
        else:
            assert mine[key] == theirs[key], key


def test_call_method_sends_the_driver_a_limited_context(monkeypatch: pytest.MonkeyPatch) -> None:
    client, contexts = _recording_driver_client(monkeypatch)
    asyncio.run(call_method(client, QueryMethod.QUERY, "select 1", (), {}, implicit_limit=5))
    asyncio.run(call_method(client, QueryMethod.QUERY, "select 1", (), {}))
    limited, plain = contexts
    assert type(limited).__name__ == "LimitedQueryContext"
    assert type(plain).__name__ == "QueryContext"
