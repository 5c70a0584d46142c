"""The team's query library: a folder of ``.edgeql`` files the operator ships with the
deployment (``team_library`` in ``[connections.gel]``), listed read-only beside each user's
saved queries. On Streamlit Community Cloud this is how a team shares queries without a
database of its own: the files live in the app's repository.

Each file is one query; its leading comment is its description, and it may carry the header
lines of an export (``# name:``, ``# method:``, ``# named_arguments:`` ...; see
``ecc.library.files``). Without ``# name:`` the file's name (without ``.edgeql``) is the
query's name.

Invariants: the folder is read once by the caller (the page caches the result for the
process) and never written. Only regular files directly in the folder whose names end in
``.edgeql`` are read (no subfolders, no hidden files); a symbolic link is refused (the file
is opened with ``O_NOFOLLOW``, so a link swapped in after the listing is refused too), so no
file outside the folder is ever read. Files are bounded in count and size, and their queries
pass the same checks as typed text; a file that fails is listed as a problem, naming it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ecc.driver.client import QueryMethod
from ecc.driver.errors import ErrorView
from ecc.library.entries import MemoryLimits, StoredValueError
from ecc.library.files import checked, parse_edgeql_block

MAX_TEAM_FILES = 500
# A symbolic link (even one swapped in after the listing) fails to open; a FIFO named
# *.edgeql does not block the page (it fails the regular-file check instead).
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NON_BLOCK = getattr(os, "O_NONBLOCK", 0)
SUFFIX = ".edgeql"


@dataclass(frozen=True)
class TeamQuery:
    file: str  # the file's name in the folder
    name: str
    description: str
    query: str
    method: QueryMethod = QueryMethod.QUERY
    args_text: str = ""
    kwargs_text: str = ""


@dataclass(frozen=True)
class TeamLibrary:
    folder: str  # as the settings give it (the page may show it)
    queries: tuple[TeamQuery, ...] = ()
    problems: tuple[ErrorView, ...] = ()


def max_file_bytes(limits: MemoryLimits) -> int:
    """A file's size bound: its query (4 UTF-8 bytes a character at most) plus a header."""
    return limits.max_query_chars * 4 + limits.max_args_chars * 4 + 16_384


def _problem(folder: str, file: str | None, reason: str) -> ErrorView:
    where = f"team_library {folder}" + (f": {file}" if file else "")
    return ErrorView(kind="input", title="Team library", subject=where,
                     message=f"{where}: {reason}.",
                     hint="Fix the file in the deployment's repository (an operator's task); "
                          "the other files are listed.")


def read_team_library(folder: str, base: Path, limits: MemoryLimits) -> TeamLibrary:
    """Every ``.edgeql`` file directly in ``folder`` (relative to ``base``, or absolute), by
    file name. Never raises for a file or folder it cannot use: those are ``problems``."""
    root = Path(folder) if Path(folder).is_absolute() else base / folder
    try:
        if root.is_symlink():
            return TeamLibrary(folder, (), (_problem(folder, None, "the folder is a symbolic "
                                                     "link; name the real folder"),))
        with os.scandir(root) as listing:
            names = sorted(entry.name for entry in listing)
    except (FileNotFoundError, NotADirectoryError):
        return TeamLibrary(folder, (), (_problem(folder, None, "there is no such folder"),))
    except OSError as exc:
        return TeamLibrary(folder, (), (_problem(folder, None, "the folder cannot be read "
                                                 f"({exc.strerror or 'error'})"),))
    files = [n for n in names if n.lower().endswith(SUFFIX) and not n.startswith(".")]
    queries: list[TeamQuery] = []
    problems: list[ErrorView] = []
    if len(files) > MAX_TEAM_FILES:
        problems.append(_problem(folder, None, f"it holds {len(files):,} .edgeql files; the "
                                 f"first {MAX_TEAM_FILES:,} by name are listed"))
        files = files[:MAX_TEAM_FILES]
    for name in files:
        try:
            queries.append(_read_one(root, name, limits))
        except StoredValueError as exc:
            problems.append(_problem(folder, name, str(exc)))
    return TeamLibrary(folder, tuple(queries), tuple(problems))


def _read_one(root: Path, name: str, limits: MemoryLimits) -> TeamQuery:
    limit = max_file_bytes(limits)
    try:
        fd = os.open(root / name, os.O_RDONLY | _NO_FOLLOW | _NON_BLOCK)
    except OSError as exc:
        raise StoredValueError("it is a symbolic link: refused" if os.path.islink(root / name)
                               else f"it cannot be read ({exc.strerror or 'error'})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise StoredValueError("it is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise StoredValueError(f"it is larger than {limit:,} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StoredValueError("it is not UTF-8 text") from None
    query = checked(parse_edgeql_block(text, name[: -len(SUFFIX)]), limits)
    return TeamQuery(file=name, name=query.name, description=query.description,
                     query=query.query, method=query.method, args_text=query.args_text,
                     kwargs_text=query.kwargs_text)
