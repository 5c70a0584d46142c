"""History entries and saved queries as typed values, and the checks that make anything read
back from the browser (or a file) safe to use.

A history entry is what a run was, never what it returned: query text, arguments (as the
argument language's text, as the session's history keeps them), method, status, elapsed
time, row count, when, the branch it ran on and the globals its status line showed. A saved
query is a named query with its arguments (and the branch it was saved on, when known).

Stored form: version 2 adds the branch (``b``) and the globals' text (``g``); version 1
entries (written before branches existed) still load, with neither.

Invariant: every ``HistoryEntry`` and ``SavedQuery`` that exists passed ``check_*``: its query
is non-empty, free of NUL and at most ``max_query_chars``; its arguments fit
``max_args_chars`` by the one rule of ``ecc.arguments.drafts``; every field has its type and a
bounded size. Values read from storage are parsed with those checks and an entry that fails
is dropped (and removed from the browser), never half-used.
"""

from __future__ import annotations

import functools
import json
import math
import re
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

from ecc.arguments.drafts import (
    MAX_LINK_BYTES,
    DraftLimits,
    QueryDraft,
    argument_size_error,
    link_params,
    link_problem,
)
from ecc.driver.client import QueryMethod
from ecc.settings.config import BRANCH_NAME_RE, ConsoleSettings

WIRE_VERSION = 2
READABLE_VERSIONS = (1, 2)  # v1: no branch, no globals (read as the connection's, none)
# Status words a stored history entry may carry (the session's run statuses that end a run).
HISTORY_STATUSES = ("done", "failed", "cancelled", "timed out")
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 2_000
# The globals' text a history entry keeps (what the status line showed); a longer one is cut
# when recorded, and refused when read back (it is not one the console wrote).
MAX_GLOBALS_CHARS = 1_000
_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A stored value is its query and arguments plus at most this much of JSON around them.
_WIRE_OVERHEAD_CHARS = (MAX_NAME_CHARS + MAX_DESCRIPTION_CHARS + MAX_GLOBALS_CHARS + 63) * 6 \
    + 512
_LATEST_WHEN = 4_102_444_800.0  # 2100-01-01: a stored time past it is not a time we wrote


class StoredValueError(ValueError):
    """A stored or imported value that cannot be used; the message says why, in plain words."""


@dataclass(frozen=True)
class MemoryLimits:
    """The bounds of the analyst's memory, from the settings."""

    max_query_chars: int = 100_000
    max_args_chars: int = 65_536
    history_size: int = 1_000
    history_chars: int = 2_000_000
    saved_size: int = 500
    saved_chars: int = 1_000_000

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> MemoryLimits:
        return cls(max_query_chars=settings.max_query_chars,
                   max_args_chars=settings.max_args_chars,
                   history_size=settings.browser_history_size,
                   history_chars=settings.browser_history_chars,
                   saved_size=settings.saved_queries_size,
                   saved_chars=settings.saved_queries_chars)

    @property
    def max_value_chars(self) -> int:
        """The longest stored value (JSON text) a valid entry can need."""
        return (self.max_query_chars + self.max_args_chars) * 6 + _WIRE_OVERHEAD_CHARS


def new_id() -> str:
    """A fresh entry id (12 URL-safe characters)."""
    return secrets.token_urlsafe(9)


@dataclass(frozen=True)
class HistoryEntry:
    id: str
    query: str
    method: QueryMethod = QueryMethod.QUERY
    args_text: str = ""
    kwargs_text: str = ""
    status: str = "done"
    elapsed_s: float | None = None
    rows: int | None = None
    when: float = 0.0  # seconds since the epoch
    # The branch the run was on, by name as the page showed it ("": not known, a version 1
    # entry or a run on the server's unnamed default), and the globals it applied, as text.
    branch: str = ""
    globals_text: str = ""

    def wire(self) -> str:
        """The value the browser stores (compact JSON)."""
        return _dumps({"v": WIRE_VERSION, "q": self.query, "a": self.args_text,
                       "k": self.kwargs_text, "m": self.method.value, "s": self.status,
                       "e": self.elapsed_s, "r": self.rows, "t": self.when,
                       "b": self.branch, "g": self.globals_text})

    @functools.cached_property
    def stored_chars(self) -> int:
        return _utf16_units(self.id + self.wire())


@dataclass(frozen=True)
class SavedQuery:
    id: str
    name: str
    query: str
    method: QueryMethod = QueryMethod.QUERY
    args_text: str = ""
    kwargs_text: str = ""
    when: float = 0.0  # saved (or last changed), seconds since the epoch
    description: str = ""
    branch: str = ""  # the branch it was saved on ("": not recorded; runs on the session's)

    def wire(self) -> str:
        return _dumps({"v": WIRE_VERSION, "n": self.name, "q": self.query, "a": self.args_text,
                       "k": self.kwargs_text, "m": self.method.value, "t": self.when,
                       "d": self.description, "b": self.branch})

    @functools.cached_property
    def stored_chars(self) -> int:
        return _utf16_units(self.id + self.wire())


Entry = TypeVar("Entry", HistoryEntry, SavedQuery)

class Loadable(Protocol):
    """What a history entry, a saved query and a team query share: a query to load or run."""

    @property
    def query(self) -> str: ...
    @property
    def method(self) -> QueryMethod: ...
    @property
    def args_text(self) -> str: ...
    @property
    def kwargs_text(self) -> str: ...


Found = TypeVar("Found", bound=Loadable)


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stored_chars(entry: HistoryEntry | SavedQuery) -> int:
    """What an entry costs in localStorage: its key's id and its value, in UTF-16 code units
    (the unit browsers count quotas in). Computed once per entry (entries are immutable)."""
    return entry.stored_chars


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _stored_as(entry: Entry, entry_id: str, raw: str) -> Entry:
    """``entry`` knowing its storage cost from the text the browser holds (no re-encoding:
    ``stored_chars`` is a cached property, kept in the instance's ``__dict__``)."""
    entry.__dict__["stored_chars"] = _utf16_units(entry_id + raw)
    return entry


# --- checks -------------------------------------------------------------------------------------


def _unicode(text: str, what: str) -> str:
    """``text`` when it is valid Unicode: JSON may carry a lone surrogate (``\\ud800``), which
    no page element can send (Streamlit's messages are UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StoredValueError(f"its {what} holds a lone surrogate (not valid Unicode)") from None
    return text


def check_name(name: object) -> str:
    """A saved query's name, trimmed: 1 to ``MAX_NAME_CHARS`` characters, no control
    characters (a name is one line)."""
    if not isinstance(name, str):
        raise StoredValueError("its name is not text")
    name = name.strip()
    if not name:
        raise StoredValueError("its name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise StoredValueError(f"its name is {len(name):,} characters; at most "
                               f"{MAX_NAME_CHARS} are allowed")
    if _CONTROL.search(name):
        raise StoredValueError("its name holds a line break or another control character")
    return _unicode(name, "name")


def check_branch(branch: object) -> str:
    """A recorded branch name: "" (none recorded) or a name of the shape the settings accept
    (1 to 63 printable characters, no surrounding blanks)."""
    if branch is None or branch == "":
        return ""
    if not isinstance(branch, str):
        raise StoredValueError("its branch is not text")
    if len(branch) > 63 or branch != branch.strip() or not BRANCH_NAME_RE.fullmatch(branch):
        raise StoredValueError("its branch is not a branch name (1 to 63 printable characters)")
    return _unicode(branch, "branch")


def recorded_globals(text: str) -> str:
    """The globals' text as a history entry keeps it: one line, at most ``MAX_GLOBALS_CHARS``
    (the status line's text is the console's own, but built from values users typed)."""
    line = _CONTROL.sub(" ", text)
    return line if len(line) <= MAX_GLOBALS_CHARS else line[:MAX_GLOBALS_CHARS - 1] + "…"


def check_query(query: object, args_text: object, kwargs_text: object,
                limits: MemoryLimits) -> tuple[str, str, str]:
    """Query text and argument texts under the same rules as typed text."""
    if not isinstance(query, str) or not isinstance(args_text, str) \
            or not isinstance(kwargs_text, str):
        raise StoredValueError("its query or arguments are not text")
    if not query.strip():
        raise StoredValueError("its query is empty")
    if len(query) > limits.max_query_chars:
        raise StoredValueError(f"its query is {len(query):,} characters; the limit is "
                               f"{limits.max_query_chars:,} (max_query_chars)")
    if "\x00" in query or "\x00" in args_text or "\x00" in kwargs_text:
        raise StoredValueError("it holds a NUL character")
    _unicode(query, "query")
    _unicode(args_text + kwargs_text, "arguments")
    sizes = {"the positional arguments": len(args_text), "the named arguments": len(kwargs_text)}
    if argument_size_error("it", sizes, limits.max_args_chars) is not None:  # the one rule
        raise StoredValueError(f"its arguments are {sum(sizes.values()):,} characters; the "
                               f"limit is {limits.max_args_chars:,} (max_args_chars)")
    return query, args_text, kwargs_text


def check_method(method: object) -> QueryMethod:
    try:
        return QueryMethod(method)
    except ValueError:
        raise StoredValueError("its method is not one of the driver's six") from None


def _check_id(entry_id: object) -> str:
    if not isinstance(entry_id, str) or not _ID.fullmatch(entry_id):
        raise StoredValueError("its id is not one the console writes")
    return entry_id


def _number(value: object, what: str, *, whole: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            (whole and not isinstance(value, int)) or not math.isfinite(value) or value < 0:
        raise StoredValueError(f"its {what} is not a {'whole ' if whole else ''}number >= 0")
    return value


def _when(value: object) -> float:
    when = _number(value, "time")
    if when is None or when > _LATEST_WHEN:
        raise StoredValueError("its time is missing or not a time")
    return float(when)


def _text(value: object, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StoredValueError(f"its {what} is not text")
    if len(value) > limit:
        raise StoredValueError(f"its {what} is {len(value):,} characters; at most "
                               f"{limit:,} are allowed")
    return _unicode(value, what)


def _object(raw: object, limits: MemoryLimits) -> dict[str, Any]:
    """A stored value's JSON object, its size checked before it is parsed."""
    if not isinstance(raw, str):
        raise StoredValueError("it is not text")
    if len(raw) > limits.max_value_chars:
        raise StoredValueError(f"it is {len(raw):,} characters, more than any entry needs")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise StoredValueError("it is not valid JSON") from None
    if not isinstance(value, dict):
        raise StoredValueError("it is not a JSON object")
    version = value.get("v")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise StoredValueError("its format version is not one this console reads (1 or 2)")
    return value


def _branch_fields(value: Mapping[str, Any]) -> tuple[str, str]:
    """(branch, globals' text) of a stored value; a version 1 value has neither (a branch
    or globals in one is not a value the console wrote)."""
    if value["v"] == 1:
        if "b" in value or "g" in value:
            raise StoredValueError("it names a branch, which format version 1 does not hold")
        return "", ""
    globals_text = _text(value.get("g"), "globals", MAX_GLOBALS_CHARS)
    if _CONTROL.search(globals_text):
        raise StoredValueError("its globals hold a line break or another control character")
    return check_branch(value.get("b")), globals_text


def history_from_wire(entry_id: object, raw: object, limits: MemoryLimits) -> HistoryEntry:
    """One history entry read back from the browser; raises ``StoredValueError``."""
    value = _object(raw, limits)
    query, args_text, kwargs_text = check_query(value.get("q"), value.get("a", ""),
                                                value.get("k", ""), limits)
    status = value.get("s")
    if status not in HISTORY_STATUSES:
        raise StoredValueError("its status is not one a run ends with")
    rows = _number(value.get("r"), "row count", whole=True)
    branch, globals_text = _branch_fields(value)
    checked_id = _check_id(entry_id)
    entry = HistoryEntry(id=checked_id, query=query, method=check_method(value.get("m")),
                         args_text=args_text, kwargs_text=kwargs_text, status=str(status),
                         elapsed_s=_number(value.get("e"), "elapsed time"),
                         rows=None if rows is None else int(rows), when=_when(value.get("t")),
                         branch=branch, globals_text=globals_text)
    return _stored_as(entry, checked_id, str(raw))


def saved_from_wire(entry_id: object, raw: object, limits: MemoryLimits) -> SavedQuery:
    """One saved query read back from the browser; raises ``StoredValueError``."""
    value = _object(raw, limits)
    query, args_text, kwargs_text = check_query(value.get("q"), value.get("a", ""),
                                                value.get("k", ""), limits)
    branch, _ = _branch_fields(value)
    checked_id = _check_id(entry_id)
    entry = SavedQuery(id=checked_id, name=check_name(value.get("n")), query=query,
                       method=check_method(value.get("m")), args_text=args_text,
                       kwargs_text=kwargs_text, when=_when(value.get("t")),
                       description=_text(value.get("d"), "description", MAX_DESCRIPTION_CHARS),
                       branch=branch)
    return _stored_as(entry, checked_id, str(raw))


# --- bounds and search ---------------------------------------------------------------------------


def bounded(entries: Sequence[Entry], max_entries: int, max_chars: int
            ) -> tuple[list[Entry], list[Entry]]:
    """(kept, dropped) of ``entries`` (newest first): the newest that fit ``max_entries`` and
    ``max_chars`` together; everything older than the first that does not fit is dropped."""
    kept: list[Entry] = []
    chars = 0
    for index, entry in enumerate(entries):
        cost = stored_chars(entry)
        if len(kept) >= max_entries or chars + cost > max_chars:
            return kept, list(entries[index:])
        kept.append(entry)
        chars += cost
    return kept, []


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (-e.when, e.id))


def _terms(text: str) -> list[str]:
    return text.casefold().split()


def matches(entry: Loadable, search: str) -> bool:
    """Every word of ``search`` appears (case-insensitively) in the entry's query, arguments
    or, for a saved or team query, its name or description."""
    haystack = "\n".join((entry.query, entry.args_text, entry.kwargs_text,
                          str(getattr(entry, "name", "")),
                          str(getattr(entry, "description", "")))).casefold()
    return all(term in haystack for term in _terms(search))


def search(entries: Iterable[Found], text: str) -> list[Found]:
    """The entries matching ``text`` (all of them for blank text), in their order."""
    if not _terms(text):
        return list(entries)
    return [entry for entry in entries if matches(entry, text)]


def now() -> float:
    return time.time()


# --- using a kept query -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueryText:
    """A query as the form holds it (the page's current query, to save)."""

    query: str
    method: QueryMethod = QueryMethod.QUERY
    args_text: str = ""
    kwargs_text: str = ""
    branch: str = ""  # the branch the page is on ("": the connection's, unnamed)


def draft_of(kept: Loadable, name: str) -> QueryDraft:
    """A kept query as the form's draft (arguments as the argument language's text), to run
    through the same checks as typed text (``ecc.arguments.drafts.build_request``)."""
    return QueryDraft(name=name, text=kept.query, args_text=kept.args_text,
                      kwargs_text=kept.kwargs_text, method=kept.method)


def shared_link(kept: Loadable, limits: DraftLimits, *, branch: str | None = None
                ) -> tuple[str | None, str | None]:
    """(the page address's query string, why there is none): the link a run of ``kept``
    writes, so it opens as today's links do (``&branch=`` when it is on a branch other
    than the connection's: ``st_page.links.share_link``); None with the reason when the
    loader would refuse it or it is too long for servers and proxies."""
    params = link_params(kept.query, "text", kept.args_text, kept.kwargs_text, {})
    if branch:
        params = {**params, "branch": branch}
    problem = link_problem(params, limits, max_link_bytes=MAX_LINK_BYTES)
    if problem is not None:
        return None, problem
    return "?" + urlencode(params), None
