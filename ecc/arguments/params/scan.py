"""``scan_parameters``: every ``$name`` of a query text, with the cast written before it, and
the problems a reader should be told (untyped, conflicting, gaps)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ecc.arguments.params.lexer import (
    _BACKQUOTED_RE,
    _DOLLAR_RE,
    _ESCAPED_STRING_RE,
    _OPENER_RE,
    _RAW_STRING_RE,
    _SKIP_RE,
    _SPECIAL_RE,
    _TYPE_TOKEN_KINDS,
    MAX_CAST_CHARS,
    MAX_PROBLEMS,
    _lex,
    _Lexed,
    _raw_string_prefix,
)
from ecc.arguments.params.type_syntax import _TypeParser, _TypeSyntaxError
from ecc.arguments.params.types import (
    _CONTAINERS,
    _QUALIFIERS,
    MAX_TYPE_DEPTH,
    UNTYPED,
    ParameterScan,
    ParamProblem,
    ParamType,
    QueryParameter,
    ScanStyle,
)

# ---------------------------------------------------------------------------------------------
# Casts before parameters

# Words that may legitimately stand right before a parameter (`select $x`, `limit $x`): a name
# right after an unclosed `<` is only read as "a cast missing its `>`" when it is not one.
_KEYWORDS = frozenset(
    {
        *("select", "filter", "order", "by", "limit", "offset", "and", "or", "not", "in"),
        *("like", "ilike", "is", "exists", "distinct", "if", "else", "with", "for", "union"),
        *("group", "insert", "update", "delete", "set", "detached", "global", "introspect"),
        *("typeof", "using", "on", "then"),
    }
)


@dataclass(frozen=True)
class _Cast:
    type: ParamType | None
    optional: bool
    problem: ParamProblem | None = None


_NO_CAST = _Cast(None, False)


def _open_type_like_lt(lx: _Lexed, start: int, stop: int, *, name_tail: bool) -> int | None:
    """Index of a `<` in `[start, stop)` that opens a type and is never closed, if any.

    A lone `<` is usually a comparison (`a < <str>$x`); it only counts as a broken cast when
    it follows a container keyword (`array<`), precedes `optional`/`required`/`array<`, or,
    with `name_tail`, is followed by nothing but a type name up to the parameter (`<str $x`).
    """
    kinds, values = lx.kinds, lx.values
    stack: list[int] = []
    for i in range(start, stop):
        if kinds[i] == "<":
            stack.append(i)
        elif kinds[i] == ">" and stack:
            stack.pop()
    for i in stack:
        if i - 1 >= start and kinds[i - 1] == "I" and values[i - 1].lower() in _CONTAINERS:
            return i
        if i + 1 < stop and kinds[i + 1] == "I":
            word = values[i + 1].lower()
            if word in _QUALIFIERS:
                return i
            if word in _CONTAINERS and i + 2 < stop and kinds[i + 2] == "<":
                return i
        if name_tail and _is_qualified_name(lx, i + 1, stop):
            return i
    return None


def _is_qualified_name(lx: _Lexed, start: int, stop: int) -> bool:
    if start >= stop or (stop - start) % 2 == 0:
        return False
    for j in range(start, stop):
        expected = ("I", "Q") if (j - start) % 2 == 0 else ("C",)
        if lx.kinds[j] not in expected:
            return False
    return not (lx.kinds[start] == "I" and lx.values[start].lower() in _KEYWORDS)


def _cast_from_tail(lx: _Lexed, name: str, truncated: bool) -> _Cast:
    """The cast at the very end of the tokens `lx` (the code just before `$name`).

    `truncated` says the tokens start in the middle of the code, `MAX_CAST_CHARS` before the
    parameter, so a cast whose `<` is not among them is too long rather than absent.
    """
    kinds, starts = lx.kinds, lx.starts
    p = len(kinds)
    s = p
    while s > 0 and kinds[s - 1] in _TYPE_TOKEN_KINDS:
        s -= 1
    if s == p:
        return _NO_CAST

    def malformed(detail: str, position: int) -> _Cast:
        message = (
            f"${name}: the cast before it is malformed ({detail}): write a type like "
            f"<str>${name} or <array<str>>${name}"
        )
        return _Cast(None, False, ParamProblem(name, message, position))

    if truncated and s == 0 and kinds[p - 1] == ">":
        # All the code kept is type-like and ends in `>`: the cast starts before the cut.
        return malformed(f"the cast is longer than {MAX_CAST_CHARS} characters", starts[p - 1])
    if "<" not in kinds[s:p]:
        return _NO_CAST  # no cast here; `a > $x` is a comparison with an uncast parameter
    if kinds[p - 1] != ">":
        open_lt = _open_type_like_lt(lx, s, p, name_tail=True)
        if open_lt is not None:
            return malformed(f"'<' at offset {starts[open_lt]} is never closed", starts[open_lt])
        return _NO_CAST

    # Walk back to the `<` matching the final `>`; stop early on absurd nesting.
    depth = 0
    j = p - 1
    while j >= s:
        kind = kinds[j]
        if kind == ">":
            depth += 1
            if depth > MAX_TYPE_DEPTH + 1:
                return malformed(
                    f"the type is nested more than {MAX_TYPE_DEPTH} levels deep", starts[j]
                )
        elif kind == "<":
            depth -= 1
            if depth == 0:
                break
        j -= 1
    if j < s:
        return malformed(f"'>' at offset {starts[p - 1]} has no matching '<'", starts[p - 1])
    # The cast's own `<` (index j) is included: `array<str>$x` leaves it after `array`.
    open_lt = _open_type_like_lt(lx, s, j + 1, name_tail=False)
    if open_lt is not None:
        return malformed(f"'<' at offset {starts[open_lt]} is never closed", starts[open_lt])

    parser = _TypeParser(lx, j + 1, p - 1)
    try:
        qualifier = parser.qualifier()
        ptype = parser.parse_type(0)
        if not parser.at_end():
            raise parser._fail(f"unexpected {parser._describe_current()} after the type")
    except _TypeSyntaxError as exc:
        return malformed(exc.message, exc.position if exc.position is not None else starts[j])
    return _Cast(ptype, bool(qualifier))


# ---------------------------------------------------------------------------------------------
# Scanning


@dataclass(slots=True)
class _Occurrence:
    position: int
    cast: _Cast


class _Scanner:
    """One pass over the text; see the tokenizer comment for the two layers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.problems: list[ParamProblem] = []
        self.dropped_problems = 0
        self.occurrences: dict[str, list[_Occurrence]] = {}
        # Casts already read, by the exact code before the parameter (problem-free ones only):
        # a long text repeating `<str>$a` lexes each distinct cast once.
        self._casts: dict[str, _Cast] = {}

    def problem(self, parameter: str | None, message: str, position: int | None) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(ParamProblem(parameter, message, position))
        else:
            self.dropped_problems += 1

    def run(self) -> None:
        text = self.text
        n = len(text)
        skip = _SKIP_RE.match
        pos = 0
        # End of the last parameter or dollar quote: scanning never needs to look before it.
        region_start = 0
        while True:
            skipped = skip(text, pos)
            i = skipped.end() if skipped else pos  # the pattern can match empty: never None
            if i >= n:
                return
            if text[i] != "$":
                # The skip stops elsewhere only at a string or name that is never closed.
                opener = _OPENER_RE.match(text, i)
                quote = opener.start(1) if opener else i
                what = "backquoted name" if text[quote] == "`" else "string"
                self.unterminated(what, quote, text[quote])
                return
            end = self.dollar(i, region_start)
            if end is None:
                return
            pos = region_start = end

    def code_start(self, region_start: int, position: int) -> int:
        """Where the plain code before the parameter at `position` begins (after any string).

        The last quote character before the parameter normally closes the last string. Only
        when a `#` or a backquote precedes it on its line might it sit inside a comment or a
        name; then the region is walked precisely.
        """
        text = self.text
        quote = max(
            text.rfind("'", region_start, position), text.rfind('"', region_start, position)
        )
        if quote < 0:
            return region_start
        line_start = max(region_start, text.rfind("\n", region_start, quote) + 1)
        if text.find("#", line_start, quote) < 0 and text.find("`", line_start, quote) < 0:
            return quote + 1
        return self.last_string_end(region_start, position)

    def last_string_end(self, start: int, stop: int) -> int:
        """End of the last string in `text[start:stop]`, a stretch already known to be whole."""
        text = self.text
        last = start
        pos = start
        while True:
            m = _SPECIAL_RE.search(text, pos, stop)
            if m is None:
                return last
            j = m.start()
            char = text[j]
            if char == "#":
                newline = text.find("\n", j, stop)
                if newline < 0:
                    return last
                pos = newline + 1
            elif char == "`":
                name = _BACKQUOTED_RE.match(text, j, stop)
                pos = name.end() if name else j + 1
            elif char in "'\"":
                string_re = _RAW_STRING_RE if _raw_string_prefix(text, j) else _ESCAPED_STRING_RE
                string = string_re.match(text, j, stop)
                pos = last = string.end() if string else j + 1
            else:
                pos = j + 1

    def unterminated(self, what: str, position: int, closer: str) -> None:
        self.problem(
            None,
            f"the {what} starting at offset {position} is never closed: add the closing "
            f"{closer} (parameters after it are not detected)",
            position,
        )

    def dollar(self, i: int, region_start: int) -> int | None:
        """Handle the `$` at `i`; return where scanning continues, None to stop."""
        text = self.text
        m = _DOLLAR_RE.match(text, i)
        if m is None:  # unreachable: `bare` matches any `$`
            return i + 1
        group = m.lastgroup
        token = m.group()
        if group == "dollar_quote":
            tag = token[1:-1]
            if tag and (tag[0].isdigit() or not tag.isascii()):
                self.problem(
                    None,
                    f"{token} at offset {i} is neither a parameter nor a dollar quote: "
                    "dollar-quote tags are ASCII and do not start with a digit",
                    i,
                )
                return m.end()
            close = text.find(token, m.end())
            if close < 0:
                self.unterminated("string", i, token)
                return None
            return close + len(token)
        if group == "quoted_param":
            name = token[2:-1].replace("``", "`")
            if not name:
                self.problem(
                    None, f"$`` at offset {i} is an empty parameter name: write $`my name`", i
                )
                return m.end()
            self.parameter(name, i, region_start)
            return m.end()
        if group == "param":
            name = token[1:]
            if name.isdigit() and name.isascii():
                if len(name) > 1 and name[0] == "0":
                    self.problem(
                        name,
                        f"${name}: write positional parameters without leading zeros "
                        f"(${int(name)})",
                        i,
                    )
                self.parameter(name, i, region_start)
            elif name[0] == "_" or name[0].isalpha():
                self.parameter(name, i, region_start)
            else:
                self.problem(
                    None,
                    f"${name} at offset {i} is not a valid parameter: named parameters start "
                    "with a letter or _ ($name), positional ones are digits only ($0)",
                    i,
                )
            return m.end()
        if token == "$`":
            self.unterminated("backquoted parameter name", i, "`")
            return None
        self.problem(
            None,
            f"'$' at offset {i} is not followed by a parameter name: write $name or $0",
            i,
        )
        return m.end()

    def parameter(self, name: str, position: int, region_start: int) -> None:
        code_start = self.code_start(region_start, position)
        truncated = position - code_start > MAX_CAST_CHARS
        if truncated:
            # Start after a newline if there is one: a comment cannot straddle that point.
            cut = position - MAX_CAST_CHARS
            newline = self.text.find("\n", cut, position)
            code_start = newline + 1 if newline >= 0 else cut
        code = self.text[code_start:position]
        cast = self._casts.get(code)
        if cast is None:
            cast = _cast_from_tail(_lex(self.text, code_start, position), name, truncated)
            if cast.problem is None:
                self._casts[code] = cast
        self.occurrences.setdefault(name, []).append(_Occurrence(position, cast))


def scan_parameters(query: str) -> ParameterScan:
    """Find the parameters named in `query`, their types, and what is wrong with them.

    Never raises: unreadable input yields problems, not exceptions.
    """
    try:
        return _scan(query)
    except Exception as exc:  # the contract is "never raises"; the fuzz tests look for this
        problem = ParamProblem(None, f"internal error while reading parameters: {exc!r}", None)
        return ParameterScan((), (problem,), "none")


def _scan(query: str) -> ParameterScan:
    scanner = _Scanner(query)
    scanner.run()
    problems = scanner.problems

    parameters: list[QueryParameter] = []
    for name, occs in scanner.occurrences.items():
        typed = [o for o in occs if o.cast.type is not None]
        problems.extend(o.cast.problem for o in occs if o.cast.problem is not None)
        first = typed[0] if typed else None
        if first is not None and first.cast.type is not None:
            ptype, optional = first.cast.type, first.cast.optional
        else:
            ptype, optional = UNTYPED, False
        problems.extend(_untyped_problems(name, occs, first))
        problems.extend(_conflict_problems(name, typed))
        positions = tuple(o.position for o in occs)
        parameters.append(QueryParameter(name, ptype, optional, positions))

    positional = [q for q in parameters if q.is_positional]
    named = [q for q in parameters if not q.is_positional]
    style: ScanStyle
    if positional and named:
        style = "mixed"
        pos_first = min(positional, key=lambda q: q.positions[0])
        named_first = min(named, key=lambda q: q.positions[0])
        later = max(pos_first, named_first, key=lambda q: q.positions[0])
        problems.append(
            ParamProblem(
                later.name,
                f"cannot mix ${pos_first.name} and ${named_first.name}: use one style, "
                "either all positional ($0, $1, ...) or all named ($title, ...)",
                later.positions[0],
            )
        )
    elif positional:
        style = "positional"
    elif named:
        style = "named"
    else:
        style = "none"
    problems.extend(_gap_problems(positional))

    parameters.sort(
        key=lambda q: (0, int(q.name), 0) if q.is_positional else (1, 0, q.positions[0])
    )
    problems.sort(key=lambda pr: -1 if pr.position is None else pr.position)
    dropped = scanner.dropped_problems + max(0, len(problems) - MAX_PROBLEMS)
    if dropped:
        problems = problems[:MAX_PROBLEMS]
        problems.append(
            ParamProblem(None, f"... and {dropped} more problems with parameters", None)
        )
    return ParameterScan(tuple(parameters), tuple(problems), style)


def _untyped_problems(
    name: str, occs: Sequence[_Occurrence], first: _Occurrence | None
) -> Iterable[ParamProblem]:
    uncast = [o for o in occs if o.cast.type is None and o.cast.problem is None]
    if not uncast:
        return []
    if first is None or first.cast.type is None:
        if any(o.cast.problem is not None for o in occs):
            return []  # already reported as a malformed cast
        o = uncast[0]
        return [ParamProblem(name, f"${name} has no type: write <str>${name}", o.position)]
    cast = first.cast.type.cast_text(first.cast.optional)
    return [
        ParamProblem(
            name,
            f"${name} at offset {o.position} has no type: every use needs the cast, "
            f"write {cast}${name} as at offset {first.position}",
            o.position,
        )
        for o in uncast
    ]


def _conflict_problems(name: str, typed: Sequence[_Occurrence]) -> Iterable[ParamProblem]:
    if not typed or typed[0].cast.type is None:
        return []
    first = typed[0]
    first_type = typed[0].cast.type
    reported: set[tuple[str, bool]] = set()
    result: list[ParamProblem] = []
    for o in typed[1:]:
        if o.cast.type is None:
            continue
        key = (o.cast.type.name, o.cast.optional)
        if key == (first_type.name, first.cast.optional) or key in reported:
            continue
        reported.add(key)
        a = first_type.cast_text(first.cast.optional)
        b = o.cast.type.cast_text(o.cast.optional)
        result.append(
            ParamProblem(
                name,
                f"${name} is cast two ways: {a} at offset {first.position} and {b} at offset "
                f"{o.position}: use the same cast everywhere",
                o.position,
            )
        )
    return result


def _gap_problems(positional: Sequence[QueryParameter]) -> Iterable[ParamProblem]:
    result: list[ParamProblem] = []
    expected = 0
    for q in sorted(positional, key=lambda q: int(q.name)):
        index = int(q.name)
        if index > expected:
            missing = f"${expected}" if index == expected + 1 else f"${expected}..${index - 1}"
            verb = "is" if index == expected + 1 else "are"
            result.append(
                ParamProblem(
                    q.name,
                    f"${q.name} is used but {missing} {verb} missing: number positional "
                    "parameters $0, $1, $2, ... without gaps",
                    q.positions[0],
                )
            )
        expected = index + 1
    return result
