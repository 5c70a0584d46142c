"""Branches and globals against a real Gel server (GEL_DSN set; skipped otherwise).

Written against ``../shared/gel-transcripts/`` (EdgeDB 5.8): ``sys::Branch`` does not exist
there and ``sys::Database`` lists the branches; Gel 6 has ``sys::Branch``. Switching and globals
need a second branch and a global of our own: created here (``create empty branch``,
``create global``) and dropped at the end, or skipped with the server's refusal where the role
may not. Setup and checks use a raw ``gel`` client; the code under test runs as the page runs it
(``SessionRuntime`` with a client per branch, ``execute`` with ``with_globals``)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from ecc.branches.catalog import read_catalog
from ecc.driver.client import ClientOptions, create_gel_client
from ecc.running.sessions import SessionRuntime
from tests.live_support import LIVE, new_runtime, run_query
from tests.test_live import live_settings, raw, run_engine

pytestmark = LIVE


@contextmanager
def branch_runtime() -> Iterator[SessionRuntime]:
    """A session as the page runs it, with a client per branch; closed at the block's end."""
    settings = live_settings()
    options = ClientOptions(5, 5, max_concurrency=2)

    def on_branch(branch: str) -> Any:
        connection = dataclasses.replace(settings.connection, branch=branch)
        return create_gel_client(connection, options)

    runtime = new_runtime(lambda: create_gel_client(settings.connection, options),
                          settings.secret_values, branch_client_factory=on_branch)
    try:
        yield runtime
    finally:
        runtime.close()


def run(runtime: SessionRuntime, query: str, **request: Any) -> Any:
    """One query's finished record (``request``: ``branch``, ``globals``)."""
    record, _ = run_query(runtime, query, **request)
    return record


def ddl(statement: str) -> str | None:
    """Run one DDL statement on the default branch; the server's refusal, or None."""
    import gel

    async def body(client: Any) -> None:
        await client.execute(statement)

    try:
        raw(body)
    except gel.errors.EdgeDBError as exc:
        return f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}"
    return None


def scratch(what: str, name: str, create: str) -> Iterator[str]:
    """For a module fixture, ``yield from scratch(...)``: the ``what`` (branch, global)
    ``name``, made by the DDL ``create`` and dropped at the end; the tests are skipped with
    the server's refusal where the role may not create it."""
    refused = ddl(create)
    if refused:
        pytest.skip(f"the server refused to create a scratch {what}: {refused}")
    yield name
    ddl(f"drop {what} {name}")


def test_the_catalog_lists_the_current_branch_through_the_servers_own_type() -> None:
    found = run_engine(read_catalog)
    assert found.current is not None and found.current in found.names
    assert found.source in ("sys::Branch", "sys::Database"), found.problem


@pytest.fixture(scope="module")
def scratch_branch() -> Iterator[str]:
    name = f"ecclive_{uuid.uuid4().hex[:10]}"
    yield from scratch("branch", name, f"create empty branch {name}")


def test_a_run_on_another_branch_runs_there(scratch_branch: str) -> None:
    with branch_runtime() as runtime:
        default = run(runtime, "select sys::get_current_branch()")
        switched = run(runtime, "select sys::get_current_branch()", branch=scratch_branch)
        assert switched.status == "done", switched.error
        assert switched.result.value == [scratch_branch]
        assert default.result.value != [scratch_branch]
        # an empty branch has none of the default branch's user types
        counted = run(runtime, "select count(schema::ObjectType filter .name like 'default::%')",
                      branch=scratch_branch)
        assert counted.result.value == [0]
        assert runtime.branch_clients == (scratch_branch,)
    assert runtime.branch_clients == ()


def test_the_catalog_on_a_scratch_branch_names_it_current(scratch_branch: str) -> None:
    settings = live_settings()

    async def main() -> Any:
        client = create_gel_client(dataclasses.replace(settings.connection,
                                                       branch=scratch_branch), ClientOptions(5, 5))
        try:
            return await read_catalog(client)
        finally:
            await asyncio.wait_for(client.aclose(), 5)

    found = asyncio.run(main())
    assert found.current == scratch_branch and scratch_branch in found.names


def test_an_unknown_branch_fails_as_a_connection_error() -> None:
    with branch_runtime() as runtime:
        failed = run(runtime, "select 1", branch=f"nosuch_{uuid.uuid4().hex[:8]}")
        assert failed.status == "failed" and failed.error.kind == "connection"
        assert run(runtime, "select 1").status == "done"  # the session goes on


@pytest.fixture(scope="module")
def scratch_global() -> Iterator[str]:
    name = f"default::ecclive_g_{uuid.uuid4().hex[:8]}"
    yield from scratch("global", name, f"create global {name} -> str")


def test_a_run_applies_its_globals(scratch_global: str) -> None:
    with branch_runtime() as runtime:
        set_ = run(runtime, f"select global {scratch_global}",
                   globals={scratch_global: "acme"})
        unset = run(runtime, f"select global {scratch_global}")
        assert set_.status == "done", set_.error
        assert set_.result.value == ["acme"] and unset.result.value == []


def test_the_schema_model_reads_the_scratch_global(scratch_global: str) -> None:
    from ecc.schema.introspect import read_schema

    model = run_engine(read_schema)
    found = [g for g in model.globals if g.name == scratch_global]
    assert found and found[0].target == "std::str"
