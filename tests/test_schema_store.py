"""One schema model per server branch for the whole process (ecc/schema/store.py)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from ecc.fake import schema as fake_schema
from ecc.fake.client import FakeClient, schema_responder
from ecc.running.loop import SessionLoop
from ecc.schema import introspect
from ecc.schema.store import SchemaKey, SchemaStore
from ecc.settings.config import ConnectionSettings, Secret

KEY = SchemaKey("test-branch")
PARTS = {query.strip() for query in introspect.PARTS.values()}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Server:
    """A fake server whose schema changes as DDL would change it (one more migration)."""

    def __init__(self, latency_s: float = 0.0) -> None:
        self.migrations: list[Any] = list(fake_schema.DEMO_MIGRATIONS)
        self.client = FakeClient(schema_responder(migrations=lambda: self.migrations),
                                 latency_s=latency_s)

    def ddl(self) -> None:
        self.migrations.append(uuid.uuid4())

    def introspections(self) -> int:
        return sum(1 for _, query, _, _ in self.client.stats.calls if query.strip() in PARTS)

    def probes(self) -> int:
        return sum(1 for _, query, _, _ in self.client.stats.calls
                   if query == introspect.SCHEMA_PROBE_QUERY)


@pytest.fixture
def loop() -> Iterator[SessionLoop]:
    session_loop = SessionLoop(name="test-schema-store")
    yield session_loop
    session_loop.stop()


def starter(loop: SessionLoop, client: FakeClient
            ) -> Callable[[Callable[[Any], Awaitable[object]]], concurrent.futures.Future[object]]:
    def start(make_coro: Callable[[Any], Awaitable[object]]
              ) -> concurrent.futures.Future[object]:
        async def run() -> object:
            return await make_coro(client)

        return loop.submit(run())

    return start


def test_sessions_arriving_together_share_one_read(loop: SessionLoop) -> None:
    server = Server(latency_s=0.05)
    store = SchemaStore()
    start = starter(loop, server.client)
    futures = [store.read(KEY, start) for _ in range(5)]
    entries = {id(f.result(timeout=10)) for f in futures}
    assert len(entries) == 1
    assert server.introspections() == len(introspect.PARTS)
    assert store.reads(KEY) == 1


def test_a_known_schema_is_answered_without_the_server(loop: SessionLoop) -> None:
    server = Server()
    store = SchemaStore()
    first = store.read(KEY, starter(loop, server.client)).result(timeout=10)
    calls = len(server.client.stats.calls)
    again = store.read(KEY, starter(loop, server.client))
    assert again.done() and again.result() is first
    assert len(server.client.stats.calls) == calls
    assert store.current(KEY) is first and first.version == 1


def test_the_probe_runs_once_per_interval_and_reads_again_only_after_a_change(
        loop: SessionLoop) -> None:
    server, clock = Server(), Clock()
    store = SchemaStore(probe_interval_s=10.0, clock=clock)
    start = starter(loop, server.client)
    first = store.read(KEY, start).result(timeout=10)
    assert not store.probe_due(KEY)  # just read
    clock.now += 10
    assert store.probe_due(KEY)
    assert not store.probe_due(KEY)  # one caller per interval
    store.refresh_if_changed(KEY, start).result(timeout=10)
    assert store.current(KEY) is first  # nothing changed: no read
    assert server.introspections() == len(introspect.PARTS)
    server.ddl()
    clock.now += 10
    assert store.probe_due(KEY)
    store.refresh_if_changed(KEY, start).result(timeout=10)

    def second() -> bool:
        entry = store.current(KEY)
        return entry is not None and entry.version == 2

    wait_for(second)
    assert server.introspections() == 2 * len(introspect.PARTS)
    assert store.current(KEY).probe != first.probe  # type: ignore[union-attr]


def test_an_old_entry_is_read_again_even_when_the_probe_sees_nothing(loop: SessionLoop) -> None:
    server, clock = Server(), Clock()
    store = SchemaStore(probe_interval_s=10.0, max_age_s=60.0, clock=clock)
    start = starter(loop, server.client)
    store.read(KEY, start).result(timeout=10)
    clock.now += 61
    assert store.probe_due(KEY)
    store.refresh_if_changed(KEY, start).result(timeout=10)
    wait_for(lambda: store.current(KEY).version == 2)  # type: ignore[union-attr]


def test_a_failing_probe_keeps_the_model(loop: SessionLoop) -> None:
    server, clock = Server(), Clock()
    store = SchemaStore(clock=clock)
    start = starter(loop, server.client)
    first = store.read(KEY, start).result(timeout=10)
    server.client.connect_error = ConnectionError("server away")
    clock.now += store.probe_interval_s
    assert store.probe_due(KEY)
    store.refresh_if_changed(KEY, start).result(timeout=10)
    assert store.current(KEY) is first


def test_refresh_forces_a_read_and_a_stuck_read_is_abandoned(loop: SessionLoop) -> None:
    server, clock = Server(), Clock()
    store = SchemaStore(stuck_after_s=120.0, clock=clock)
    never: concurrent.futures.Future[object] = concurrent.futures.Future()
    stuck = store.read(KEY, lambda make_coro: never)  # its loop died mid-read
    assert store.read(KEY, starter(loop, server.client)) is stuck  # still waited on
    clock.now += 121
    entry = store.read(KEY, starter(loop, server.client)).result(timeout=10)
    assert entry.version == 1
    forced = store.read(KEY, starter(loop, server.client), force=True).result(timeout=10)
    assert forced.version == 2 and forced is store.current(KEY)


def test_completion_data_is_built_once_per_version_and_addressed_by_content(
        loop: SessionLoop) -> None:
    server = Server()
    store = SchemaStore()
    start = starter(loop, server.client)
    first = store.read(KEY, start).result(timeout=10)
    tree = first.completion()
    assert first.completion() is tree
    assert "default::Movie" in tree.tree["objects"] and "params" not in tree.tree
    again = store.read(KEY, start, force=True).result(timeout=10)
    assert again.completion() is not tree
    assert again.completion().hash == tree.hash  # same schema, same address: never resent


def test_the_key_holds_no_secret() -> None:
    settings = ConnectionSettings(dsn=Secret("gel://alice:s3cr3t-pw@db.example:5656/main"),
                                  password=Secret("other-s3cret"))
    key = SchemaKey(settings.identity())
    assert "s3cr3t-pw" not in key.target and "other-s3cret" not in key.target
    assert "alice" in key.target and "main" in key.target  # role and branch do count
    other_branch = ConnectionSettings(dsn=Secret("gel://alice:s3cr3t-pw@db.example:5656/dev"))
    assert SchemaKey(other_branch.identity()) != key


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(poll(), timeout))
