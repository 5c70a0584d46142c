"""Limits that hold on every path (issue 17), at the engine.

- One argument-size rule (``ecc.arguments.drafts.argument_size_error``) for typed inputs, the
  argument language, shared links and "Run again"; links are written and read with one measure.
- A result over ``max_kept_bytes`` keeps its metadata and says why; its size is estimated
  cheaply and the estimate stops once past the budget.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

import gel
import pytest
from gel.datatypes import datatypes as dt

from ecc.arguments.drafts import (
    MAX_LINK_BYTES,
    DraftLimits,
    QueryDraft,
    argument_size_error,
    argument_values,
    build_request,
    link_bytes,
    link_params,
    link_problem,
    request_argument_sizes,
    typed_argument_sizes,
)
from ecc.arguments.typed_inputs import typed_inputs
from ecc.display.results import ResultNotKept, estimated_bytes, shape_result, within_byte_budget
from ecc.driver.client import QueryMethod
from ecc.driver.errors import ConsoleInputError
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.fake.client import FakeClientFactory, demo_movies
from ecc.running.sessions import RuntimeLimits, SessionRuntime

LIMITS = DraftLimits(max_query_chars=100, max_args_chars=50)


# --- one argument-size rule --------------------------------------------------------------------
def test_the_size_rule_names_the_largest_part_and_the_limit() -> None:
    view = argument_size_error("Query 1", {"$title": 70_000, "$n": 4}, 65_536)
    assert view is not None and view.kind == "input" and view.subject == "Query 1"
    assert view.message.startswith("Query 1: $title is 70,000 characters (the arguments 70,004 "
                                   "in all); the limit is 65,536 characters")
    assert "max_args_chars" in view.message and "max_args_chars" in (view.hint or "")


def test_arguments_at_the_limit_pass() -> None:
    assert argument_size_error("Q", {"$a": 30, "$b": 20}, 50) is None
    assert argument_size_error("Q", {}, 50) is None


def test_typed_inputs_over_the_limit_are_refused_before_any_is_converted() -> None:
    inputs = typed_inputs("select <str>$title, <int64>$n")
    # $n is not a number: converting would report it; the size refusal comes first, alone.
    _, _, errors = argument_values("Query 1", inputs, {"title": "y" * 60, "n": "x"},
                                   max_args_chars=50)
    assert [e.title for e in errors] == ["Arguments too large"]
    assert "$title is 60 characters" in errors[0].message


def test_typed_inputs_within_the_limit_convert() -> None:
    inputs = typed_inputs("select <str>$title")
    _, kwargs, errors = argument_values("Query 1", inputs, {"title": "y" * 50},
                                        max_args_chars=50)
    assert errors == [] and kwargs == {"title": "y" * 50}


def test_only_the_querys_own_inputs_count() -> None:
    inputs = typed_inputs("select <str>$title")
    _, kwargs, errors = argument_values("Q", inputs, {"title": "a", "old": "z" * 99},
                                        max_args_chars=50)
    assert errors == [] and kwargs == {"title": "a"}


def test_the_argument_language_fields_count_together() -> None:
    draft = QueryDraft("Q1", "select 1", args_text="", kwargs_text="a = '" + "x" * 30 + "'")
    assert build_request(draft, LIMITS).kwargs == {"a": "x" * 30}
    with pytest.raises(ConsoleInputError) as refused:
        build_request(QueryDraft("Q1", "select 1", args_text="1" * 30, kwargs_text="2" * 30),
                      LIMITS)
    assert "(the arguments 60 in all)" in refused.value.view.message


def test_run_again_counts_the_arguments_text_the_history_keeps() -> None:
    request = QueryRequest(name="Q1", query="select <str>$t", kwargs={"t": "y" * 40},
                           kwargs_text="t := '" + "y" * 40 + "'")
    assert argument_size_error("Q1", request_argument_sizes(request), 50) is None
    view = argument_size_error("Q1", request_argument_sizes(request), 40)
    assert view is not None and "the named arguments are 47 characters" in view.message


# --- shared links: written and read with one measure -------------------------------------------
@pytest.mark.parametrize("size", [49, 50, 51, 70_000])
def test_a_typed_run_fits_its_link_exactly_when_it_passes_the_size_rule(size: int) -> None:
    raw = {"title": "y" * (size - 4), "flag": True, "unset": None, "off": False, "empty": ""}
    run_refused = argument_size_error("Q", typed_argument_sizes(raw), 50) is not None
    params = link_params("select <str>$title", "typed", "", "", raw)
    assert set(params) == {"q", "mode", "p.title", "p.flag"} and params["p.flag"] == "true"
    assert (link_problem(params, LIMITS) is not None) == run_refused


def test_a_text_run_fits_its_link_exactly_when_it_passes_the_size_rule() -> None:
    params = link_params("select $0", "text", "1" * 25, "2" * 25, {})
    assert link_problem(params, LIMITS) is None
    assert link_problem({**params, "kwargs": "2" * 26}, LIMITS) is not None


def test_link_problem_names_both_sizes_and_both_limits() -> None:
    problem = link_problem({"q": "s" * 101, "p.title": "x" * 3, "p.**x**": "x" * 99}, LIMITS)
    assert problem == ("its query has 101 characters and its arguments 3; this console accepts "
                       "at most 100 and 50")


DEFAULT_LIMITS = DraftLimits(max_query_chars=100_000, max_args_chars=65_536)


def a_link_of(size: int, fill: str = "é") -> dict[str, str]:
    """A one-tab link whose query string is exactly ``size`` bytes (``fill`` repeated,
    topped up with ASCII)."""
    base = link_bytes({"q": "select ''", "mode": "text"})
    each = link_bytes({"x": fill}) - 2
    count, rest = divmod(size - base, each)
    params = {"q": "select '" + fill * count + "x" * rest + "'", "mode": "text"}
    assert link_bytes(params) == size
    return params


@pytest.mark.parametrize("fill", ["é", "😀", " ", "a"])
def test_a_link_is_written_up_to_max_link_bytes_of_address_and_not_beyond(fill: str) -> None:
    at_most = a_link_of(MAX_LINK_BYTES, fill)
    assert link_problem(at_most, DEFAULT_LIMITS, max_link_bytes=MAX_LINK_BYTES) is None
    over = a_link_of(MAX_LINK_BYTES + 1, fill)
    assert link_problem(over, DEFAULT_LIMITS) is None  # the loader still takes it
    assert link_problem(over, DEFAULT_LIMITS, max_link_bytes=MAX_LINK_BYTES) == (
        f"its address would have {MAX_LINK_BYTES + 1:,} bytes; web servers and proxies accept "
        f"links of at most {MAX_LINK_BYTES:,}")


def test_a_query_within_max_query_chars_can_still_be_too_long_for_a_link() -> None:
    params = link_params("select '" + "q" * 10_000 + "'", "text", "", "", {})
    assert link_problem(params, DEFAULT_LIMITS) is None
    problem = link_problem(params, DEFAULT_LIMITS, max_link_bytes=MAX_LINK_BYTES)
    assert problem is not None and "6,144" in problem


# --- max_kept_bytes: a result's size, estimated ---------------------------------------------------
BIG = 10**12  # a budget nothing here reaches


@pytest.mark.parametrize(("value", "expected"), [
    ("héllo", 5),  # characters
    (b"\x00\x01\x02", 3),
    ([1, 2.5, True, None], 8 + 8 + 1 + 0),
    ([uuid.UUID(int=1), decimal.Decimal("1.5"), datetime.timedelta(seconds=1)], 16 + 16 + 8),
    ([["ab", "c"], ("d",), {"e", "ff"}], 3 + 1 + 3),
    ({"key": "value", "n": [1, 2]}, 3 + 5 + 1 + 16),
    (gel.NamedTuple(a="xyz", b=7), 3 + 8),
    (gel.Range(1, 10), 16),
])
def test_the_estimate_counts_the_data(value: object, expected: int) -> None:
    assert estimated_bytes(value, BIG) == expected


def test_objects_count_the_properties_the_page_shows_column_by_column() -> None:
    person = dt.create_object_factory(id={"property", "implicit"}, name="property",
                                      tags="property")
    rows = [person(uuid.UUID(int=i), "n" * i, ["t"] * i) for i in range(4)]
    assert estimated_bytes(rows, BIG) == (0 + 1 + 2 + 3) * 2  # the implicit id is not shown


def test_mixed_kinds_in_one_column_are_each_counted() -> None:
    assert estimated_bytes(["abc", 5, None, b"xy", ["q"]], BIG) == 3 + 8 + 0 + 2 + 1


def test_the_estimate_stops_once_past_the_budget() -> None:
    column = ["x" * 1000] * 200_000  # 200 MB of text, walked in chunks
    counted = estimated_bytes(column, 1_000_000)
    assert 1_000_000 < counted <= 1_000_000 + 65_536 * 1000  # stopped after one chunk
    assert estimated_bytes([column], 1_000_000) == counted  # nested: the same early stop


def test_a_result_within_the_budget_is_kept_as_it_is() -> None:
    shaped = shape_result(demo_movies(3), QueryMethod.QUERY, 100)
    assert within_byte_budget(shaped, 1_000) is shaped


def test_a_result_over_the_budget_keeps_its_metadata_and_says_why() -> None:
    shaped = shape_result(["y" * 30_000_000], QueryMethod.QUERY, 100, implicit_limit=101)
    not_kept = within_byte_budget(shaped, 20_000_000)
    assert not_kept == ResultNotKept(rows=1, more_rows=False, at_least_bytes=30_000_000,
                                     max_kept_bytes=20_000_000)
    assert not_kept.message() == (
        "The result (1 row) was at least 30 MB, over the 20 MB a session keeps per result "
        "(max_kept_bytes), so it was not kept. Narrow the query: fewer rows or properties, a "
        "filter or a limit.")


def test_a_json_result_counts_its_kept_text_too() -> None:
    text = '["' + "z" * 600 + '"]'
    shaped = shape_result(text, QueryMethod.QUERY_JSON, 100)
    assert shaped.json_text == text
    assert isinstance(within_byte_budget(shaped, 1_000), ResultNotKept)  # 604 + 600
    assert within_byte_budget(shaped, 1_204) is shaped


def test_a_run_over_max_kept_bytes_is_done_with_its_row_count_and_no_result() -> None:
    big = "select '" + "w" * 5_000 + "'"
    runtime = SessionRuntime("tok-bytes", FakeClientFactory(),
                             RuntimeLimits(max_kept_bytes=2_000, close_timeout_s=1.0))
    try:
        requests = [QueryRequest(name="big", query=big), QueryRequest(name="small",
                                                                      query="select 'ok'")]
        submitted = runtime.submit(requests, ExecutionPolicy(read_only=True, timeout_s=10))
        submitted.future.result(timeout=10)
        big_run, small_run = (runtime.book.get(r.run_id) for r in submitted.records)
        assert big_run is not None and small_run is not None
        assert (big_run.status, big_run.result, big_run.rows) == ("done", None, 1)
        assert big_run.not_kept is not None and big_run.not_kept.at_least_bytes == 5_000
        assert small_run.result is not None and small_run.not_kept is None
    finally:
        runtime.close()
