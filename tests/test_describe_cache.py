"""Cached query descriptions: fewer round trips, bounded, dropped on DDL, never the guard."""

from __future__ import annotations

import asyncio
from typing import Any

import gel.errors
import pytest

from ecc.driver.describe_cache import DescribeCache, Description
from ecc.driver.errors import ConsoleInputError
from ecc.driver.execute import ExecutionPolicy, QueryRequest, execute
from ecc.fake.client import FakeClient
from tests.apptest_support import FakeFactory, console, run_query, shown

INSERT = "insert Movie {title := 'x'}"
DDL_TEXT = "create type Tmp"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(cache: DescribeCache, read_only: bool = True) -> ExecutionPolicy:
    return ExecutionPolicy(read_only=read_only, timeout_s=5.0, describe_cache=cache)


def run_all(client: FakeClient, texts: list[str], how: ExecutionPolicy) -> list[Any]:
    """Run each text in turn on one loop (the fake binds to the first loop, as the pool)."""

    async def go() -> list[Any]:
        out: list[Any] = []
        for text in texts:
            try:
                out.append(await execute(client, QueryRequest(name="Q1", query=text), how))
            except Exception as exc:
                out.append(exc)
        return out

    return asyncio.run(go())


# --- the cache itself -------------------------------------------------------------------------
def test_an_entry_lives_until_its_ttl() -> None:
    clock = Clock()
    cache = DescribeCache(ttl_s=10, clock=clock)
    cache.put("select 1", Description(0, None))
    clock.now += 9.9
    assert cache.get("select 1") == Description(0, None)
    clock.now += 0.2
    assert cache.get("select 1") is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first_beyond_the_bound() -> None:
    cache = DescribeCache(max_entries=2)
    cache.put("a", Description(0, None))
    cache.put("b", Description(0, None))
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", Description(0, None))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None


def test_a_describe_that_straddles_a_drop_is_not_kept() -> None:
    cache = DescribeCache()
    generation = cache.generation
    cache.clear()  # DDL ran while the describe was in flight
    cache.put("select 1", Description(0, None), generation)
    assert cache.get("select 1") is None


# --- through execute --------------------------------------------------------------------------
def test_a_repeated_query_is_described_once() -> None:
    fake, cache = FakeClient(), DescribeCache()
    results = run_all(fake, ["select 1", "select 1", "select 1"], policy(cache))
    assert results == [[1], [1], [1]]
    assert fake.stats.describes == 1
    assert cache.hits == 2


def test_a_changed_text_is_described_afresh_and_its_write_refused() -> None:
    fake, cache = FakeClient(), DescribeCache()
    first, second = run_all(fake, ["select 1", INSERT], policy(cache))
    assert first == [1]
    assert isinstance(second, ConsoleInputError)
    assert fake.stats.describes == 2
    assert [call[1] for call in fake.stats.calls] == ["select 1"]  # the insert never ran


def test_a_stale_entry_cannot_let_a_write_through_the_server_refuses_it() -> None:
    fake, cache = FakeClient(), DescribeCache()
    cache.put(INSERT, Description(0, None))  # wrong: as if the text had been a select
    (outcome,) = run_all(fake, [INSERT], policy(cache))
    # The console's guard was fooled; the read-only transaction was not.
    assert isinstance(outcome, gel.errors.TransactionError)
    assert fake.stats.describes == 0
    assert cache.get(INSERT) is None  # a server error drops the entry it was checked with


def test_running_ddl_drops_every_description() -> None:
    fake, cache = FakeClient({DDL_TEXT: []}), DescribeCache()
    run_all(fake, ["select 1"], policy(cache, read_only=False))
    cache.put("select 1", Description(0, None))
    assert len(cache) == 1
    (outcome,) = run_all(FakeClient({DDL_TEXT: []}), [DDL_TEXT], policy(cache, read_only=False))
    assert outcome == []
    assert len(cache) == 0


def test_a_known_select_keeps_the_cache_when_writes_are_allowed() -> None:
    cache = DescribeCache()
    cache.put("select 1", Description(0, None))
    cache.put("select 2", Description(0, None))
    run_all(FakeClient(), ["select 1"], policy(cache, read_only=False))
    assert len(cache) == 2


def test_an_unknown_query_while_writes_are_allowed_drops_the_cache() -> None:
    cache = DescribeCache()
    cache.put("select 2", Description(0, None))
    run_all(FakeClient({INSERT: ["new"]}), [INSERT], policy(cache, read_only=False))
    assert len(cache) == 0  # it might have been DDL: the console cannot vouch for it


# --- the page ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("clean_driver_env")
def test_a_warm_submit_asks_the_server_for_no_description() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select <str>$title", params={"title": "Dune"})
        client = factory.built[0]
        described = client.stats.describes
        assert described >= 1
        run_query(at, "select <str>$title", params={"title": "Arrival"})
        assert client.stats.describes == described
        assert [c[3] for c in client.stats.calls][-2:] == [{"title": "Dune"},
                                                            {"title": "Arrival"}]


@pytest.mark.usefixtures("clean_driver_env")
def test_the_page_still_refuses_a_write_typed_after_a_cached_select() -> None:
    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 1")
        run_query(at, INSERT)
        assert "read-only" in shown(at.error[0].value)
        assert [c[1] for c in factory.calls] == ["select 1"]


def test_without_a_cache_every_run_asks_the_server() -> None:
    fake = FakeClient()
    outcomes = run_all(fake, ["select 1", "select 1"],
                       ExecutionPolicy(read_only=True, timeout_s=5.0))
    assert outcomes == [[1], [1]]
    assert fake.stats.describes == 2


def test_a_moved_schema_probe_drops_every_description() -> None:
    cache = DescribeCache()
    cache.put("select <Genre>$g", Description(0, None))
    assert cache.follow_schema("probe-1") is False  # the first token seen: nothing to compare
    assert cache.follow_schema(None) is False  # a failed probe changes nothing
    assert cache.follow_schema("probe-1") is False and len(cache) == 1
    generation = cache.generation
    assert cache.follow_schema("probe-2") is True  # another client ran DDL
    assert len(cache) == 0 and cache.generation == generation + 1
