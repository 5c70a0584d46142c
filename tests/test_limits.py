"""Limits that hold on every path (issue 17), at the engine.

- One argument-size rule (``ecc.drafts.argument_size_error``) for typed inputs, the argument
  language, shared links and "Run again"; links are written and read with one measure.
"""

from __future__ import annotations

import pytest

from ecc.drafts import (
    DraftLimits,
    QueryDraft,
    argument_size_error,
    build_request,
    link_params,
    link_problem,
    request_argument_sizes,
    typed_argument_sizes,
)
from ecc.errors import ConsoleInputError
from ecc.execute import QueryRequest
from ecc.typed_inputs import argument_values, typed_inputs

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
