"""Hostile text (from a user, a link, the server or an identity provider) shown through
Streamlit's Markdown elements (``st.caption``, ``st.info``, ...) as the literal text it is."""

from __future__ import annotations

# CommonMark lets every ASCII punctuation character be backslash-escaped, and every Markdown
# construct that could turn text into something else starts with one of them: links and images
# ``[`` ``!``, HTML and autolinks ``<``, emphasis ``*`` ``_``, code `````, headings ``#``,
# tables ``|``, Streamlit's ``:red[...]`` directives ``:``, math ``$``, entities ``&``, and the
# ``@`` ``.`` ``/`` that GitHub's autolinking of bare addresses and URLs needs.
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def escape_markdown(text: str) -> str:
    """``text`` as one line of literal Markdown text: every ASCII punctuation character
    backslash-escaped, every run of whitespace (newlines included) folded into one space, so
    nothing in it can start a block (heading, list, code block) or an inline construct."""
    one_line = " ".join(text.split())
    return "".join("\\" + c if c in _ASCII_PUNCTUATION else c for c in one_line)
