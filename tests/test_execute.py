"""Running one query: the read-only guard, timeouts, the six driver methods, and drafts.

Each test runs its coroutines on a fresh loop (``asyncio.run``): the fake binds to the first
loop that uses it, as the driver's pool does.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from typing import Any

import gel
import gel.errors
import pytest

from ecc.arguments.drafts import DraftLimits, QueryDraft, build_request, build_requests
from ecc.driver.client import Cardinality, FirstConnectGate, QueryMethod
from ecc.driver.describe_cache import DescribeCache
from ecc.driver.errors import ConsoleInputError, error_view
from ecc.driver.execute import (
    ExecutionPolicy,
    QueryRequest,
    cleanup_error_root,
    execute,
    refusal_reasons,
)
from ecc.fake.client import RELEASE_NONE_MESSAGE, FakeClient, demo_movies

READ_ONLY = ExecutionPolicy(read_only=True, timeout_s=5.0)
WRITES_ALLOWED = ExecutionPolicy(read_only=False, timeout_s=5.0)
EMPTY = "select Movie filter .title = 'nope'"
ONE = "select Movie filter .title = 'Alien'"


def run(client: FakeClient, query: str, policy: ExecutionPolicy = READ_ONLY, **request: Any) -> Any:
    return asyncio.run(execute(client, QueryRequest(name="Q1", query=query, **request), policy))


def answers() -> FakeClient:
    return FakeClient({EMPTY: [], ONE: demo_movies(1), "insert Movie {title := 'x'}": ["new"]})


# --- read-only mode -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("insert Movie {title := 'x'}", "modifies data"),
        ("update Movie set {title := 'y'}", "modifies data"),
        ("delete Movie", "modifies data"),
        ("with m := (select Movie) delete m", "modifies data"),
        ("create type Tmp", "changes the schema"),
        ("drop type Tmp", "changes the schema"),
        ("configure instance set query_execution_timeout := <duration>'1s'", "server config"),
        ("configure current branch set allow_bare_ddl := 'NeverAllow'", "server config"),
        ("configure session set apply_access_policies := false", "session configuration"),
        ("start transaction", "controls transactions"),
    ],
)
def test_read_only_refuses_a_writing_query_before_sending_it(query, reason) -> None:
    fake = FakeClient()
    with pytest.raises(ConsoleInputError) as caught:
        run(fake, query)
    view = caught.value.view
    assert view.kind == "input"
    assert view.title == "Refused: read-only mode"
    assert reason in view.message
    assert "Nothing was run" in view.message
    assert "read_only = false" in (view.hint or "")
    assert fake.stats.describes == 1  # the server was asked...
    assert fake.stats.calls == []  # ...but the query never reached it
    assert fake.stats.transactions == 0


def test_read_only_refusal_names_every_reason() -> None:
    assert refusal_reasons(1 | 8) == [
        "modifies data (insert, update or delete)",
        "changes the schema (DDL)",
    ]
    assert refusal_reasons(0) == []


def test_a_field_named_like_a_keyword_is_not_refused() -> None:
    fake = FakeClient({"select Movie {updated_at}": []})
    assert run(fake, "select Movie {updated_at}") == []


def test_read_only_runs_a_select_inside_a_read_only_transaction() -> None:
    fake = FakeClient()
    assert run(fake, "select 42") == [42]
    assert fake.stats.describes == 1
    assert fake.stats.transactions == 1
    assert [call[:2] for call in fake.stats.calls] == [("query", "select 42")]


def test_read_only_transaction_stops_a_write_the_description_missed() -> None:
    query = "insert Movie {title := 'x'}"
    fake = FakeClient(capabilities={query: 0})  # a description that says "no writes"
    with pytest.raises(gel.errors.TransactionError, match="read-only transaction"):
        run(fake, query)
    assert fake.stats.transactions == 1


def test_writes_allowed_skips_describe_and_transaction() -> None:
    fake = answers()
    assert run(fake, "insert Movie {title := 'x'}", WRITES_ALLOWED) == ["new"]
    assert fake.stats.describes == 0
    assert fake.stats.transactions == 0
    assert len(fake.stats.calls) == 1


# --- timeouts -------------------------------------------------------------------------------
def test_query_execution_timeout_is_passed_with_config() -> None:
    fake = FakeClient()
    run(fake, "select 1", ExecutionPolicy(timeout_s=7.5))
    assert fake.stats.configs == [{"query_execution_timeout": datetime.timedelta(seconds=7.5)}]


def test_server_timeout_raises_query_timeout_error() -> None:
    fake = FakeClient()
    started = time.monotonic()
    with pytest.raises(gel.errors.QueryTimeoutError):
        run(fake, "select sys::_sleep(30)", ExecutionPolicy(timeout_s=0.1))
    assert time.monotonic() - started < 1.0  # the server's bound, not the sleep


def test_client_bound_is_past_the_server_bound() -> None:
    assert ExecutionPolicy(timeout_s=0.2).client_bound_s == pytest.approx(1.2)
    assert ExecutionPolicy(timeout_s=60).client_bound_s == pytest.approx(66.0)


def test_client_bound_raises_timeout_error_when_the_server_never_answers() -> None:
    async def never(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        await asyncio.Event().wait()

    fake = FakeClient(never)
    policy = ExecutionPolicy(read_only=False, timeout_s=0.2)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run(fake, "select 1", policy)
    elapsed = time.monotonic() - started
    assert policy.client_bound_s <= elapsed < policy.client_bound_s + 1.0
    assert fake.stats.cancelled == 1
    assert fake.stats.in_flight == 0
    assert error_view(TimeoutError(), timeout_s=policy.timeout_s).kind == "timeout"


# --- a connection that fails inside the read-only transaction -----------------------------
def test_a_failed_connection_inside_the_transaction_is_reported_as_itself() -> None:
    """Issue 17: after one good query the description is cached, describe is skipped, and
    the connection first fails inside the transaction, whose clean-up error used to hide it."""
    cache = DescribeCache()
    policy = ExecutionPolicy(read_only=True, timeout_s=5.0, describe_cache=cache)
    assert run(FakeClient(), "select 1", policy) == [1]  # a good connection describes it
    wrong_password = FakeClient(connect_error=gel.errors.AuthenticationError(
        "authentication failed"))
    with pytest.raises(gel.errors.AuthenticationError, match="authentication failed"):
        run(wrong_password, "select 1", policy)
    assert wrong_password.stats.describes == 0  # the cached description was used
    view = error_view(gel.errors.AuthenticationError("authentication failed"))
    assert (view.kind, view.title) == ("connection", "AuthenticationError")


def test_the_fake_masks_a_failed_connection_as_the_driver_does() -> None:
    """The shipped fake reproduces gel 3.1: the transaction's clean-up raises the pool's
    InterfaceError with the connection error as its context."""
    refused = gel.errors.ClientConnectionFailedTemporarilyError("refused")

    async def body() -> None:
        client = FakeClient(connect_error=refused)
        async for tx in client.transaction():
            async with tx:
                await tx.query("select 1")

    with pytest.raises(gel.errors.InterfaceError, match="received invalid connection") as caught:
        asyncio.run(body())
    assert caught.value.__context__ is refused
    assert cleanup_error_root(caught.value) is refused


def test_cleanup_error_root_leaves_other_errors_alone() -> None:
    assert cleanup_error_root(gel.errors.InterfaceError("client has been closed")) is None
    assert cleanup_error_root(gel.errors.InterfaceError(RELEASE_NONE_MESSAGE)) is None
    assert cleanup_error_root(ValueError("x")) is None


# --- the six methods ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cardinality", "as_json", "method"),
    [
        (Cardinality.MANY, False, QueryMethod.QUERY),
        (Cardinality.AT_MOST_ONE, False, QueryMethod.QUERY_SINGLE),
        (Cardinality.EXACTLY_ONE, False, QueryMethod.QUERY_REQUIRED_SINGLE),
        (Cardinality.MANY, True, QueryMethod.QUERY_JSON),
        (Cardinality.AT_MOST_ONE, True, QueryMethod.QUERY_SINGLE_JSON),
        (Cardinality.EXACTLY_ONE, True, QueryMethod.QUERY_REQUIRED_SINGLE_JSON),
    ],
)
def test_pick_maps_cardinality_and_json_to_the_driver_method(cardinality, as_json, method) -> None:
    picked = QueryMethod.pick(cardinality, as_json)
    assert picked is method
    assert picked.returns_json is as_json
    assert picked.returns_many is (cardinality is Cardinality.MANY)
    fake = answers()
    run(fake, ONE, method=picked)
    assert fake.stats.calls[0][0] == method.value  # that method reached the client


def test_query_returns_a_list_of_objects() -> None:
    result = run(FakeClient(), "select Movie", method=QueryMethod.QUERY)
    assert isinstance(result, list) and len(result) == 10
    assert isinstance(result[0], gel.Object)
    assert result[0].title == "Alien"


def test_query_json_returns_json_text() -> None:
    result = run(FakeClient(), "select Movie", method=QueryMethod.QUERY_JSON)
    assert isinstance(result, str)
    assert json.loads(result)[0] == {"title": "Alien", "release_year": 1979, "rating": 8.5}


def test_query_single_returns_the_one_object() -> None:
    result = run(answers(), ONE, method=QueryMethod.QUERY_SINGLE)
    assert isinstance(result, gel.Object) and result.title == "Alien"


def test_query_single_on_empty_returns_none() -> None:
    assert run(answers(), EMPTY, method=QueryMethod.QUERY_SINGLE) is None


def test_query_single_json_on_empty_returns_null() -> None:
    assert run(answers(), EMPTY, method=QueryMethod.QUERY_SINGLE_JSON) == "null"


def test_query_single_json_returns_one_json_value() -> None:
    result = run(answers(), ONE, method=QueryMethod.QUERY_SINGLE_JSON)
    assert json.loads(result)["title"] == "Alien"


@pytest.mark.parametrize(
    "method", [QueryMethod.QUERY_REQUIRED_SINGLE, QueryMethod.QUERY_REQUIRED_SINGLE_JSON]
)
def test_required_single_on_empty_raises_no_data(method) -> None:
    with pytest.raises(gel.errors.NoDataError, match=f"{method.value}\\(\\) returned no data"):
        run(answers(), EMPTY, method=method)


@pytest.mark.parametrize(
    "method",
    [
        QueryMethod.QUERY_SINGLE,
        QueryMethod.QUERY_REQUIRED_SINGLE,
        QueryMethod.QUERY_SINGLE_JSON,
        QueryMethod.QUERY_REQUIRED_SINGLE_JSON,
    ],
)
def test_single_methods_on_many_rows_raise_interface_error(method) -> None:
    with pytest.raises(gel.errors.InterfaceError, match="more than one element"):
        run(FakeClient(), "select Movie", method=method)


def test_arguments_reach_the_driver() -> None:
    fake = FakeClient()
    assert run(fake, "select <str>$name", kwargs={"name": "Alice"}) == ["Alice"]
    assert run(FakeClient(), "select <int64>$0", args=(7,)) == [7]
    assert fake.stats.calls[0][3] == {"name": "Alice"}


def test_a_server_error_propagates_with_its_position() -> None:
    with pytest.raises(gel.errors.InvalidReferenceError) as caught:
        run(FakeClient(), "select Nope")
    view = error_view(caught.value, query="select Nope")
    assert (view.kind, view.line, view.column) == ("query", 1, 8)


# --- drafts: everything checked before anything is sent --------------------------------------
LIMITS = DraftLimits(max_query_chars=100, max_args_chars=50)


def refused(draft: QueryDraft, limits: DraftLimits = LIMITS) -> Any:
    with pytest.raises(ConsoleInputError) as caught:
        build_request(draft, limits)
    view = caught.value.view
    assert view.kind == "input"
    assert view.subject == draft.name
    return view


def test_draft_becomes_a_request_with_parsed_arguments() -> None:
    draft = QueryDraft("Q1", "select <int64>$0", args_text="1, 'x'", method=QueryMethod.QUERY_JSON)
    request = build_request(draft, LIMITS)
    assert request.args == (1, "x")
    assert request.kwargs == {}
    assert request.method is QueryMethod.QUERY_JSON
    assert request.args_text == "1, 'x'"


def test_draft_named_arguments_are_parsed() -> None:
    request = build_request(QueryDraft("Q1", "select <str>$name", kwargs_text="name = 'A'"), LIMITS)
    assert (request.args, request.kwargs) == ((), {"name": "A"})


def test_mixed_positional_and_named_arguments_are_refused() -> None:
    view = refused(QueryDraft("Q1", "select $0", args_text="1", kwargs_text="a = 2"))
    assert view.title == "Mixed arguments"
    assert "one style or the other" in view.message


def test_mixed_typed_arguments_are_refused_too() -> None:
    view = refused(QueryDraft("Q1", "select <int64>$0 + <int64>$a", typed=True,
                              raw_params={"0": "1", "a": "2"}))
    assert view.title == "Parameter problem"
    assert "cannot mix $0 and $a" in view.message


def test_mixed_arguments_never_reach_the_client() -> None:
    fake = FakeClient()
    drafts = [QueryDraft("Q1", "select 1", args_text="1", kwargs_text="a = 2")]
    requests, errors = build_requests(drafts, LIMITS)
    if not errors:  # the page's rule: run nothing when a draft is refused
        for request in requests:
            asyncio.run(execute(fake, request, READ_ONLY))
    assert [e.title for e in errors] == ["Mixed arguments"]
    assert fake.stats.calls == [] and fake.stats.describes == 0


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_query_is_refused(text) -> None:
    assert "Q1 is empty" in refused(QueryDraft("Q1", text)).message


def test_query_over_the_size_limit_is_refused() -> None:
    view = refused(QueryDraft("Q1", "select 1" + " " * 100))
    assert "108 characters; the limit is 100" in view.message
    assert "max_query_chars" in (view.hint or "")


def test_query_at_the_size_limit_is_accepted() -> None:
    assert build_request(QueryDraft("Q1", "select 1".ljust(100)), LIMITS).query


@pytest.mark.parametrize("field", ["args_text", "kwargs_text"])
def test_arguments_over_the_size_limit_are_refused(field) -> None:
    texts = {"args_text": "", "kwargs_text": "", field: "1" * 51}
    view = refused(QueryDraft("Q1", "select 1", texts["args_text"], texts["kwargs_text"]))
    assert "51 characters; the limit is 50" in view.message


def test_nul_character_is_refused() -> None:
    assert "NUL" in refused(QueryDraft("Q1", "select 1\x00")).message


def test_unreadable_argument_text_gives_the_excerpt() -> None:
    view = refused(QueryDraft("Q2", "select $0", args_text="1, [2,"))
    assert view.title == "Invalid argument"
    assert "cannot read the positional arguments" in view.message
    assert (view.line, view.column) == (1, 4)
    assert view.excerpt == "1, [2,\n   ^"


def test_unreadable_named_arguments_point_at_the_line() -> None:
    view = refused(QueryDraft("Q1", "select $a", kwargs_text="a = 1\nb = ]"))
    assert "named arguments" in view.message
    assert (view.line, view.column) == (2, 5)


def test_typed_arguments_replace_the_text_fields() -> None:
    draft = QueryDraft("Q1", "select <int64>$0", args_text="[broken", typed=True,
                       raw_params={"0": "5"})
    assert build_request(draft, LIMITS).args == (5,)


def test_build_requests_returns_one_view_per_refused_draft() -> None:
    drafts = [
        QueryDraft("Q1", "select 1"),
        QueryDraft("Q2", ""),
        QueryDraft("Q3", "select 2", args_text="("),
    ]
    requests, errors = build_requests(drafts, LIMITS)
    assert [r.name for r in requests] == ["Q1"]
    assert [e.subject for e in errors] == ["Q2", "Q3"]


# --- the first connection: one attempt, shared --------------------------------------------------
def test_concurrent_first_connections_share_one_attempt_and_its_failure() -> None:
    refused = gel.errors.ClientConnectionFailedTemporarilyError("refused")
    gate = FirstConnectGate()

    async def body() -> list[object]:
        client = FakeClient(connect_error=refused)
        return list(await asyncio.gather(gate.pass_through(client), gate.pass_through(client),
                                         return_exceptions=True))

    assert asyncio.run(body()) == [refused, refused]
    assert gate.attempts == 1 and not gate.connected


def test_after_one_success_the_gate_never_connects_again() -> None:
    gate = FirstConnectGate()
    policy = ExecutionPolicy(read_only=True, timeout_s=5.0, first_connect=gate)
    client = FakeClient()

    async def body() -> list[object]:
        return [await execute(client, QueryRequest(name="Q1", query="select 1"), policy)
                for _ in range(3)]

    assert asyncio.run(body()) == [[1], [1], [1]]
    assert gate.attempts == 1 and gate.connected
