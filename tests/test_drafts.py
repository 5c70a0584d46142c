"""One path for a query's text (issue 20): what the form holds -> checked requests, or why not.

``ecc.arguments.drafts.build_requests`` reads a draft's text, typed values and argument text
once and checks every limit in one place; the typed inputs and the argument language meet the
same size rule with the same message.
"""

from __future__ import annotations

import pytest

from ecc.arguments.drafts import DraftLimits, QueryDraft, build_requests
from ecc.driver.client import Cardinality, QueryMethod
from ecc.driver.describe_cache import Description
from ecc.driver.errors import ErrorView
from tests.test_typed_inputs import genre

LIMITS = DraftLimits(max_query_chars=100, max_args_chars=50, max_batch=3)


def refusal(draft: QueryDraft, limits: DraftLimits = LIMITS) -> ErrorView:
    requests, errors = build_requests([draft], limits)
    assert requests == [] and len(errors) == 1
    return errors[0]


def after_the_part(view: ErrorView) -> str:
    """The size rule's words after the part it names ("$title is 60 characters")."""
    return view.message.split(" characters", 1)[1]


def test_typed_values_over_max_args_chars_are_refused_as_text_arguments_are() -> None:
    typed = refusal(QueryDraft("Query 1", "select <str>$title", typed=True,
                               raw_params={"title": "y" * 60}))
    text = refusal(QueryDraft("Query 1", "select <str>$title",
                              kwargs_text="title = '" + "y" * 50 + "'"))
    assert typed.title == text.title == "Arguments too large"
    assert typed.message.startswith("Query 1: $title is 60 characters")
    assert text.message.startswith("Query 1: the named arguments are 60 characters")
    assert after_the_part(typed) == after_the_part(text) == (
        "; the limit is 50 characters of arguments per query (max_args_chars). Nothing was run.")
    assert typed.hint == text.hint and "max_args_chars" in (typed.hint or "")


def test_typed_values_over_the_limit_are_refused_before_any_is_converted() -> None:
    view = refusal(QueryDraft("Query 1", "select <str>$title, <int64>$n", typed=True,
                              raw_params={"title": "y" * 60, "n": "not a number"}))
    assert view.title == "Arguments too large"


def test_an_input_the_form_holds_no_value_for_takes_the_remembered_one() -> None:
    (request,), errors = build_requests([QueryDraft(
        "Query 1", "select <str>$title", typed=True, remembered={"title": "Dune"})], LIMITS)
    assert errors == [] and request.kwargs == {"title": "Dune"}
    assert request.kwargs_text == 'title = "Dune"'  # kept for the history and Run again


def test_remembered_values_count_for_the_size_rule_too() -> None:
    view = refusal(QueryDraft("Query 1", "select <str>$title", typed=True,
                              remembered={"title": "y" * 51}))
    assert view.title == "Arguments too large" and "$title is 51 characters" in view.message


def test_only_the_querys_own_inputs_count() -> None:
    (request,), errors = build_requests([QueryDraft(
        "Q", "select <str>$title", typed=True, raw_params={"title": "a", "old": "z" * 99})],
        LIMITS)
    assert errors == [] and request.kwargs == {"title": "a"}


def test_the_servers_description_decides_the_typed_values() -> None:
    draft = QueryDraft("Query 1", "select <Genre>$g", typed=True, raw_params={"g": "Drama"})
    assert build_requests([draft], LIMITS).errors == []  # the text alone: any Genre text
    described = QueryDraft("Query 1", "select <Genre>$g", typed=True, raw_params={"g": "Drama"},
                           description=Description(0, genre("Action", "SciFi")))
    view = refusal(described)
    assert view.title == "Invalid parameter value" and view.subject == "Query 1 $g"
    assert "choose one of Action, SciFi" in view.message


def test_a_required_typed_value_left_empty_is_named() -> None:
    view = refusal(QueryDraft("Query 2", "select <int64>$0", typed=True, raw_params={"0": ""}))
    assert view.title == "Parameters needed" and "$0 (int64)" in view.message


def test_typed_values_replace_the_argument_text() -> None:
    (request,), _ = build_requests([QueryDraft(
        "Query 1", "select <int64>$0", args_text="[broken", typed=True,
        raw_params={"0": "5"})], LIMITS)
    assert (request.args, request.args_text) == ((5,), "5")


def test_the_text_is_checked_before_its_arguments_are_read() -> None:
    view = refusal(QueryDraft("Query 1", "select <str>$t" + " " * 100, typed=True,
                              raw_params={"t": "y" * 60}))
    assert "the limit is 100" in view.message and "max_query_chars" in (view.hint or "")


def test_analyze_sends_the_analyze_statement_with_the_querys_own_arguments() -> None:
    (request,), errors = build_requests([QueryDraft(
        "Query 1", "select <int64>$0", typed=True, raw_params={"0": "5"},
        method=QueryMethod.QUERY_SINGLE_JSON)], LIMITS, analyze=True)
    assert errors == []
    assert (request.query, request.args) == ("analyze select <int64>$0", (5,))
    assert request.method is QueryMethod.QUERY_SINGLE_JSON


def test_the_analyze_statement_is_what_meets_max_query_chars() -> None:
    draft = QueryDraft("Query 1", "select '" + "x" * 86 + "'")  # 95 characters
    assert build_requests([draft], LIMITS).errors == []
    _, errors = build_requests([draft], LIMITS, analyze=True)
    assert [e.subject for e in errors] == ["Query 1"]
    assert "103 characters; the limit is 100" in errors[0].message


def test_an_empty_extra_tab_is_left_out_and_a_batch_has_at_most_max_batch() -> None:
    drafts = [QueryDraft("Query 1", "select 1"),
              QueryDraft("Query 2", "  ", optional=True),
              *(QueryDraft(f"Query {n}", f"select {n}", optional=True) for n in (3, 4, 5))]
    requests, errors = build_requests(drafts, LIMITS)
    assert errors == [] and [r.name for r in requests] == ["Query 1", "Query 3", "Query 4"]


def test_an_empty_first_tab_is_refused() -> None:
    assert "Query 1 is empty" in refusal(QueryDraft("Query 1", " ")).message


def test_every_refused_draft_is_named_and_nothing_runs() -> None:
    drafts = [QueryDraft("Query 1", "select <int64>$0", typed=True, raw_params={"0": "x"}),
              QueryDraft("Query 2", "select 2", args_text="("),
              QueryDraft("Query 3", "select 3")]
    requests, errors = build_requests(drafts, LIMITS)
    assert [e.subject for e in errors] == ["Query 1 $0", "Query 2"]
    assert [r.name for r in requests] == ["Query 3"]  # the caller runs nothing: errors exist


@pytest.mark.parametrize("method", list(QueryMethod))
def test_a_method_names_the_cardinality_it_was_picked_with(method: QueryMethod) -> None:
    assert QueryMethod.pick(method.cardinality, method.returns_json) is method
    assert method.returns_many is (method.cardinality is Cardinality.MANY)
