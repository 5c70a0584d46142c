"""The page under hostile input and session churn (issue: hardening).

- Typed values the argument language cannot write back never crash the page.
- Text from the query, a shared link or the server never renders as Markdown structure: the
  page's Markdown is parsed with a CommonMark + GFM parser (markdown-it with linkify) and must
  hold no link, image, heading, table, list, HTML or emphasis that came from the payload.
- Buttons look their runtime up when clicked: a reaped session's "Run again" works.
- A session with too many queued queries is refused with a message, nothing queued.
"""

from __future__ import annotations

import time
from typing import Any

import gel
import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from ecc.fake.client import server_error
from tests.apptest_support import (
    FakeFactory,
    console,
    run_query,
    set_query_text,
    shown,
    submit,
    texts,
)

PAYLOADS = (
    "![](http://evil.example/px.png) [Session expired: sign in again](https://evil.example/login)",
    "<img src=x onerror=alert(1)> <a href='https://evil.example'>x</a>",
    "# Heading\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    "https://evil.example/raw www.evil.example mail@evil.example",
    "<https://evil.example/autolink> **bold** _em_ `code` :red[red] $x^2$",
    "- item\n1. item\n> quote",
)
STRUCTURE = {"link_open", "image", "heading_open", "table_open", "bullet_list_open",
             "ordered_list_open", "blockquote_open", "html_inline", "html_block", "strong_open",
             "em_open", "code_inline"}
_MD = MarkdownIt("gfm-like", {"linkify": True})


def one_line(text: str) -> str:
    return " ".join(text.split())


def structure_in(markdown: str) -> set[str]:
    """The Markdown constructs ``markdown`` renders as (GFM, with autolink literals)."""
    found: set[str] = set()
    for token in _MD.parse(markdown):
        found.add(token.type)
        for child in token.children or ():
            found.add(child.type)
    return found & STRUCTURE


def page_markdown(at: AppTest) -> list[str]:
    """Every Markdown body and widget label on the page that may carry foreign text."""
    bodies = [str(el.value) for kind in ("markdown", "caption", "error", "info", "warning",
                                         "success") for el in getattr(at, kind)]
    labels = [str(w.label) for kind in ("text_input", "checkbox", "selectbox")
              for w in getattr(at, kind)]
    return bodies + labels


def foreign_structure(at: AppTest) -> set[str]:
    """Structure in page text that is not the page's own (its docs links, bold labels)."""
    found: set[str] = set()
    for body in page_markdown(at):
        if "evil" not in body and "Heading" not in body and "item" not in body:
            continue  # the page's own text
        # The page's own bold (the error's title) goes; an escaped payload has no bare "**".
        found |= structure_in(body.replace("**", ""))
    return found


def test_the_escape_itself_leaves_no_structure_for_any_payload() -> None:
    from ecc.display.safe_text import escape_markdown

    for payload in PAYLOADS:
        assert structure_in(payload), payload  # the payload *would* render as structure
        escaped = escape_markdown(payload)
        assert structure_in(escaped) == set(), payload
        assert structure_in(f"**Title** — {escaped}") == {"strong_open"}
        assert shown(escaped) == one_line(payload)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_backquoted_parameter_name_from_a_link_renders_as_text(payload: str) -> None:
    name = payload.replace("`", "'")
    with console() as at:
        at.query_params["q"] = f"select <str>$`{name}`"
        at.run()
        assert not at.exception
        assert foreign_structure(at) == set()
        labels = [shown(w.label) for w in at.text_input]
        assert any(one_line(name) in label for label in labels)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_server_error_text_renders_as_text(payload: str) -> None:
    query = "select Broken"

    def respond(q: str, args: Any, kwargs: Any) -> Any:
        return server_error(gel.errors.InvalidReferenceError, payload, hint=payload,
                            details=payload)

    with console(FakeFactory(responder={query: lambda a, k: respond(query, a, k)})) as at:
        at.run()
        run_query(at, query)
        assert not at.exception
        assert at.error, "the error is shown"
        assert foreign_structure(at) == set()
        assert one_line(payload) in texts(at)


@pytest.mark.parametrize(
    ("query", "name"),
    [("select <str>$__init__", "$__init__"), ("select <str>$`*a*`", "$*a*"),
     ("select <str>$`__x__`", "$__x__"), ("select <default::__T__>$t", "__T__")],
)
def test_a_parameter_name_with_emphasis_characters_labels_as_text(query: str, name: str) -> None:
    with console() as at:
        at.query_params["q"] = query
        at.run()
        assert not at.exception
        labels = [str(w.label) for w in at.text_input]
        assert any(name in shown(label) for label in labels), labels
        assert set().union(*(structure_in(label) for label in labels)) == set(), labels


def test_a_parameter_problem_quoting_the_query_renders_as_text() -> None:
    with console() as at:
        at.run()
        run_query(at, "select $`![x](http://evil.example/a.png)`")
        assert not at.exception
        assert foreign_structure(at) == set()


@pytest.mark.parametrize("value", ["(1, 10]", "[1, 10]", "empty", "(, 5]"])
def test_a_range_the_argument_language_cannot_write_runs_and_is_kept(value: str) -> None:
    factory = FakeFactory(responder={"select <range<int64>>$r": lambda a, k: [k["r"]]})
    with console(factory) as at:
        at.run()
        run_query(at, "select <range<int64>>$r", params={"r": value})
        assert not at.exception
        assert not at.error, [e.value for e in at.error]
        [(_, _, _, kwargs)] = factory.calls
        assert isinstance(kwargs["r"], gel.Range)
        at.toggle(key="show_history").set_value(True).run()
        # The finished run is in the session's history and in what the browser keeps.
        assert at.toggle(key="show_history").label == "History (1) · 1 kept in this browser"


def test_run_again_after_the_session_was_reaped_runs_on_a_new_runtime() -> None:
    import st_utils

    factory = FakeFactory()
    with console(factory) as at:
        at.run()
        run_query(at, "select 1")
        at.toggle(key="show_history").set_value(True).run()
        registry = st_utils.session_registry()
        reaped = registry.reap_idle(time.monotonic() + 10_000, 300)
        assert len(reaped) == 1
        at.button(key="history_rerun").click().run()
        assert not at.exception
        assert not at.error, [e.value for e in at.error]
        assert [c[1] for c in factory.calls] == ["select 1", "select 1"]
        # Drawn while the second run was queued: the browser keeps it once it finished.
        assert at.toggle(key="show_history").label == "History (2) · 1 kept in this browser"


def test_too_many_queued_queries_are_refused_with_a_message() -> None:
    factory = FakeFactory()
    with console(factory, max_running=1, max_batch=2, max_queued=2, stream_window_s=0) as at:
        at.session_state["tab_count"] = 2
        at.run()
        for tab in range(2):
            set_query_text(at, "select sys::_sleep(30)", tab=tab)
        submit(at)  # one runs, one waits
        assert "Too many queued queries" not in texts(at)
        for tab in range(2):
            set_query_text(at, "select sys::_sleep(20)", tab=tab)
        submit(at)  # 1 waiting + 2 more > 2
        assert not at.exception
        assert "Too many queued queries" in texts(at)
        assert "limit of 2 waiting queries" in texts(at)
        assert [c[1] for c in factory.calls] == ["select sys::_sleep(30)"]
        at.button(key="cancel_all").click().run()


def test_max_queued_below_max_batch_is_a_settings_error() -> None:
    with console(max_batch=10, max_queued=5) as at:
        at.run()
        assert "max_queued (5) must be at least max_batch (10)" in texts(at)


def test_a_result_cut_by_the_server_says_so_and_keeps_only_the_bound() -> None:
    factory = FakeFactory()
    with console(factory, max_kept_rows=5) as at:
        at.run()
        run_query(at, "select Movie {title}")
        assert not at.exception
        [client] = factory.built
        limits = dict(client.stats.implicit_limits)
        assert limits["select Movie {title}"] == 6  # the rows kept, plus one to see "more"
        assert "showing 5 of more than 5 rows" in texts(at)
        assert "The result was cut" in texts(at)
        assert len(at.dataframe[0].value) == 5
