"""Hostile text made safe for Streamlit's Markdown (st.markdown, st.error/info/warning,
st.caption and widget labels all render GitHub-flavoured Markdown).

Text from a user, a shared link, the server or an identity provider goes through
``escape_markdown`` before it is put into any of those. Invariant: the escaped text renders as
its own characters (whitespace folded), and as nothing else: no link, image, heading, list,
table, emphasis, code, HTML, math, directive (``:red[...]``) or autolink.
"""

from __future__ import annotations

import re

# CommonMark lets every ASCII punctuation character be backslash-escaped, and every Markdown
# construct that could turn text into something else starts with one of them: links and images
# ``[`` ``!``, HTML and autolinks ``<``, emphasis ``*`` ``_``, code `````, headings ``#``,
# tables ``|``, Streamlit's ``:red[...]`` directives ``:``, math ``$``, entities ``&``.
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

# Escapes do not stop GitHub's autolinking of bare addresses and URLs: Streamlit's Markdown
# (remark-gfm) finds ``x@y.z``, ``http(s)://...`` and ``www.x`` in the text *after* parsing,
# where the escapes are gone (seen in Chromium: an escaped address still became a mailto link).
# An invisible WORD JOINER after ``@`` and ``://`` and before ``www``'s dot breaks those
# patterns while the text looks the same (a copy of the shown text holds them).
WORD_JOINER = "\u2060"
_WHITESPACE = re.compile(r"\s+")
_AUTOLINK_POINTS = re.compile(r"(?<=@)|(?<=://)|(?<=www)(?=\.)", re.IGNORECASE)


def escape_markdown(text: object, *, fragment: bool = False) -> str:
    """``text`` as one line of literal Markdown text: every ASCII punctuation character
    backslash-escaped, every run of whitespace (newlines included) folded into one space, so
    nothing in it can start a block (heading, list, code block) or an inline construct; and a
    ``WORD_JOINER`` where GitHub's autolinking would otherwise turn it into a link.

    Whitespace at the ends is dropped, unless ``fragment`` (a piece of a longer line, whose
    edge spaces separate it from its neighbours) keeps it as one space."""
    folded = _WHITESPACE.sub(" ", str(text))
    one_line = _AUTOLINK_POINTS.sub(WORD_JOINER, folded if fragment else folded.strip())
    return "".join("\\" + c if c in _ASCII_PUNCTUATION else c for c in one_line)


# A typed input's label as the console writes it: ``$name · [optional ]type``, name an
# identifier or a position (``$0``), type made of names, ``::``, ``<>``, commas and
# ``name:`` (named tuples). Of those characters only ``<`` (an HTML tag) and ``_`` (emphasis)
# can start Markdown.
# ``$name · type`` (a parameter) or ``module::name · type`` (a global).
_PLAIN_LABEL = re.compile(r"(?:\$(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+)"
                          r"|[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)"
                          r" · [A-Za-z0-9_:<>, ]+")
_UNDERSCORE_RUN = re.compile(r"_+")
_WORD_CHAR = re.compile(r"[A-Za-z0-9]")


def _escape_edge_underscores(run: re.Match[str]) -> str:
    """A run of ``_`` between two letters or digits (``snake_case``) can neither open nor
    close emphasis (CommonMark's intraword rule for ``_``), so it stays as typed; any other
    run (``__init__``, ``b_:``) is escaped, every character of it."""
    text = run.string
    inside_word = (run.start() > 0 and _WORD_CHAR.match(text[run.start() - 1]) is not None
                   and run.end() < len(text) and _WORD_CHAR.match(text[run.end()]) is not None)
    return run.group() if inside_word else "\\_" * len(run.group())


def label_markdown(text: str) -> str:
    """A widget label: Markdown for the eye, but also the input's accessible name as it is
    (Streamlit puts the raw label in ``aria-label``). A plain parameter or global label keeps its
    characters, but for ``<`` (``array<str>`` would start an HTML tag) and underscores that
    could delimit emphasis (``$__init__``); anything else (a backquoted name from a shared link,
    say) is escaped whole by ``escape_markdown``."""
    if _PLAIN_LABEL.fullmatch(text):
        return _UNDERSCORE_RUN.sub(_escape_edge_underscores, text.replace("<", "\\<"))
    return escape_markdown(text)
