"""The EdgeQL-aware tokenizer the scan uses: comments, every kind of string literal and
backquoted names skipped, C-speed searches between parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Tokenizer
#
# Scanning happens in two layers so that long texts cost C-speed searches, not Python loops:
#
# 1. `_Scanner.run` skips, with one regex match in C, everything up to the next `$`: plain code,
#    strings, comments and backquoted names. Only `$` (parameters, dollar quotes) and problems
#    cost Python work.
# 2. For each parameter, `_lex` tokenizes the stretch of plain code just before it (never more
#    than `MAX_CAST_CHARS`), where the cast must be. That stretch starts after the last string,
#    parameter or dollar quote, so it holds only code, comments and backquoted names.
#
# Token kinds: I identifier, Q backquoted name, N number, C `::`, the characters `:` `,` `<` `>`
# themselves, and O for anything else (an operator or bracket: a barrier no cast crosses).

# A cast is looked for in at most this many characters before its parameter: it bounds the work
# per parameter; longer casts are reported as a problem.
MAX_CAST_CHARS = 4096
# At most this many problems are listed; the rest are counted in a last, summary problem.
MAX_PROBLEMS = 100

_TOKEN_RE = re.compile(
    r"(?:\s|#[^\n]*+)*+"
    r"(?:"
    r"(?P<I>[^\W\d]\w*+)"
    r"|(?P<C>::)"
    r"|(?P<O><=|>=|:=|->|\.<)"
    r"|(?P<punct>[<>,:])"
    r"|(?P<Q>`[^`]*+(?:``[^`]*+)*+`)"
    r"|(?P<N>\d\w*+(?:\.\d\w*+)?)"
    r"|(?P<X>[\s\S])"
    r")"
)

_ESCAPED_STRING = r"'[^'\\]*+(?:\\[\s\S][^'\\]*+)*+'|\"[^\"\\]*+(?:\\[\s\S][^\"\\]*+)*+\""
_RAW_STRING = r"'[^']*+'|\"[^\"]*+\""
_BACKQUOTED = r"`[^`]*+(?:``[^`]*+)*+`"
# Everything up to the next `$` (or an opener that is never closed), in C: plain code, whole
# words (so that a string prefix is only ever seen at a word start), strings with their
# prefixes, comments and backquoted names. No capturing groups: CPython 3.11 mis-reports
# captures inside possessive repeats, and captures make each iteration slower.
_SKIP_RE = re.compile(
    r"(?:"
    r"[^$'\"`#\w]++"
    r"|(?:rb|br|r)(?:" + _RAW_STRING + r")"
    r"|b?(?:" + _ESCAPED_STRING + r")"
    r"|(?!(?:rb|br|r|b)['\"])\w++"
    r"|\#[^\n]*+"
    r"|" + _BACKQUOTED + r")*+"
)
_OPENER_RE = re.compile(r"\w*?([`'\"])")
_SPECIAL_RE = re.compile(r"[$'\"`#]")
_ESCAPED_STRING_RE = re.compile(_ESCAPED_STRING)
_RAW_STRING_RE = re.compile(_RAW_STRING)
_BACKQUOTED_RE = re.compile(_BACKQUOTED)
_DOLLAR_RE = re.compile(
    r"(?P<dollar_quote>\$\w*\$)"
    r"|(?P<quoted_param>\$`[^`]*+(?:``[^`]*+)*+`)"
    r"|(?P<param>\$\w+)"
    r"|(?P<bare>\$`?)"
)
_TYPE_TOKEN_KINDS = frozenset("IQC:,<>")


@dataclass
class _Lexed:
    """Parallel token arrays (cheaper than one object per token)."""

    text: str
    kinds: list[str]
    starts: list[int]
    ends: list[int]
    values: list[str]


def _lex(text: str, start: int = 0, stop: int | None = None) -> _Lexed:
    """Tokenize plain code `text[start:stop]` (strings and `$` come out as O barriers)."""
    stop = len(text) if stop is None else stop
    kinds: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    values: list[str] = []
    match = _TOKEN_RE.match
    pos = start
    while pos < stop:
        m = match(text, pos, stop)
        if m is None:  # only trailing whitespace or a comment is left
            break
        kind = m.lastgroup or "O"
        token_start = m.start(kind)
        if kind == "punct":
            kind = m.group(kind)
            value = ""
        elif kind == "I":
            value = m.group(kind)
        elif kind == "Q":
            value = m.group(kind)[1:-1].replace("``", "`")
        else:
            if kind == "X":
                kind = "O"  # any other character is a barrier too
            value = ""
        kinds.append(kind)
        starts.append(token_start)
        ends.append(m.end())
        values.append(value)
        pos = m.end()
    return _Lexed(text, kinds, starts, ends, values)


def _is_word_char(ch: str) -> bool:
    return ch == "_" or ch.isalnum()


def _raw_string_prefix(text: str, quote: int) -> bool:
    """Whether the quote at `quote` opens a raw string (`r'..'`, `rb'..'`, `br'..'`)."""
    for prefix in ("rb", "br", "r"):
        begin = quote - len(prefix)
        if (
            begin >= 0
            and text.startswith(prefix, begin)
            and (begin == 0 or not _is_word_char(text[begin - 1]))
        ):
            return True
    return False
