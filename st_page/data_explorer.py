"""The data explorer panel: a type's objects as a table, page by page, ordered and filtered,
links as counts that open the linked objects (a breadcrumb leads back), the total, and
"Open as query".

What runs is built in ``ecc.explorer`` (names from the schema model, filter values as
parameters) and runs through the session's runtime like a query (``SessionRuntime.explore``:
read-only guard, timeout, row limits, max_running), in the explorer's own book. The page
query is sent once per state: reruns for other widgets reuse its answer. The count runs
beside the page with its own budget (``ecc.explorer.paging.count_policy``); the page never
waits for it longer than ``COUNT_WAIT_S``.

Session state (``dx_`` keys): ``dx_state`` the ``ExplorerState``; ``dx_page`` the last page
(its request key and rows); ``dx_counts`` totals by count request; ``dx_error`` a view a
callback refused with; ``dx_table`` the shown page's table (built once per page). A row is
picked by clicking it in the table (single-row selection); its links' buttons open them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

import st_comps
from ecc.display.results import TableData, shape_result, table_data
from ecc.display.safe_text import escape_markdown, label_markdown
from ecc.driver.client import QueryMethod
from ecc.driver.errors import ConsoleInputError, ErrorView
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.explorer.paging import (
    DEFAULT_COUNT_BUDGET_S,
    ExplorerPage,
    count_policy,
    read_page,
    total_view,
)
from ecc.explorer.query import ExplorerQueries, build_queries, label_property, subtypes_of
from ecc.explorer.state import (
    FILTER_OPS,
    UNARY_OPS,
    ExplorerState,
    FilterOp,
    OrderBy,
    PropertyFilter,
)
from ecc.running.runs import RunRecord
from ecc.running.sessions import SessionRuntime
from ecc.schema.model import SchemaModel
from ecc.settings.config import ConsoleSettings
from st_data_structures import UserPrefs
from st_page.branch_and_globals import stamp_requests
from st_utils import execution_policy

STATE_KEY = "dx_state"
PAGE_KEY = "dx_page"
COUNTS_KEY = "dx_counts"
ERROR_KEY = "dx_error"
MODEL_KEY = "dx_model"  # the schema model the callbacks check a new state against
COUNT_WAIT_S = 0.3  # how long a page run waits for the total before showing "counting"
COUNT_POLL_S = 1.0  # how often the caption asks again while counting
PAGE_WAIT_S = 2.0  # how long a page run waits for a page before showing "loading"
PAGE_POLL_S = 0.5  # how often a loading page is looked at again
PENDING_KEY = "dx_pending"
TABLE_KEY = "dx_table"  # (page request key, TableData, grid key): the shown page's table
RUNTIME_KEY = "dx_runtime"  # the session's runtime, for the Cancel callback


@dataclass(frozen=True)
class CountOutcome:
    value: int | None
    note: str = ""  # why there is no value: "counting", over the budget, failed
    run_id: int | None = None


def request_key(request: QueryRequest) -> tuple[Hashable, ...]:
    """A request's identity: its text, arguments, branch and globals (another branch or
    other globals, which access policies read, may see other objects)."""
    return (request.query, tuple(sorted((k, repr(v)) for k, v in request.kwargs.items())),
            request.branch, tuple(sorted((k, repr(v)) for k, v in request.globals.items())))


Stamp = Callable[[list[QueryRequest]], list[QueryRequest]]


def _unstamped(requests: list[QueryRequest]) -> list[QueryRequest]:
    return requests


def explorable_types(model: SchemaModel) -> list[str]:
    """Concrete object types of user modules, by name."""
    return sorted(t.name for t in model.object_types
                  if not t.abstract and not model.is_standard_module(t.module))


# --- callbacks: they change the state; the next run draws it -------------------------------

def _state() -> ExplorerState | None:
    found = st.session_state.get(STATE_KEY)
    return found if isinstance(found, ExplorerState) else None


def _apply(new: ExplorerState) -> None:
    """Take ``new`` if its queries can be built; else keep the state and say why."""
    model = st.session_state.get(MODEL_KEY)
    if isinstance(model, SchemaModel):
        try:
            build_queries(model, new)
        except ConsoleInputError as refused:
            st.session_state[ERROR_KEY] = refused.view
            return
    st.session_state.pop(ERROR_KEY, None)
    st.session_state[STATE_KEY] = new


def _type_chosen(page_size: int) -> None:
    name = st.session_state.get("dx_type")
    if isinstance(name, str):
        _apply(ExplorerState.of_type(name, page_size))


def _go_to_page(page: int) -> None:
    state = _state()
    if state is not None:
        _apply(state.at_page(page))


def _order_chosen() -> None:
    state = _state()
    prop = st.session_state.get("dx_order")
    if state is None or not isinstance(prop, str):
        return
    _apply(state.ordered(OrderBy(prop, bool(st.session_state.get("dx_desc")))))


def _add_filter() -> None:
    state = _state()
    prop, op = st.session_state.get("dx_filter_prop"), st.session_state.get("dx_filter_op")
    if state is None or not isinstance(prop, str) or op not in FILTER_OPS:
        return
    value = None if op in UNARY_OPS else str(st.session_state.get("dx_filter_value", ""))
    chosen: FilterOp = op
    _apply(state.filtered((*state.current.filters, PropertyFilter(prop, chosen, value))))


def _remove_filter(index: int) -> None:
    state = _state()
    if state is not None:
        filters = state.current.filters
        _apply(state.filtered(filters[:index] + filters[index + 1:]))


def _follow(link: str, target: str, source_id: Any, label: str) -> None:
    state = _state()
    if state is not None:
        _apply(state.follow(state.current.type_name, source_id, link, target, label))


def _back_to(depth: int) -> None:
    state = _state()
    if state is not None:
        _apply(state.back_to(depth))


def _open_as_query(text: str, args: tuple[tuple[str, str], ...]) -> None:
    """Put the page's query into the first tab, its filter values into the typed inputs."""
    state = st.session_state
    state["q_text_0"] = text
    state["q_mode_0"] = "typed"
    memory = state.setdefault("param_memory", {})
    for name, value in args:
        memory[name] = value
        state.pop(f"p_0_{name}", None)  # the input refills from the memory
    state["dx_opened"] = True


def _forget_answers() -> None:
    """The next run asks the server again (Reload, or a new schema model)."""
    st.session_state.pop(PAGE_KEY, None)
    st.session_state.pop(PENDING_KEY, None)
    st.session_state.pop(COUNTS_KEY, None)
    st.session_state.pop(TABLE_KEY, None)


def _recount(request: QueryRequest) -> None:
    counts = st.session_state.setdefault(COUNTS_KEY, {})
    counts.pop(request_key(request), None)
    st.session_state["dx_count_unbounded"] = request_key(request)


# --- running ------------------------------------------------------------------------------

def _wait(runtime: SessionRuntime, run_id: int, timeout_s: float) -> RunRecord | None:
    """The run once finished, or None after ``timeout_s`` (it keeps running)."""
    book = runtime.explorer_book
    deadline = time.monotonic() + timeout_s
    version = book.version
    while True:
        record = book.get(run_id)
        if record is None or not record.active:
            return record
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        version = book.wait_for_change(version, min(left, 0.25))


@dataclass(frozen=True)
class PendingPage:
    """A page still running after the page run's wait: a fragment polls for it."""

    run_id: int
    key: tuple[Hashable, ...]


def fetch_page(runtime: SessionRuntime, queries: ExplorerQueries, state: ExplorerState,
               policy: ExecutionPolicy, wait_s: float = PAGE_WAIT_S
               ) -> ExplorerPage | ErrorView | PendingPage:
    """The page for ``queries``: the answer kept from an earlier run when the request is the
    same; else the one under way, or sent now; awaited at most ``wait_s`` (a slow page must
    not hold the page run: results stream in at its end). A page left behind is cancelled."""
    key = request_key(queries.page)
    kept = st.session_state.get(PAGE_KEY)
    offset = state.current.page * state.page_size
    if isinstance(kept, dict) and kept.get("key") == key:
        if isinstance(kept.get("error"), ErrorView):
            return kept["error"]  # until Try again / Reload or another page: no silent resend
        return read_page(kept["rows"], offset, state.page_size)
    pending = st.session_state.get(PENDING_KEY)
    if isinstance(pending, PendingPage) and pending.key == key:
        run_id = pending.run_id
    else:
        if isinstance(pending, PendingPage):
            runtime.cancel_explorer([pending.run_id])  # the user moved on
        (record,) = runtime.explore([queries.page], policy).records
        run_id = record.run_id
        st.session_state[PENDING_KEY] = PendingPage(run_id, key)
    final = _wait(runtime, run_id, wait_s)
    if final is None:
        return PendingPage(run_id, key)
    st.session_state.pop(PENDING_KEY, None)
    if final.error is not None:
        st.session_state[PAGE_KEY] = {"key": key, "error": final.error}
        return final.error
    rows = final.result.value if final.result is not None else None
    if not isinstance(rows, list):
        return ErrorView(kind="internal", title="Data explorer",
                         message="The page's answer was not a list of objects.")
    st.session_state[PAGE_KEY] = {"key": key, "rows": rows}
    return read_page(rows, offset, state.page_size)


def _cancel_page(run_id: int) -> None:
    runtime = st.session_state.get(RUNTIME_KEY)
    if isinstance(runtime, SessionRuntime):
        runtime.cancel_explorer([run_id])


def _waiting_for(runtime: SessionRuntime, pending: PendingPage) -> None:
    """While a page runs: say so, offer Cancel, and poll (this part alone) until it ends;
    then the whole page runs once more and shows it."""
    c1, c2 = st.columns([4, 1])
    c2.button("Cancel", key="dx_cancel", on_click=_cancel_page, args=(pending.run_id,))

    @st.fragment(run_every=PAGE_POLL_S)
    def poll() -> None:
        record = runtime.explorer_book.get(pending.run_id)
        if record is None or not record.active:
            st.rerun()
        elapsed = record.elapsed_s() if record is not None else None
        st.caption(f"Loading the page… {elapsed or 0:.0f} s")

    with c1:  # the fragment draws into the column it is called in
        poll()


def count_outcome(runtime: SessionRuntime, queries: ExplorerQueries, policy: ExecutionPolicy,
                  budget_s: float) -> CountOutcome:
    """The total for the view's filters: kept once known (page turns do not count again);
    started with the budget when unknown; "counting" while it runs."""
    counts: dict[Any, Any] = st.session_state.setdefault(COUNTS_KEY, {})
    key = request_key(queries.count)
    found = counts.get(key)
    if isinstance(found, CountOutcome) and found.run_id is None:
        return found  # final
    if isinstance(found, CountOutcome) and found.run_id is not None:
        run_id = found.run_id
    else:
        unbounded = st.session_state.pop("dx_count_unbounded", None) == key
        chosen = policy if unbounded else count_policy(policy, budget_s)
        (record,) = runtime.explore([queries.count], chosen).records
        run_id = record.run_id
    final = _wait(runtime, run_id, COUNT_WAIT_S)
    if final is None:
        counts[key] = CountOutcome(None, "counting…", run_id)
        return counts[key]
    outcome = _final_count(final, budget_s)
    counts[key] = outcome
    return outcome


def _final_count(record: RunRecord, budget_s: float) -> CountOutcome:
    if record.status == "timed out":
        return CountOutcome(None, f"not counted: over the {budget_s:g} s budget")
    value = record.result.value if record.result is not None else None
    if isinstance(value, list) and value and isinstance(value[0], int):
        return CountOutcome(value[0])
    title = record.error.title if record.error is not None else "no answer"
    return CountOutcome(None, f"not counted: {title}")


# --- drawing ------------------------------------------------------------------------------

def data_explorer_panel(runtime: SessionRuntime, settings: ConsoleSettings,
                        prefs: UserPrefs) -> None:
    """The *Data* toggle and, when on, the explorer over this branch's schema model (the
    one the schema explorer and completions share). Drawn only when opened."""
    from st_page.schema_explorer import ensure_schema_model

    if not st.toggle("Data", key="show_data",
                     help="Browse a type's objects: pages, order, filters, links."):
        return
    with st.container(border=True):
        model = ensure_schema_model(runtime, settings)
        if isinstance(model, ErrorView):
            st_comps.render_error(model)
            return

        def stamp(requests: list[QueryRequest]) -> list[QueryRequest]:
            # The session's branch and globals, as every query of the page runs with them.
            return stamp_requests(requests, settings)[0]

        data_explorer(runtime, model, execution_policy(settings, prefs),
                      settings.explorer_rows_per_page, settings.explorer_count_budget_s,
                      stamp=stamp)


def data_explorer(runtime: SessionRuntime, model: SchemaModel | None, policy: ExecutionPolicy,
                  page_size: int, count_budget_s: float = DEFAULT_COUNT_BUDGET_S,
                  stamp: Stamp = _unstamped, page_wait_s: float = PAGE_WAIT_S) -> None:
    """The panel. ``model``: the session's schema model (None until read); ``stamp`` puts
    the session's branch and globals on the requests (raises ``ConsoleInputError``)."""
    if model is None:
        st.caption("The data explorer lists the types once the schema has been read.")
        return
    types = explorable_types(model)
    if not types:
        st.caption("The schema has no object types in user modules.")
        return
    kept: object = st.session_state.get(MODEL_KEY)
    if kept is not model:
        # Another branch, or the schema read again: nothing kept belongs to this model.
        _forget_answers()
    st.session_state[MODEL_KEY] = model
    state = _state()
    if state is None or state.views[0].type_name not in types:
        state = ExplorerState.of_type(types[0], page_size)
        st.session_state[STATE_KEY] = state
    if state.page_size != page_size:
        state = st.session_state[STATE_KEY] = state.with_page_size(page_size)
    st.session_state["dx_type"] = state.views[0].type_name
    st.selectbox("Type", types, key="dx_type", on_change=_type_chosen, args=(page_size,))
    _breadcrumb(state)
    refused = st.session_state.pop(ERROR_KEY, None)
    if isinstance(refused, ErrorView):
        st_comps.render_error(refused)
    try:
        queries = build_queries(model, state)
        page_request, count_request = stamp([queries.page, queries.count])
        queries = replace(queries, page=page_request, count=count_request)
    except ConsoleInputError as bad:
        st_comps.render_error(bad.view)
        if st.button("Start again", key="dx_reset"):
            st.session_state.pop(STATE_KEY, None)
        return
    _order_and_filters(state, queries)
    st.session_state[RUNTIME_KEY] = runtime
    page = fetch_page(runtime, queries, state, policy, page_wait_s)
    if isinstance(page, PendingPage):
        _waiting_for(runtime, page)
        return
    if isinstance(page, ErrorView):
        st_comps.render_error(page)
        st.button("Try again", key="dx_retry", on_click=_forget_answers)
        return
    count = count_outcome(runtime, queries, policy, count_budget_s)
    _pager(state, page, count, queries, lambda: count_outcome(runtime, queries, policy,
                                                               count_budget_s))
    rows = list(page.rows)
    if rows:
        table, table_key = _page_table(queries.page, rows)
        # A grid per page (its key names the page): a row picked on one page is never
        # taken for the row at the same place on another, and a grid given other columns
        # in place kept showing the old ones to assistive technology until resized.
        event = st.dataframe(table.columns, hide_index=True, key=table_key,
                             on_select="rerun", selection_mode="single-row")
        _subtypes_note(model, state)
        if queries.link_properties and state.current.via is not None:
            via = state.current.via
            st.caption(escape_markdown(
                ", ".join(f"@{name}" for name in queries.link_properties)
                + f": link properties of {via.source_type}.{via.link}"))
        _links(model, state, queries, rows, _picked_row(event, len(rows)))
    b1, b2, _ = st.columns([1, 1, 3])
    b1.button("Reload", key="dx_reload", on_click=_forget_answers, icon="🔄",
              help="Ask the server again for this page and its total.")
    b2.button("Open as query", key="dx_open", on_click=_open_as_query,
              args=(queries.editor_text, queries.editor_args),
              help="Put this page's EdgeQL into the first query tab, filter values as "
                   "parameters.")
    if st.session_state.pop("dx_opened", False):
        st.caption("The query is in the first tab; its filter values are its parameters.")


def _breadcrumb(state: ExplorerState) -> None:
    if len(state.views) == 1:
        return
    columns = st.columns(len(state.views))
    for depth, view in enumerate(state.views):
        if view.via is None:
            text = view.type_name
        else:
            text = f"{view.via.label or view.via.source_id} · {view.via.link}"
        last = depth == len(state.views) - 1
        # A label is Markdown; the source object's name is the server's data.
        columns[depth].button(label_markdown(text), key=f"dx_crumb_{depth}", disabled=last,
                              on_click=_back_to, args=(depth,))


def _order_and_filters(state: ExplorerState, queries: ExplorerQueries) -> None:
    view = state.current
    orderable = ["id"] + [c.name for c in queries.columns if c.orderable and c.name != "id"]
    st.session_state["dx_order"] = view.order.prop if view.order else "id"
    st.session_state["dx_desc"] = bool(view.order and view.order.descending)
    o1, o2 = st.columns([3, 1])
    o1.selectbox("Order by", orderable, key="dx_order", on_change=_order_chosen)
    o2.toggle("descending", key="dx_desc", on_change=_order_chosen)
    for index, f in enumerate(view.filters):
        shown = f"{f.prop} {f.op}" + ("" if f.op in UNARY_OPS else f" {f.value!s}")
        c1, c2 = st.columns([5, 1])
        c1.caption(escape_markdown(shown))
        c2.button("Remove", key=f"dx_rm_{index}", on_click=_remove_filter, args=(index,))
    properties = [c for c in queries.columns if not c.is_link]
    f1, f2, f3, f4 = st.columns([2, 1, 2, 1])
    prop = f1.selectbox("Filter on", [c.name for c in properties], key="dx_filter_prop")
    column = next((c for c in properties if c.name == prop), None)
    ops: list[str] = list(FILTER_OPS)
    if column is None or column.filter_type is None:
        ops = [op for op in ops if op in UNARY_OPS]
    elif column.filter_type.name != "std::str":
        ops = [op for op in ops if op != "ilike"]
    op = f2.selectbox("Operator", ops, key="dx_filter_op")
    f3.text_input("Value", key="dx_filter_value", disabled=op in UNARY_OPS,
                  placeholder=column.filter_type.label() if column and column.filter_type
                  else "")
    f4.button("Add filter", key="dx_filter_add", on_click=_add_filter)


def _pager(state: ExplorerState, page: ExplorerPage, count: CountOutcome,
           queries: ExplorerQueries, recount: Callable[[], CountOutcome]) -> None:
    p1, p2, p3, p4 = st.columns([1, 1, 3, 1])
    p1.button("◀ Previous", key="dx_prev", disabled=not page.has_previous,
              on_click=_go_to_page, args=(state.current.page - 1,))
    p2.button("Next ▶", key="dx_next", disabled=not page.has_next,
              on_click=_go_to_page, args=(state.current.page + 1,))

    def caption(outcome: CountOutcome) -> None:
        total = total_view(page, outcome.value, outcome.note)
        st.caption(escape_markdown(f"Page {state.current.page + 1:,} · {total.caption(page)}"))

    with p3:
        if count.run_id is None:
            caption(count)
        else:
            # Still counting: this part alone polls until the total arrives, then the page
            # runs once more (the Count button depends on how it ended).
            @st.fragment(run_every=COUNT_POLL_S)
            def counting() -> None:
                now = recount()
                caption(now)
                if now.run_id is None:
                    st.rerun()

            counting()
    if count.value is None and count.run_id is None and count.note.startswith("not counted"):
        p4.button("Count", key="dx_recount", on_click=_recount, args=(queries.count,),
                  help="Count with the query timeout instead of the explorer's budget.")


def _subtypes_note(model: SchemaModel, state: ExplorerState) -> None:
    """Say that a type with subtypes (a polymorphic link's target, say) shows its own
    columns only: a subtype's own properties are not in the table."""
    name = state.current.type_name
    subtypes = subtypes_of(model, name)
    if not subtypes:
        return
    listed = ", ".join(subtypes[:3]) + (f" and {len(subtypes) - 3} more"
                                        if len(subtypes) > 3 else "")
    st.caption(escape_markdown(
        f"{name} has subtypes ({listed}): their objects are listed with {name}'s columns "
        "only; their own properties and links are not shown."))


def _page_table(request: QueryRequest, rows: list[Any]) -> tuple[TableData, str]:
    """The page's table and its grid's key, built once per page: a rerun for a row click
    or another widget reuses them (``TABLE_KEY``)."""
    key = request_key(request)
    kept = st.session_state.get(TABLE_KEY)
    if isinstance(kept, tuple) and len(kept) == 3 and kept[0] == key:
        return kept[1], kept[2]
    table = table_data(shape_result(rows, QueryMethod.QUERY, len(rows)), len(rows))
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()
    grid_key = f"dx_rows_{digest}"
    st.session_state[TABLE_KEY] = (key, table, grid_key)
    return table, grid_key


def _picked_row(event: object, count: int) -> int | None:
    """The row clicked in the grid (single-row selection), or None."""
    try:
        picked = event["selection"]["rows"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    if isinstance(picked, list) and picked and isinstance(picked[0], int) \
            and 0 <= picked[0] < count:
        return picked[0]
    return None


def _links(model: SchemaModel, state: ExplorerState, queries: ExplorerQueries,
           rows: list[Any], picked: int | None) -> None:
    """The picked row's links, each a button with its count that opens the linked objects."""
    links = [c for c in queries.columns if c.is_link]
    if not links:
        return
    if picked is None:
        st.caption("Click a row to open its linked objects ("
                   + escape_markdown(", ".join(c.name for c in links)) + ").")
        return
    row = rows[picked]
    label_prop = label_property(model, state.current.type_name)
    name = getattr(row, label_prop, None) if label_prop else None
    label = str(name or "") or str(row.id)
    st.caption(escape_markdown(
        f"Linked objects of {picked + state.current.page * state.page_size + 1}. {label}"))
    columns = st.columns(len(links))
    for column, link in zip(columns, links, strict=True):
        n = getattr(row, link.result_name, 0)
        column.button(label_markdown(f"{link.name} ({n}) →"), key=f"dx_link_{link.name}",
                      disabled=not n, on_click=_follow,
                      args=(link.name, link.target, row.id, label))
