"""Against a real Gel server: run when GEL_DSN is set, skipped with the reason otherwise.

Queries go through the engine as the page sends them (``SessionRuntime`` + ``execute``) with
the real client factory. Setup and checks use a separate raw ``gel`` client, so that what is
verified never depends on the code under test.

What a real server does (../shared/gel-transcripts/, FACTS.md), and how these tests live with it:
- ``insert`` into a standard-library type fails in the compiler before any capability check,
  so the write refusals use a uniquely named scratch type these tests create and drop. When
  the server refuses DDL, they use an existing user type the server accepts ``insert T {}``
  for; then a delete only ever matches nothing, and an insert must get past both of the
  console's layers (the capability check and the read-only transaction) to touch its rows.
- ``analyze`` executes its query and rolls it back: counting rows cannot tell whether it ran,
  so its proof is the refusal itself (raised before anything but a description was asked for).
- ``sys::_sleep`` exists only on a server started in test mode; elsewhere a long count is the
  slow query.
- A test cannot restart the server; a loopback relay in front of it can go away and come back
  (``tests/live_support.TcpRelay``, itself tested offline against an echo server).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import st_utils
from ecc.display.results import shape_result, table_data
from ecc.driver.client import ClientOptions, QueryMethod, create_gel_client
from ecc.driver.describe_cache import DescribeCache
from ecc.driver.errors import ConsoleInputError, error_view
from ecc.driver.execute import ExecutionPolicy, QueryRequest, execute
from ecc.running.runs import RunRecord
from ecc.running.sessions import SessionRuntime
from ecc.settings.config import ConnectionSettings, ConsoleSettings, Secret, load_settings
from tests.conftest import wait_until
from tests.live_support import LIVE, TcpRelay, closed_port, new_runtime, relayed_dsn, run_query

pytestmark = LIVE

REFUSED_TITLE = "Refused: read-only mode"
WRITES = ExecutionPolicy(read_only=False, timeout_s=30)


def live_settings() -> ConsoleSettings:
    return load_settings({}, os.environ)


Body = Callable[[Any], Coroutine[Any, Any, Any]]


def with_client(make_client: Callable[[], Any], body: Body) -> Any:
    """Run ``body(client)`` on a fresh loop, with a client made there by ``make_client`` and
    closed afterwards."""

    async def main() -> Any:
        client = make_client()
        try:
            return await body(client)
        finally:
            await asyncio.wait_for(client.aclose(), 5)

    return asyncio.run(main())


def raw(body: Body) -> Any:
    """Run ``body(client)`` on a fresh raw driver client (GEL_DSN), closed afterwards."""
    import gel

    return with_client(lambda: gel.create_async_client(wait_until_available=5), body)


def raw_query(query: str) -> Any:
    async def body(client: Any) -> Any:
        return await client.query(query)

    return raw(body)


def run_engine(body: Body) -> Any:
    """Run ``body(client)`` with a client from the console's own factory."""
    return with_client(
        lambda: create_gel_client(live_settings().connection, ClientOptions(5, 5)), body)


def request(
    query: str, method: QueryMethod = QueryMethod.QUERY, *args: Any, **kwargs: Any
) -> QueryRequest:
    return QueryRequest(name="live", query=query, method=method, args=args, kwargs=kwargs)


# --- fixtures ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """The object type the write refusals aim at."""

    name: str
    scratch: bool  # our own type (created here, dropped at the end) or an existing one
    why_not_scratch: str = ""  # the server's answer when creating the scratch type failed

    def count(self) -> int:
        return int(raw_query(f"select count({self.name})")[0])


def _create_scratch(name: str) -> str | None:
    """Create the scratch type with one seed row. None when done, else the server's refusal."""
    import gel

    async def body(client: Any) -> None:
        await client.execute(f"create type {name} {{ create property p: str }}")
        await client.execute(f"insert {name} {{ p := 'seed' }}")

    try:
        raw(body)
    except gel.errors.EdgeDBError as exc:
        return f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}"
    return None


def _drop_scratch(name: str) -> None:
    async def body(client: Any) -> None:
        await client.execute(f"drop type {name}")

    raw(body)


def _existing_insertable_type() -> str | None:
    """A user object type whose ``insert T {}`` the server's compiler accepts (the server is
    the judge: required properties without defaults, abstract types... make it refuse)."""
    import gel

    names = raw_query(
        # cfg::* types report builtin: false (gel-transcripts): filter modules by name too.
        "select (select schema::ObjectType filter not .abstract and not .builtin "
        "and not (.name like 'cfg::%' or .name like 'sys::%' or .name like 'schema::%' "
        "or .name like 'std::%' or .name like 'ext::%')).name"
    )

    async def first_accepted(client: Any) -> str | None:
        for name in sorted(names):
            try:
                await client._describe_query(f"insert {name} {{}}")
            except gel.errors.EdgeDBError:
                continue
            return str(name)
        return None

    result: str | None = raw(first_accepted)
    return result


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    name = f"default::EccLive{uuid.uuid4().hex[:10]}"
    refusal = _create_scratch(name)
    if refusal is None:
        try:
            yield Target(name, scratch=True)
        finally:
            _drop_scratch(name)
        return
    existing = _existing_insertable_type()
    if existing is None:
        pytest.skip(f"the server refused a scratch type ({refusal}) and no user type accepts "
                    "an empty insert: nothing to aim the write refusals at")
    yield Target(existing, scratch=False, why_not_scratch=refusal)


@pytest.fixture(scope="module")
def runtime() -> Iterator[SessionRuntime]:
    settings = live_settings()
    rt = new_runtime(st_utils.client_factory(settings), settings.secret_values)
    try:
        yield rt
    finally:
        rt.close()


def assert_refused(record: RunRecord, reason: str) -> None:
    assert record.status == "failed", record
    assert record.error is not None
    assert (record.error.kind, record.error.title) == ("input", REFUSED_TITLE), record.error
    assert reason in record.error.message
    assert record.error.message.endswith("Nothing was run.")


# --- reading -------------------------------------------------------------------------------
def test_a_select_runs_read_only_and_renders() -> None:
    async def body(client: Any) -> Any:
        return await execute(
            client,
            request("select {a := 1, b := 'x', c := [1, 2]}"),
            ExecutionPolicy(read_only=True, timeout_s=10),
        )

    raw_result = run_engine(body)
    table = table_data(shape_result(raw_result, QueryMethod.QUERY, 100), 100)
    assert table.columns["a"] == [1]


# --- read-only: every write form is refused, and nothing reached the data -------------------
def test_read_only_refuses_an_insert_before_sending_it(target: Target) -> None:
    before = target.count()
    query = (f"insert {target.name} {{ p := 'refused' }}" if target.scratch
             else f"insert {target.name} {{}}")

    async def body(client: Any) -> Any:
        return await execute(client, request(query), ExecutionPolicy(read_only=True, timeout_s=10))

    with pytest.raises(ConsoleInputError, match="read-only") as refused:
        run_engine(body)
    assert "modifies data" in refused.value.view.message
    assert target.count() == before


def _insert_forms(target: Target) -> dict[str, str]:
    t = target.name
    if target.scratch:
        return {
            "insert": f"insert {t} {{ p := 'refused' }}",
            "with ... insert": f"with v := 'refused' insert {t} {{ p := v }}",
            "for ... insert": (
                f"for v in {{'refused-1', 'refused-2'}} union (insert {t} {{ p := v }})"
            ),
            "analyze insert": f"analyze insert {t} {{ p := 'refused' }}",
        }
    return {
        "insert": f"insert {t} {{}}",
        "with ... insert": f"with n := 1 insert {t} {{}}",
        "for ... insert": f"for n in {{1, 2}} union (insert {t} {{}})",
        "analyze insert": f"analyze insert {t} {{}}",
    }


@pytest.mark.parametrize("form", ["insert", "with ... insert", "for ... insert",
                                  "analyze insert"])
def test_read_only_refuses_every_insert_form(
    form: str, target: Target, runtime: SessionRuntime
) -> None:
    before = target.count()
    record, _ = run_query(runtime, _insert_forms(target)[form])
    assert_refused(record, "modifies data (insert, update or delete)")
    assert target.count() == before


def test_read_only_refuses_an_update(target: Target, runtime: SessionRuntime) -> None:
    if not target.scratch:
        pytest.skip(f"no scratch type ({target.why_not_scratch}): an update needs a property "
                    "these tests own")
    record, _ = run_query(runtime, f"update {target.name} set {{ p := 'changed' }}")
    assert_refused(record, "modifies data")
    assert sorted(raw_query(f"select {target.name}.p")) == ["seed"]


def test_read_only_refuses_a_delete(target: Target, runtime: SessionRuntime) -> None:
    before = target.count()
    # On a type that is not ours, a refusal that failed would delete nothing.
    query = f"delete {target.name}" if target.scratch else f"delete {target.name} filter false"
    record, _ = run_query(runtime, query)
    assert_refused(record, "modifies data")
    assert target.count() == before
    if target.scratch:
        assert before == 1


def test_read_only_refuses_ddl(target: Target, runtime: SessionRuntime) -> None:
    refused = f"default::EccLiveRefused{uuid.uuid4().hex[:10]}"
    count = f"select count(schema::ObjectType filter .name = '{refused}')"
    try:
        record, _ = run_query(runtime, f"create type {refused} {{ create property p: str }}")
        assert_refused(record, "changes the schema (DDL)")
        assert raw_query(count) == [0]
    finally:
        if raw_query(count) != [0]:  # the refusal failed: leave no type behind
            _drop_scratch(refused)
    if target.scratch:
        record, _ = run_query(runtime, f"drop type {target.name}")
        assert_refused(record, "changes the schema (DDL)")
        still = f"select count(schema::ObjectType filter .name = '{target.name}')"
        assert raw_query(still) == [1]


def _configured_timeout() -> Any:
    return raw_query("select assert_single(cfg::Config.query_execution_timeout)")


def test_read_only_refuses_configure(runtime: SessionRuntime) -> None:
    before = _configured_timeout()
    value = "<duration>'4321 seconds'"
    record, _ = run_query(runtime,
                          f"configure current branch set query_execution_timeout := {value}")
    try:
        assert_refused(record, "changes server configuration (configure)")
        assert _configured_timeout() == before
    finally:
        after = _configured_timeout()
        if after != before and after == [datetime.timedelta(seconds=4321)]:
            # The refusal failed and the branch's configuration changed: put it back.
            raw_query("configure current branch reset query_execution_timeout")


def test_session_configure_is_refused_by_the_driver_itself(runtime: SessionRuntime) -> None:
    record, _ = run_query(
        runtime, "configure session set query_execution_timeout := <duration>'1 minute'"
    )
    assert record.status == "failed" and record.error is not None
    assert record.error.title == "DisabledCapabilityError"
    assert "disabled by the client" in record.error.message


# --- writes allowed ---------------------------------------------------------------------------
def test_ddl_runs_when_writes_are_allowed_and_is_cleaned_up(target: Target) -> None:
    if not target.scratch:
        pytest.skip(f"the server refuses DDL to this user ({target.why_not_scratch})")
    name = f"default::EccLive{uuid.uuid4().hex[:10]}"

    async def body(client: Any) -> Any:
        await execute(client, request(f"create type {name} {{ create property p: str }}"),
                      WRITES)
        try:
            await execute(client, request(f"insert {name} {{ p := 'x' }}"), WRITES)
            return await execute(client, request(f"select {name}.p"), WRITES)
        finally:
            await execute(client, request(f"drop type {name}"), WRITES)

    assert run_engine(body) == ["x"]


# --- timeouts -------------------------------------------------------------------------------
SLEEP = "select sys::_sleep(3)"
# Without sys::_sleep: the count of a cross product Postgres must really walk, row by row
# (1.6 * 10^9 pairs of two 40 000-row series: CPU for many seconds, no memory to speak of).
# Two aliases, not one used twice: ``(n, n)`` would pair each element with itself.
LONG_COUNT = (
    "with a := range_unpack(range(<int64>0, <int64>40000)), "
    "b := range_unpack(range(<int64>0, <int64>40000)) select count((a, b))"
)


@pytest.fixture(scope="module")
def slow_query() -> str:
    """``sys::_sleep`` on a server in test mode; a long count elsewhere (asked once)."""
    import gel

    async def body(client: Any) -> str:
        try:
            await client._describe_query(SLEEP)
        except gel.errors.InvalidReferenceError:  # "function 'sys::_sleep' does not exist"
            return LONG_COUNT
        return SLEEP

    query: str = raw(body)
    return query


def test_the_server_timeout_gives_a_timeout_view(slow_query: str) -> None:
    import gel

    async def body(client: Any) -> Any:
        try:
            await execute(client, request(slow_query), ExecutionPolicy(read_only=True,
                                                                        timeout_s=1))
        except gel.errors.QueryTimeoutError as exc:
            # The server's own timeout (not the console's client-side bound), and the same
            # client keeps working afterwards.
            after = await execute(client, request("select 1"), ExecutionPolicy(timeout_s=10))
            return exc, after
        raise AssertionError(f"{slow_query} finished within 1 s")

    exc, after = run_engine(body)
    assert error_view(exc).kind == "timeout"
    assert after == [1]


# --- an unreachable server, and recovering from it ---------------------------------------------
def test_an_unreachable_port_is_reported_in_time_and_the_session_recovers() -> None:
    real = live_settings()
    port = closed_port()
    down = load_settings({"host": "127.0.0.1", "port": port, "connect_wait_s": 1.0}, {})
    # The page's factory, pointed first at a port nobody listens on, then at the real server
    # (a server that came back, or an address fixed): the session must not need a reload.
    pointed_at = {"settings": down}

    def factory() -> Any:
        return st_utils.client_factory(pointed_at["settings"])()

    rt = new_runtime(factory, real.secret_values)
    try:
        record, elapsed = run_query(rt, "select 1")
        assert record.status == "failed" and record.error is not None
        assert record.error.kind == "connection"
        assert record.error.message.startswith(f"The server at 127.0.0.1:{port} did not answer")
        assert elapsed <= down.connect_wait_s + 1

        pointed_at["settings"] = real
        rt.reset_client()  # "Reset my connection"
        record, _ = run_query(rt, "select 1")
        assert record.status == "done", record.error
        assert record.rows == 1
    finally:
        rt.close()


# --- a wrong password after a good connection ------------------------------------------------
def test_a_wrong_password_after_a_good_query_is_reported_as_an_authentication_failure() -> None:
    """Issue 17: with the description of ``select 1`` already known (one cache shared, as the
    page shared it before descriptions were kept per credentials), a session with a wrong
    password first connects inside the read-only transaction; it must say
    AuthenticationError, not the transaction clean-up's InterfaceError."""
    cache = DescribeCache()
    policy = ExecutionPolicy(read_only=True, timeout_s=30, describe_cache=cache)
    good = live_settings()
    wrong = load_settings({"dsn": os.environ["GEL_DSN"], **_env_connection_options(),
                           "password": f"wrong-{uuid.uuid4().hex}", "connect_wait_s": 1.0},
                          os.environ)
    first = new_runtime(st_utils.client_factory(good), good.secret_values)
    second = new_runtime(st_utils.client_factory(wrong), wrong.secret_values)
    try:
        record, _ = run_query(first, "select 1", policy)
        assert record.status == "done", record.error
        assert len(cache) == 1
        record, _ = run_query(second, "select 1", policy)
        assert record.status == "failed" and record.error is not None
        assert (record.error.kind, record.error.title) == ("connection", "AuthenticationError"), \
            record.error
        assert "received invalid connection" not in record.error.message
    finally:
        first.close()
        second.close()


# --- the server goes away mid-session and comes back --------------------------------------------
@pytest.fixture
def relay() -> Iterator[tuple[TcpRelay, ConsoleSettings]]:
    """A relay between the console and the real server (the test cannot restart the server
    itself: stopping the relay cuts every connection and refuses new ones, as a stopped server
    does), and settings whose DSN goes through it."""
    dsn = os.environ["GEL_DSN"]
    address = ConnectionSettings(dsn=Secret(dsn)).address()
    if address is None:
        pytest.skip("GEL_DSN names no host (an instance name?): nothing to relay to")
    host, _, port = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    relay = TcpRelay(host, int(port))
    relay.start()
    server_name = _env_option("TLS_SERVER_NAME") or host
    settings = load_settings(
        {"dsn": relayed_dsn(dsn, relay.port, server_name), "connect_wait_s": RESTART_WAIT_S,
         **_env_connection_options()},
        os.environ,
    )
    try:
        yield relay, settings
    finally:
        relay.close()


RESTART_WAIT_S = 1.0
# An explicit DSN makes the driver ignore its whole environment (gel/con_utils.py): what the
# environment adds to GEL_DSN is passed on explicitly, as the driver would have applied it.
_ENV_OPTIONS = {"USER": "user", "PASSWORD": "password", "BRANCH": "branch",
                "DATABASE": "database", "SECRET_KEY": "secret_key", "TLS_CA": "tls_ca",
                "TLS_CA_FILE": "tls_ca_file", "CLIENT_TLS_SECURITY": "tls_security"}


def _env_option(name: str) -> str | None:
    return os.environ.get(f"GEL_{name}") or os.environ.get(f"EDGEDB_{name}") or None


def _env_connection_options() -> dict[str, str]:
    return {key: value for name, key in _ENV_OPTIONS.items() if (value := _env_option(name))}


def test_a_server_restart_mid_session_is_reported_in_time_and_recovered_from(
    relay: tuple[TcpRelay, ConsoleSettings],
) -> None:
    server, settings = relay
    rt = new_runtime(st_utils.client_factory(settings), settings.secret_values)
    try:
        record, _ = run_query(rt, "select 1")
        assert record.status == "done", record.error

        server.stop()  # the server goes away: open connections are cut
        record, elapsed = run_query(rt, "select 1")
        assert record.status == "failed" and record.error is not None
        assert record.error.kind == "connection", record.error
        assert elapsed <= RESTART_WAIT_S + 1

        server.start()  # and comes back: the same session answers, no reset, no reload
        record, _ = run_query(rt, "select 1")
        assert record.status == "done", record.error
        assert rt.client_state == "created" and rt.loop.alive
    finally:
        rt.close()


def test_a_query_running_when_the_server_goes_away_fails_cleanly(
    relay: tuple[TcpRelay, ConsoleSettings], slow_query: str,
) -> None:
    server, settings = relay
    rt = new_runtime(st_utils.client_factory(settings), settings.secret_values)
    try:
        policy = ExecutionPolicy(read_only=True, timeout_s=30)
        submitted = rt.submit([QueryRequest(name="live", query=slow_query)], policy)
        run_id = submitted.records[0].run_id
        wait_until(lambda: (r := rt.book.get(run_id)) is not None and r.status == "running",
                   timeout=10, what="the slow query is running")
        server.stop()
        # Bounded well below the query's own 30 s: the driver's retries of a transaction
        # (a few attempts, each waiting connect_wait_s) are the most it may take.
        submitted.future.result(timeout=15)
        record = rt.book.get(run_id)
        assert record is not None and record.status == "failed", record
        assert record.error is not None and record.error.kind == "connection", record.error

        server.start()
        record, _ = run_query(rt, "select 1")
        assert record.status == "done", record.error
    finally:
        rt.close()
