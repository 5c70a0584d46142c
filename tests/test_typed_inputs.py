"""A session's typed inputs per text: described off the page run, following the schema."""

from __future__ import annotations

import concurrent.futures
import uuid
from typing import Any

import gel
import gel.describe as d
import gel.errors

from ecc.arguments.typed_inputs import SessionDescriptions
from ecc.driver.describe_cache import DescribeCache, Description

QUERY = "select <Genre>$g"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def genre(*members: Any) -> Any:
    """What a real server describes for `<Genre>$g` (enum members as given)."""
    enum = d.EnumType(desc_id=uuid.uuid4(), name="default::Genre", members=members)
    element = d.Element(type=enum, cardinality=gel.Cardinality.ONE, is_implicit=False,
                        kind=gel.ElementKind.PROPERTY)
    return d.ObjectType(desc_id=uuid.uuid4(), name=None, elements={"g": element})


class Server:
    """Starts describes whose futures the test completes, as the session's loop would."""

    def __init__(self, cache: DescribeCache) -> None:
        self.cache = cache
        self.started: list[tuple[str, int, concurrent.futures.Future[Description]]] = []

    def start(self, text: str) -> concurrent.futures.Future[Description]:
        future: concurrent.futures.Future[Description] = concurrent.futures.Future()
        self.started.append((text, self.cache.generation, future))
        return future

    def answer(self, input_type: Any, index: int = -1) -> None:
        text, generation, future = self.started[index]
        description = Description(0, input_type)
        self.cache.put(text, description, generation)  # what DescribeCache.describe does
        future.set_result(description)

    def fail(self, exc: BaseException, index: int = -1) -> None:
        self.started[index][2].set_exception(exc)


def members(tracker: SessionDescriptions, cache: DescribeCache, server: Server
            ) -> tuple[str, ...] | None:
    (param,) = tracker.inputs(QUERY, cache, server.start).parameters
    return param.type.enum_members or None


def test_a_new_text_is_offered_from_its_text_while_the_server_describes_it() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions()
    assert members(tracker, cache, server) is None  # the text's own reading, not waited for
    assert len(server.started) == 1 and tracker.awaiting
    assert not tracker.settle(cache)  # still under way: the page keeps polling
    server.answer(genre("Action", "SciFi"))
    assert tracker.settle(cache)  # the answer changes what the page offers: draw it again
    assert members(tracker, cache, server) == ("Action", "SciFi")
    assert len(server.started) == 1 and not tracker.awaiting


def test_a_warm_server_answer_within_the_wait_is_offered_in_the_same_run() -> None:
    cache = DescribeCache()
    tracker = SessionDescriptions()

    def start(text: str) -> concurrent.futures.Future[Description]:
        future: concurrent.futures.Future[Description] = concurrent.futures.Future()
        description = Description(0, genre("Action"))
        cache.put(text, description)
        future.set_result(description)
        return future

    (param,) = tracker.inputs(QUERY, cache, start, wait_s=0.1).parameters
    assert param.type.enum_members == ("Action",)
    assert not tracker.awaiting


def test_a_failed_run_of_the_text_makes_the_next_run_describe_it_again() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions()
    members(tracker, cache, server)
    server.answer(genre("Action", "SciFi"))
    assert members(tracker, cache, server) == ("Action", "SciFi")
    cache.discard(QUERY)  # the run failed (execute discards its text)
    assert members(tracker, cache, server) is None  # not the old members any more
    assert len(server.started) == 2
    server.answer(genre("Action", "ScienceFiction"))
    assert members(tracker, cache, server) == ("Action", "ScienceFiction")


def test_an_offer_lives_no_longer_than_the_describe_caches_ttl() -> None:
    clock = Clock()
    cache = DescribeCache(ttl_s=10, clock=clock)
    server = Server(cache)
    tracker = SessionDescriptions(clock=clock)
    members(tracker, cache, server)
    server.answer(genre("Action"))
    clock.now += 5  # the session first offers it half-way through the cache's TTL
    assert members(tracker, cache, server) == ("Action",)
    clock.now += 5.1  # past the cache entry's TTL (not 10 s after the session took it)
    members(tracker, cache, server)
    assert len(server.started) == 2


def test_a_describe_started_before_a_drop_is_not_offered_as_current() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions()
    members(tracker, cache, server)
    cache.clear()  # DDL ran while the describe was under way
    server.answer(genre("Old"))
    assert members(tracker, cache, server) is None
    assert len(server.started) == 2


def test_a_connection_failure_pauses_describes_and_the_page_says_so() -> None:
    clock = Clock()
    cache = DescribeCache(clock=clock)
    server = Server(cache)
    tracker = SessionDescriptions(backoff_s=30, clock=clock)
    members(tracker, cache, server)
    server.fail(gel.errors.ClientConnectionFailedTemporarilyError("no server"))
    assert tracker.settle(cache)  # the page is drawn again, with the notice
    notice = tracker.backoff_notice()
    assert notice is not None and "ClientConnectionFailedTemporarilyError" in notice
    for text in ("select <str>$a", "select <str>$ab", "select <str>$abc"):  # typing on
        assert [p.name for p in tracker.inputs(text, cache, server.start).parameters] == \
            [text.split("$")[1]]
    assert len(server.started) == 1
    clock.now += 30.1
    assert tracker.backoff_notice() is None
    tracker.inputs("select <str>$abcd", cache, server.start)
    assert len(server.started) == 2


def test_a_text_the_server_cannot_describe_is_not_described_on_every_run() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions()
    text = "select <str>$a +"
    tracker.inputs(text, cache, server.start)
    server.fail(gel.errors.EdgeQLSyntaxError("Unexpected end of line"))
    tracker.settle(cache)
    assert tracker.backoff_notice() is None  # the text's fault, not the server's
    tracker.inputs(text, cache, server.start)
    assert len(server.started) == 1
    cache.clear()  # the schema changed: worth asking again
    tracker.inputs(text, cache, server.start)
    assert len(server.started) == 2


def test_a_slow_server_gets_a_bounded_number_of_describes() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions(max_in_flight=2)
    for n in range(6):
        tracker.inputs(f"select <int64>$p{n}", cache, server.start)
    assert len(server.started) == 2


def test_a_text_without_parameters_never_asks_the_server() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions()
    assert tracker.inputs("select 1", cache, server.start).parameters == ()
    assert server.started == []


def test_a_refused_describe_is_trusted_for_the_ttl_from_when_it_was_asked() -> None:
    # The one staleness bound: a refusal collected late (no page run for a while) is not
    # trusted for another whole TTL from that page run.
    clock = Clock()
    cache = DescribeCache(ttl_s=10, clock=clock)
    server = Server(cache)
    tracker = SessionDescriptions(clock=clock)
    text = "select <Later>$a"
    tracker.inputs(text, cache, server.start)
    server.fail(gel.errors.InvalidReferenceError("type 'default::Later' does not exist"))
    clock.now += 9  # the next page run collects the refusal
    tracker.inputs(text, cache, server.start)
    assert len(server.started) == 1
    clock.now += 1.1  # 10.1 s after the server was asked
    tracker.inputs(text, cache, server.start)
    assert len(server.started) == 2


def test_a_refusal_seen_across_a_drop_is_not_kept() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions()
    text = "select <Later>$a"
    tracker.inputs(text, cache, server.start)
    cache.clear()  # DDL ran while the describe was under way: it may now describe
    server.fail(gel.errors.InvalidReferenceError("type 'default::Later' does not exist"))
    tracker.inputs(text, cache, server.start)
    assert len(server.started) == 2


def test_the_description_an_offer_comes_from_is_handed_to_a_submission() -> None:
    cache = DescribeCache()
    server = Server(cache)
    tracker = SessionDescriptions()
    assert tracker.description(QUERY, cache, server.start) is None  # still under way
    server.answer(genre("Action"))
    described = tracker.description(QUERY, cache, server.start)
    assert described is cache.peek(QUERY) and described is not None
    assert tracker.description("select 1", cache, server.start) is None  # nothing to ask
    assert len(server.started) == 1
