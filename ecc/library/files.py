"""Saved queries as files: export as JSON or ``.edgeql`` with a small header, and import
either back. An imported file is hostile input: its size, its entries' count and every field
go through the same checks as stored entries (``ecc.library.entries``), and every refusal is
an ``ErrorView`` naming the file and the entry.

The ``.edgeql`` form (also what a team library file may carry, ``ecc.library.team``)::

    # --- saved query ---
    # name: Movies since
    # method: query_json
    # named_arguments: "{year: 2020}"
    # saved: 2026-12-06T20:00:00Z
    # branch: staging
    # Any other leading comment line is the description.
    select Movie { title } filter .year >= <int64>$year

``branch`` (the branch it was saved on; the console writes it since saved queries keep one)
is optional: files without it import with none, and a value that is not a branch name is
refused like any other field.

Header values that start with ``"`` are JSON strings (arguments may hold line breaks).
Several queries go in one file, each starting with the marker line; a file without the
marker is one query.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ecc.driver.client import QueryMethod
from ecc.driver.errors import ErrorView
from ecc.library.entries import (
    MAX_DESCRIPTION_CHARS,
    MemoryLimits,
    SavedQuery,
    StoredValueError,
    check_branch,
    check_method,
    check_name,
    check_query,
    new_id,
    now,
)

JSON_FORMAT = "ecc-saved-queries"
JSON_VERSION = 1
MARKER = "# --- saved query ---"
HEADER_KEYS = ("name", "method", "positional_arguments", "named_arguments", "saved",
               "description", "branch")
_HEADER = re.compile(r"#\s*([a-z_]+)\s*:\s?(.*)")


@dataclass(frozen=True)
class ParsedQuery:
    """One query read from ``.edgeql`` text, not yet checked."""

    name: str
    query: str
    method: str = QueryMethod.QUERY.value
    args_text: str = ""
    kwargs_text: str = ""
    description: str = ""
    saved: str | None = None
    branch: str = ""


@dataclass(frozen=True)
class ImportResult:
    queries: tuple[SavedQuery, ...]
    problems: tuple[ErrorView, ...]


def _iso(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: object) -> float:
    if not isinstance(text, str):
        return now()
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return now()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return min(max(parsed.timestamp(), 0.0), now())


# --- export -------------------------------------------------------------------------------------


def export_json(queries: Sequence[SavedQuery]) -> str:
    return json.dumps({"format": JSON_FORMAT, "version": JSON_VERSION, "queries": [
        {"name": q.name, "query": q.query, "method": q.method.value,
         "positional_arguments": q.args_text, "named_arguments": q.kwargs_text,
         "description": q.description, "saved": _iso(q.when), "branch": q.branch}
        for q in queries]},
        ensure_ascii=False, indent=2)


def edgeql_block(query: SavedQuery | ParsedQuery, *, marker: bool = True) -> str:
    """One query as ``.edgeql`` text with its header."""
    method = query.method.value if isinstance(query.method, QueryMethod) else query.method
    # Every header key is written (so a comment opening the query is never read as one).
    lines = [MARKER] if marker else []
    lines += [f"# name: {query.name}", f"# method: {method}",
              f"# positional_arguments: {json.dumps(query.args_text, ensure_ascii=False)}",
              f"# named_arguments: {json.dumps(query.kwargs_text, ensure_ascii=False)}",
              f"# saved: {_iso(query.when) if isinstance(query, SavedQuery) else ''}",
              f"# description: {json.dumps(query.description, ensure_ascii=False)}",
              f"# branch: {json.dumps(query.branch, ensure_ascii=False)}"]
    return "\n".join(lines) + "\n" + query.query.rstrip("\n") + "\n"


def export_edgeql(queries: Sequence[SavedQuery]) -> str:
    head = (f"# ECC saved queries ({len(queries)}). Import this file in the console's Saved "
            "queries panel.\n\n")
    return head + "\n".join(edgeql_block(q) for q in queries)


# --- .edgeql text --------------------------------------------------------------------------------


def parse_edgeql_block(text: str, default_name: str, *, exported: bool = False
                       ) -> ParsedQuery:
    """One query's ``.edgeql`` text: leading ``# key: value`` header lines (``HEADER_KEYS``),
    the rest as the query. In a plain file the other leading comment lines are the
    description; in an export's block (``exported``) the header is only its keys, and the
    first other line, comment or not, starts the query. Raises ``StoredValueError`` for a
    header value that is not valid."""
    lines = text.splitlines()
    header: dict[str, str] = {}
    description: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if line == MARKER or (not line and not header and not description):
            index += 1
            continue
        if not line.startswith("#"):
            break
        match = _HEADER.fullmatch(line)
        if match and match.group(1) in HEADER_KEYS and match.group(1) not in header:
            header[match.group(1)] = _header_value(match.group(1), match.group(2).strip())
        elif exported:
            break
        else:
            description.append(line.lstrip("#").strip())
        index += 1
    query = "\n".join(lines[index:]).strip("\n")
    described = header.get("description") or "\n".join(description).strip()
    return ParsedQuery(name=header.get("name") or default_name, query=query,
                       method=header.get("method") or QueryMethod.QUERY.value,
                       args_text=header.get("positional_arguments", ""),
                       kwargs_text=header.get("named_arguments", ""),
                       description=described, saved=header.get("saved"),
                       branch=header.get("branch", ""))


def _header_value(key: str, raw: str) -> str:
    if not raw.startswith('"'):
        return raw
    try:
        value = json.loads(raw)
    except ValueError:
        raise StoredValueError(f"its {key} header is not a valid JSON string") from None
    if not isinstance(value, str):
        raise StoredValueError(f"its {key} header is not a string")
    return value


def split_edgeql(text: str) -> list[str]:
    """The blocks of an ``.edgeql`` export (none when the marker is absent: a plain file). A
    marker line starts a block only when a ``# name:`` line follows it, so a query holding
    the marker as a comment of its own stays whole."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == MARKER
              and i + 1 < len(lines) and lines[i + 1].startswith("# name:")]
    ends = [*starts[1:], len(lines)]
    return ["\n".join(lines[start + 1:end]) for start, end in zip(starts, ends, strict=False)]


def checked(parsed: ParsedQuery, limits: MemoryLimits) -> SavedQuery:
    """A parsed query as a ``SavedQuery``; raises ``StoredValueError``."""
    query, args_text, kwargs_text = check_query(parsed.query, parsed.args_text,
                                                parsed.kwargs_text, limits)
    if len(parsed.description) > MAX_DESCRIPTION_CHARS:
        raise StoredValueError(f"its description is {len(parsed.description):,} characters; "
                               f"at most {MAX_DESCRIPTION_CHARS:,} are allowed")
    return SavedQuery(id=new_id(), name=check_name(parsed.name), query=query,
                      method=check_method(parsed.method), args_text=args_text,
                      kwargs_text=kwargs_text, when=_epoch(parsed.saved),
                      description=parsed.description, branch=check_branch(parsed.branch))


# --- import -------------------------------------------------------------------------------------


def max_import_bytes(limits: MemoryLimits) -> int:
    """The largest file worth reading: every saved query's characters, 4 UTF-8 bytes each."""
    return limits.saved_chars * 4 + 65_536


def import_file(file_name: str, data: bytes, limits: MemoryLimits) -> ImportResult:
    """Saved queries from an exported file (``.json`` or ``.edgeql``, told by its name, else
    by its content). Entries that fail a check are left out, each with its ``ErrorView``."""
    shown = file_name[:120] or "the file"
    limit = max_import_bytes(limits)
    if len(data) > limit:
        return ImportResult((), (_problem(shown, None, f"it is {len(data):,} bytes; an "
                                          f"import holds at most {limit:,}"),))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ImportResult((), (_problem(shown, None, "it is not UTF-8 text"),))
    as_json = file_name.lower().endswith(".json") or (
        not file_name.lower().endswith(".edgeql") and text.lstrip().startswith("{"))
    raw = _json_entries(shown, text) if as_json else _edgeql_entries(shown, text)
    if isinstance(raw, ErrorView):
        return ImportResult((), (raw,))
    queries: list[SavedQuery] = []
    problems: list[ErrorView] = []
    for number, item in enumerate(raw, start=1):
        label = _label(item)
        if number > limits.saved_size:
            problems.append(_problem(shown, None, f"it holds {len(raw):,} queries; the first "
                                     f"{limits.saved_size:,} were read (saved_queries_size)"))
            break
        try:
            if isinstance(item, StoredValueError):
                raise item
            parsed = item if isinstance(item, ParsedQuery) else _from_json_item(item)
            queries.append(checked(parsed, limits))
        except StoredValueError as exc:
            problems.append(_problem(shown, (number, label), str(exc)))
    return ImportResult(tuple(queries), tuple(problems))


def _label(item: object) -> str | None:
    name = item.name if isinstance(item, ParsedQuery) else (
        item.get("name") if isinstance(item, dict) else None)
    return name[:80] if isinstance(name, str) and name.strip() else None


def _problem(file_name: str, entry: tuple[int, str | None] | None, reason: str) -> ErrorView:
    where = file_name
    if entry is not None:
        number, name = entry
        where += f", entry {number}" + (f" ({name})" if name else "")
    return ErrorView(kind="input", title="Import", subject=where,
                     message=f"{where}: {reason}.",
                     hint="Export from this console gives files it can import (JSON or "
                          ".edgeql with a header).")


def _json_entries(file_name: str, text: str) -> list[Any] | ErrorView:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return _problem(file_name, None, "it is not valid JSON")
    if isinstance(document, dict) and document.get("format") == JSON_FORMAT:
        if document.get("version") != JSON_VERSION:
            return _problem(file_name, None, f"its version is not {JSON_VERSION}")
        document = document.get("queries")
    if not isinstance(document, list):
        return _problem(file_name, None, f"it is not a console export (format {JSON_FORMAT})")
    return document


def _from_json_item(item: object) -> ParsedQuery:
    if not isinstance(item, dict):
        raise StoredValueError("it is not a JSON object")
    fields = {"name": item.get("name"), "query": item.get("query"),
              "method": item.get("method", QueryMethod.QUERY.value),
              "args_text": item.get("positional_arguments", ""),
              "kwargs_text": item.get("named_arguments", ""),
              "description": item.get("description", ""),
              "branch": item.get("branch") or ""}
    for key, value in fields.items():
        if not isinstance(value, str):
            raise StoredValueError(f"its {key.replace('_text', '')} is not text")
    saved = item.get("saved")
    return ParsedQuery(**fields, saved=saved if isinstance(saved, str) else None)


def _edgeql_entries(file_name: str, text: str) -> list[Any]:
    """Each block parsed, or the ``StoredValueError`` that stopped it (reported by entry)."""
    stem = re.sub(r"\.edgeql$", "", file_name.rsplit("/", 1)[-1], flags=re.IGNORECASE)
    blocks = split_edgeql(text)
    exported = bool(blocks)
    entries: list[Any] = []
    for number, block in enumerate(blocks or [text], start=1):
        try:
            entries.append(parse_edgeql_block(block, f"{stem} {number}" if number > 1
                                              else stem, exported=exported))
        except StoredValueError as exc:
            entries.append(exc)
    return entries
