"""Escaping hostile text for Streamlit's Markdown elements."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ecc.display.safe_text import WORD_JOINER, escape_markdown, label_markdown


def unescaped_markup(markdown: str) -> str | None:
    """The first ASCII punctuation character in ``markdown`` that is not backslash-escaped
    (so could start a Markdown construct), or None when every one is escaped."""
    i = 0
    while i < len(markdown):
        if markdown[i] == "\\":
            if i + 1 >= len(markdown) or markdown[i + 1] not in string.punctuation:
                return "\\"  # a lone backslash: itself literal only by luck
            i += 2
            continue
        if markdown[i] in string.punctuation:
            return markdown[i]
        i += 1
    return None


def unescape(markdown: str) -> str:
    """What CommonMark shows for backslash escapes (the escaped character itself), without the
    invisible word joiners that break autolinking."""
    markdown = markdown.replace(WORD_JOINER, "")
    out: list[str] = []
    i = 0
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown) and markdown[i + 1] in string.punctuation:
            out.append(markdown[i + 1])
            i += 2
        else:
            out.append(markdown[i])
            i += 1
    return "".join(out)


def test_links_images_and_html_are_escaped() -> None:
    text = "[x](https://evil.example) ![i](https://evil.example/i.png) <img src=x>"
    escaped = escape_markdown(text)
    assert escaped == (r"\[x\]\(https\:\/\/" "\u2060" r"evil\.example\) \!\[i\]\(https\:\/\/"
                       "\u2060" r"evil\.example\/i\.png\) \<img src\=x\>")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("ana@example.com", "ana\\@\u2060example\\.com"),
        ("see https://evil.example/x", "see https\\:\\/\\/\u2060evil\\.example\\/x"),
        ("HTTP://evil.example", "HTTP\\:\\/\\/\u2060evil\\.example"),
        ("_www.evil.example", "\\_www\u2060\\.evil\\.example"),
    ],
)
def test_addresses_and_urls_get_a_word_joiner_that_stops_autolinking(
    text: str, escaped: str
) -> None:
    assert escape_markdown(text) == escaped


def test_newlines_fold_so_no_block_can_start() -> None:
    assert escape_markdown("a\n# heading\r\n\n    code\t- item") == r"a \# heading code \- item"


def test_plain_words_stay_as_they_are() -> None:
    assert escape_markdown("Sign in to use this console") == "Sign in to use this console"


@given(st.text())
def test_any_text_is_shown_as_itself_with_no_markup_left(text: str) -> None:
    escaped = escape_markdown(text)
    assert unescaped_markup(escaped) is None
    assert unescape(escaped) == " ".join(text.split()).replace(WORD_JOINER, "")
    assert "\n" not in escaped


@pytest.mark.parametrize(
    ("label", "markdown"),
    [
        ("$title · str", "$title · str"),
        ("$n · optional int64", "$n · optional int64"),
        ("$tags · array<str>", "$tags · array\\<str>"),
        ("$p · tuple<x: float64, y: float64>", "$p · tuple\\<x: float64, y: float64>"),
        ("$g · default::Genre", "$g · default::Genre"),
        ("$0 · int64", "$0 · int64"),
        ("$my_title · str", "$my_title · str"),
        ("$__init__ · str", "$\\_\\_init\\_\\_ · str"),
        ("$_ · str", "$\\_ · str"),
        ("$t · tuple<__a: str, b__: int64>", "$t · tuple\\<\\_\\_a: str, b\\_\\_: int64>"),
    ],
)
def test_plain_parameter_labels_keep_their_characters(label: str, markdown: str) -> None:
    assert label_markdown(label) == markdown


def test_any_other_label_is_escaped_whole() -> None:
    hostile = "$`![x](http://evil.example/a.png)` · str"
    assert label_markdown(hostile) == escape_markdown(hostile)
    assert label_markdown("$a · str $b$") == escape_markdown("$a · str $b$")


_MD = MarkdownIt("gfm-like", {"linkify": True})


def rendered_inline(markdown: str) -> list[tuple[str, str]]:
    """The inline tokens (type, content) GFM Markdown parses ``markdown`` into."""
    return [(child.type, child.content) for token in _MD.parse(markdown)
            for child in token.children or ()]


@pytest.mark.parametrize(
    "label",
    ["$__init__ · str", "$_x_ · str", "$t · __T__", "$a · tuple<__a: str, b__: int64>",
     "$__ · optional array<__x__>", "$*a* · str", "$**a** · str", "$~~a~~ · str",
     "$_a_b_ · str"],
)
def test_a_label_with_emphasis_characters_renders_as_its_own_text(label: str) -> None:
    tokens = rendered_inline(label_markdown(label))
    # markdown-it keeps each backslash escape as a token of its own (`text_special`)
    assert {kind for kind, _ in tokens} <= {"text", "text_special"}, tokens
    assert "".join(text for _, text in tokens) == label


# Labels as the page writes them (no space at the end: the type name ends them).
@given(st.from_regex(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+) · [A-Za-z0-9_:<>, ]*[A-Za-z0-9_:<>,]",
                     fullmatch=True))
def test_any_plain_parameter_label_renders_as_its_own_text(label: str) -> None:
    tokens = rendered_inline(label_markdown(label))
    assert {kind for kind, _ in tokens} <= {"text", "text_special"}, tokens
    assert "".join(text for _, text in tokens) == label
