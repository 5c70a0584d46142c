"""The server's branches, read so that every server version answers something.

What a real server said (``../shared/gel-transcripts/product_queries.json``, EdgeDB 5.8):
``select sys::Branch.name`` is an ``InvalidReferenceError`` ("object type or alias
'sys::Branch' does not exist"), ``select sys::Database.name`` lists the branches,
``sys::get_current_branch()`` and ``sys::get_current_database()`` both name the current one.
Gel 6 names the type ``sys::Branch`` (not recorded yet). So the catalog asks for
``sys::Branch`` first, then ``sys::Database``, and when neither is readable (a role without
access to ``sys``) it offers the current branch only, saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import gel.errors

from ecc.driver.client import QueryClient

BRANCHES_QUERY = "select sys::Branch.name"  # Gel 6; 5.8: InvalidReferenceError (recorded)
DATABASES_QUERY = "select sys::Database.name"  # EdgeDB 5 (recorded ok on 5.8)
CURRENT_BRANCH_QUERY = "select sys::get_current_branch()"  # recorded ok on 5.8
CURRENT_DATABASE_QUERY = "select sys::get_current_database()"  # recorded ok on 5.8
# The product-query guard (tests/test_product_queries.py) accepts these recorded errors: each is
# the answer the fallback below is built for, not a bug users meet.
EXPECTED_ERRORS = {
    "BRANCHES_QUERY": ("InvalidReferenceError", "EdgeDB 5 has no sys::Branch; the catalog "
                       "falls back to sys::Database"),
}

CatalogSource = Literal["sys::Branch", "sys::Database", "current only"]


@dataclass(frozen=True)
class BranchCatalog:
    """What the server says about its branches. ``names`` sorted; ``current`` is the branch
    the client is connected to (None when even that was not readable); ``problem`` says why
    only the current branch is offered."""

    names: tuple[str, ...]
    current: str | None
    source: CatalogSource
    problem: str | None = None


def branch_names(rows: Iterable[Any]) -> tuple[str, ...]:
    """The answer's names, sorted, without duplicates or blanks."""
    return tuple(sorted({str(r) for r in rows if r is not None and str(r)}))


# A role that may not read ``sys`` gets one of these; a missing type the first of them.
_DEGRADES = (gel.errors.InvalidReferenceError, gel.errors.AccessError, gel.errors.QueryError)


async def read_catalog(client: QueryClient) -> BranchCatalog:
    """The branch list (``sys::Branch``, else ``sys::Database``), else the current branch only.
    Connection failures raise as they are (the page shows them like any other)."""
    current = await _current_branch(client)
    problems = []
    for source, query in (("sys::Branch", BRANCHES_QUERY), ("sys::Database", DATABASES_QUERY)):
        try:
            rows = await client.query(query)
        except _DEGRADES as exc:
            problems.append(f"{source}: {type(exc).__name__}: {exc.args[0] if exc.args else ''}")
            continue
        names = branch_names(rows)
        if current is not None and current not in names:
            names = tuple(sorted({*names, current}))
        return BranchCatalog(names, current, source)  # type: ignore[arg-type]
    return BranchCatalog(
        (current,) if current else (), current, "current only",
        problem="The server's branch list could not be read (" + "; ".join(problems)
        + "), so only the current branch is offered.")


async def _current_branch(client: QueryClient) -> str | None:
    for query in (CURRENT_BRANCH_QUERY, CURRENT_DATABASE_QUERY):
        try:
            value = await client.query_single(query)
        except _DEGRADES:
            continue
        return str(value) if value is not None else None
    return None
