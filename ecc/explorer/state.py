"""What the explorer shows: a stack of views, each one page of one type's objects.

The first view lists a type's objects; following a link pushes a view of one object's linked
objects, and the breadcrumb pops back to any earlier view with its page, order and filters as
they were. Every value is frozen: a change makes a new state, so the page can keep it in
``st.session_state`` and compare it.

Names here (types, properties, links) are checked against the schema model by
``ecc.explorer.query`` before any text is built; filter values stay as typed (``RawValue``)
until the builder parses them with the parameter parsers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Literal

from ecc.arguments.param_values import RawValue

FilterOp = Literal["=", "!=", "<", "<=", ">", ">=", "ilike", "exists", "not exists"]
# Operators that take no value.
UNARY_OPS: frozenset[FilterOp] = frozenset({"exists", "not exists"})
FILTER_OPS: tuple[FilterOp, ...] = ("=", "!=", "<", "<=", ">", ">=", "ilike", "exists",
                                    "not exists")
DEFAULT_PAGE_SIZE = 50
MAX_FILTERS = 16  # per view; each one is a parameter of the page's query


@dataclass(frozen=True)
class PropertyFilter:
    """``.property op <type>$fN``; ``value`` is the text as typed (None for exists)."""

    prop: str
    op: FilterOp = "="
    value: RawValue = None


@dataclass(frozen=True)
class OrderBy:
    prop: str
    descending: bool = False


@dataclass(frozen=True)
class LinkStep:
    """How a view was reached: ``link`` of the object ``source_id`` of ``source_type``."""

    source_type: str
    source_id: uuid.UUID
    link: str
    label: str = ""  # what the breadcrumb shows for the source object (its name, title, ...)


@dataclass(frozen=True)
class ExplorerView:
    """One level of the breadcrumb: ``type_name``'s objects (all of them, or those one object
    links to), one page of them."""

    type_name: str
    via: LinkStep | None = None
    page: int = 0
    order: OrderBy | None = None
    filters: tuple[PropertyFilter, ...] = ()


@dataclass(frozen=True)
class ExplorerState:
    """Invariant: ``views`` is never empty; the last view is the one shown."""

    views: tuple[ExplorerView, ...]
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def of_type(cls, type_name: str, page_size: int = DEFAULT_PAGE_SIZE) -> ExplorerState:
        return cls((ExplorerView(type_name),), page_size)

    @property
    def current(self) -> ExplorerView:
        return self.views[-1]

    def _with_current(self, view: ExplorerView) -> ExplorerState:
        return replace(self, views=(*self.views[:-1], view))

    def at_page(self, page: int) -> ExplorerState:
        return self._with_current(replace(self.current, page=max(0, page)))

    def ordered(self, order: OrderBy | None) -> ExplorerState:
        """A new order starts at the first page."""
        return self._with_current(replace(self.current, order=order, page=0))

    def filtered(self, filters: tuple[PropertyFilter, ...]) -> ExplorerState:
        """New filters start at the first page."""
        return self._with_current(replace(self.current, filters=tuple(filters), page=0))

    def with_page_size(self, page_size: int) -> ExplorerState:
        """Another page size keeps the first row of the current page in view."""
        first_row = self.current.page * self.page_size
        return replace(self._with_current(replace(self.current, page=first_row // page_size)),
                       page_size=page_size)

    def follow(self, source_type: str, source_id: uuid.UUID, link: str, target_type: str,
               label: str = "") -> ExplorerState:
        step = LinkStep(source_type, source_id, link, label)
        return replace(self, views=(*self.views, ExplorerView(target_type, via=step)))

    def back_to(self, depth: int) -> ExplorerState:
        """The breadcrumb: view ``depth`` (0 = the root type) as it was left."""
        depth = max(0, min(depth, len(self.views) - 1))
        return replace(self, views=self.views[:depth + 1])
