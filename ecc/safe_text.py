"""Hostile text made safe for Streamlit's Markdown (st.markdown, st.error/info/warning,
st.caption and widget labels all render GitHub-flavoured Markdown).

Text from a user, a shared link or the server goes through ``escape_markdown`` before it is
put into any of those. Invariant: the escaped text renders as the same characters, and as
nothing else: no link, image, heading, list, table, emphasis, code, HTML, math, directive
(``:red[...]``) or autolink.

How: every ASCII punctuation character is backslash-escaped (CommonMark allows exactly
those), which stops every construct that starts with punctuation. Autolink *literals*
(``www.x.org``, ``https://x.org``, ``a@b.org``) need no punctuation to start, and remark-gfm
finds them again in the text after escapes are resolved, so a zero-width joiner is put where
each would begin (after ``www``, before ``://`` and before ``@``); it is invisible.
Line breaks become spaces: one escaped string is one line of text.
"""

from __future__ import annotations

import re
import string

_ESCAPED = {ord(c): "\\" + c for c in string.punctuation}
_ZWJ = "\u2060"  # word joiner: invisible, not a word character, not whitespace
_AUTOLINK_STARTS = re.compile(r"(?i)(www)(?=\.)|(?=://)|(?=@)")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\v\f]+")


def escape_markdown(text: object) -> str:
    """``text`` as Markdown that shows exactly its characters (on one line)."""
    plain = _LINE_BREAKS.sub(" ", str(text))
    broken = _AUTOLINK_STARTS.sub(lambda m: (m.group(1) or "") + _ZWJ, plain)
    return broken.translate(_ESCAPED)
