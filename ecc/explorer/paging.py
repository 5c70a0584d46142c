"""One page of the explorer's table, and what the page says about the total.

Paging never needs the total: the page query asks for ``page_size + 1`` rows, and the extra
row says whether a next page exists. The total is a separate ``count`` query with its own
time budget (``count_policy``): on a large type it scans every object the filters let
through (a sequential scan of the table on the server), which can take far longer than the
page, so the page shows first and the total follows, or says it was not counted in time.
When the page is the last one, its rows give the total without any count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ecc.driver.execute import ExecutionPolicy

DEFAULT_COUNT_BUDGET_S = 5.0


@dataclass(frozen=True)
class ExplorerPage:
    """The rows shown (at most ``page_size``), where they start, and whether more follow."""

    rows: tuple[object, ...]
    offset: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def known_total(self) -> int | None:
        """The total when this page reached the end (no count needed); else None."""
        return None if self.has_next else self.offset + len(self.rows)


def read_page(rows: Sequence[object], offset: int, page_size: int) -> ExplorerPage:
    """``rows`` as the page query returned them (at most ``page_size + 1``)."""
    return ExplorerPage(tuple(rows[:page_size]), offset, len(rows) > page_size)


def count_policy(policy: ExecutionPolicy, budget_s: float = DEFAULT_COUNT_BUDGET_S
                 ) -> ExecutionPolicy:
    """The count's policy: the query's, with the server's timeout cut to the budget, so a
    slow count is stopped on the server (not only abandoned by the page)."""
    return replace(policy, timeout_s=min(policy.timeout_s, budget_s))


@dataclass(frozen=True)
class TotalView:
    """What the page says about the rows: ``exact`` when known, else ``at_least``."""

    exact: int | None
    at_least: int
    note: str = ""

    def caption(self, page: ExplorerPage) -> str:
        if not page.rows:
            where = "no objects" if page.offset == 0 else f"no objects past row {page.offset:,}"
            return where + (f" (of {self.exact:,})" if self.exact is not None and self.exact
                            else "")
        first, last = page.offset + 1, page.offset + len(page.rows)
        if self.exact is not None:
            return f"objects {first:,}–{last:,} of {self.exact:,}"
        more = f"objects {first:,}–{last:,} of more than {self.at_least:,}"
        return f"{more} ({self.note})" if self.note else more


def total_view(page: ExplorerPage, count: int | None, count_note: str = "") -> TotalView:
    """The total from the count's answer (None: none yet, failed or over budget, said by
    ``count_note``), or from the page itself when it is the last one."""
    if count is not None:
        return TotalView(count, count)
    known = page.known_total
    if known is not None:
        return TotalView(known, known)
    return TotalView(None, page.offset + len(page.rows), count_note)
