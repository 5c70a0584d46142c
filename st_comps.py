"""The page's widgets. Each function draws one part; none of them talks to the database.

Invariant: nothing here runs inside a query task. Queries run on the session's loop; these
functions only read immutable ``RunRecord`` snapshots and draw them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ecc import results
from ecc.config import ConsoleSettings
from ecc.errors import ErrorView
from ecc.runs import RunRecord
from ecc.sessions import RegistryTotals, RuntimeStatus
from ecc.typed_inputs import TypedInputs
from st_data_structures import CARDINALITY_LABELS, FormContent, QueryTabContent, UserPrefs

DOCS_LINKS = (
    ("EdgeQL overview", "https://docs.geldata.com/reference/edgeql"),
    ("Query parameters", "https://docs.geldata.com/reference/edgeql/parameters"),
    ("Python driver", "https://docs.geldata.com/reference/clients/python"),
)
STATUS_ICONS = {
    "queued": "⏳",
    "running": "🔄",
    "done": "✅",
    "failed": "❌",
    "cancelled": "🚫",
    "timed out": "⌛",
}

SETUP_TEXT = """
**This console is not connected to a database yet.** Tell it where your Gel (EdgeDB) server is
in `.streamlit/secrets.toml` (on Streamlit Community Cloud: *App settings → Secrets*):

```toml
[connections.gel]
dsn = "gel://USER:PASSWORD@HOST:5656/BRANCH"   # or: instance = "...", secret_key = "..."
# or: host = "...", port = 5656, user = "admin", password = "...", branch = "main"
# tls_security = "strict"        # "insecure" only for local development
```

Or set the driver's environment variables (`GEL_DSN`, or `GEL_HOST`/`GEL_PORT`/`GEL_USER`/
`GEL_PASSWORD`/`GEL_BRANCH`), then reload this page. See `.streamlit/secrets.toml.example`
for every setting, and the README for deployment.
"""


def setup_panel(problem: str | None = None) -> None:
    st.title("Gel query console")
    if problem:
        st.error(f"The console's settings need fixing: {problem}", icon="⚙️")
    st.info(SETUP_TEXT, icon="🔌")


def render_error(view: ErrorView, *, key: str = "") -> None:
    """The one error component: class, message, caret excerpt, hint, details."""
    subject = f"{view.subject}: " if view.subject and view.subject not in view.message else ""
    st.error(f"**{view.title}** — {subject}{view.message}", icon="⚠️")
    if view.excerpt:
        where = f"line {view.line}, column {view.column}" if view.line else "here"
        st.code(view.excerpt, language=None)
        st.caption(f"Error at {where}.")
    if view.hint:
        st.caption(f"Hint: {view.hint}")
    if view.details:
        st.caption(f"Details: {view.details}")
    if view.retryable:
        st.caption("Retrying may help.")


InputsFor = Callable[[str], TypedInputs]


def query_form(tab_count: int, inputs_for: InputsFor) -> FormContent | None:
    """The query form. Returns its content when submitted (button or Ctrl/Cmd+Enter)."""
    with st.form("query_form", enter_to_submit=False, border=False):
        containers = st.tabs([f"Query {i + 1}" for i in range(tab_count)]) if tab_count > 1 \
            else [st.container()]
        tabs: list[QueryTabContent] = []
        for index, box in enumerate(containers):
            with box:
                tabs.append(_query_tab(index, inputs_for))
        submitted = st.form_submit_button("Run", type="primary", shortcut="Ctrl+Enter",
                                          icon="▶️")
    return FormContent(tabs=tuple(tabs)) if submitted else None


def _query_tab(index: int, inputs_for: InputsFor) -> QueryTabContent:
    # Defaults go into session state, never as value=: history and shared links set these
    # keys too, and a widget may not get both.
    default = QueryTabContent()
    state = st.session_state
    for key, value in (("q_mode", default.mode), ("q_text", default.text),
                       ("q_card", default.cardinality), ("q_json", default.as_json),
                       ("q_args", default.args_text), ("q_kwargs", default.kwargs_text)):
        state.setdefault(f"{key}_{index}", value)
    mode = st.segmented_control(
        "Arguments", ["typed", "text"], key=f"q_mode_{index}",
        format_func=lambda m: {"typed": "Typed inputs", "text": "Argument language (advanced)"}[m],
        label_visibility="collapsed",
    ) or "typed"
    text = st.text_area(
        "EdgeQL",
        key=f"q_text_{index}",
        height=140,
        placeholder="select Movie { title, release_year } filter .release_year > <int64>$0",
        help="Ctrl/Cmd+Enter runs the form.",
    )
    args_text, kwargs_text = default.args_text, default.kwargs_text
    raw_params: dict[str, str | bool | None] = {}
    if mode == "typed":
        raw_params = typed_parameter_inputs(index, inputs_for(text or ""))
    else:
        args_text, kwargs_text = _argument_text_areas(index)
    c1, c2 = st.columns([3, 1])
    cardinality = c1.radio(
        "Result cardinality",
        options=list(CARDINALITY_LABELS),
        key=f"q_card_{index}",
        horizontal=True,
    )
    as_json = c2.toggle("JSON", key=f"q_json_{index}")
    return QueryTabContent(
        text=text or "",
        args_text=args_text or "",
        kwargs_text=kwargs_text or "",
        cardinality=str(cardinality),
        as_json=bool(as_json),
        mode=str(mode),
        raw_params=raw_params,
    )


def _argument_text_areas(index: int) -> tuple[str, str]:
    left, right = st.columns(2)
    args_text = left.text_area(
        "Positional arguments ($0, $1 …)",
        key=f"q_args_{index}",
        height=68,
        placeholder="2014, 'text', uuid('…'), [1, 2]",
        help="Comma or newline separated values in the argument language (see the README).",
    )
    kwargs_text = right.text_area(
        "Named arguments ($name)",
        key=f"q_kwargs_{index}",
        height=68,
        placeholder="title = 'Dune'\nsince = datetime('2024-01-01T00:00:00Z')",
    )
    return args_text or "", kwargs_text or ""


PLACEHOLDERS = {
    "std::datetime": "2024-02-29T12:30:00Z",
    "cal::local_date": "2024-02-29",
    "cal::local_time": "12:30:00",
    "cal::local_datetime": "2024-02-29T12:30:00",
    "std::duration": "PT1H30M or 1 hour 30 minutes",
    "cal::relative_duration": "P1M2D",
    "cal::date_duration": "P1M2D",
    "std::uuid": "00000000-0000-0000-0000-000000000000",
    "std::json": '{"key": [1, 2]}',
    "std::bytes": "hex, e.g. 68656c6c6f",
    "std::decimal": "1.50",
}


def typed_parameter_inputs(index: int, inputs: TypedInputs) -> dict[str, str | bool | None]:
    """One input per parameter. Values are remembered by parameter name in the session, so
    they survive edits of the query and reruns."""
    for note in inputs.notes:
        st.info(f"The server's description wins: {note}", icon="ℹ️")
    for problem in inputs.problems:
        st.warning(problem, icon="⚠️")
    memory: dict[str, str | bool | None] = st.session_state.setdefault("param_memory", {})
    raw: dict[str, str | bool | None] = {}
    columns = st.columns(2) if len(inputs.parameters) > 1 else [st.container()]
    for position, param in enumerate(inputs.parameters):
        box = columns[position % len(columns)]
        label = f"${param.name} · {'optional ' if param.optional else ''}{param.type.label()}"
        key = f"p_{index}_{param.name}"
        remembered = memory.get(param.name)
        if param.type.name == "std::bool" and not param.optional:
            value: str | bool | None = box.checkbox(label, value=bool(remembered), key=key)
        elif param.type.kind == "enum" and param.type.enum_members:
            options = ([""] if param.optional else []) + list(param.type.enum_members)
            current = remembered if remembered in options else options[0]
            value = box.selectbox(label, options, index=options.index(current), key=key)
        else:
            value = box.text_input(
                label, value="" if remembered is None else str(remembered), key=key,
                placeholder=PLACEHOLDERS.get(param.type.name, param.type.label()),
                help="Leave empty to send the empty set." if param.optional else None,
            )
        raw[param.name] = value
        memory[param.name] = value
    return raw


def format_elapsed(seconds: float) -> str:
    """One format everywhere: milliseconds under a second, then seconds with one decimal."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def render_record(record: RunRecord, prefs: UserPrefs, now: float) -> None:
    """One run: its status line, then its result or its error."""
    elapsed = record.elapsed_s(now)
    elapsed_text = format_elapsed(elapsed) if elapsed is not None else "not started"
    method = record.request.method.value
    icon = STATUS_ICONS[record.status]
    if record.result is not None:
        result = record.result
        shown = min(prefs.row_limit, result.kept_rows)
        rows = f"{result.total_rows:,} row{'s' if result.total_rows != 1 else ''}"
        if result.total_rows > shown:
            rows = f"showing {shown:,} of {result.total_rows:,} rows"
        st.markdown(f"{icon} **{record.request.name}** · {rows} · {elapsed_text} · `{method}()`")
        if result.truncated:
            st.caption(
                f"The session keeps the first {result.kept_rows:,} rows; downloads hold those."
            )
        _render_result(record, result, prefs)
    else:
        st.markdown(f"{icon} **{record.request.name}** · {record.status} · {elapsed_text} "
                    f"· `{method}()`")
        if record.error is not None:
            render_error(record.error, key=f"err_{record.run_id}")
        elif record.result_dropped:
            st.caption("This result is no longer kept in memory; run the query again.")


def _render_result(record: RunRecord, result: results.ShapedResult, prefs: UserPrefs) -> None:
    view = prefs.view
    if view == "json":
        st.json(results.to_plain(_limited(result.value, prefs.row_limit)), expanded=2)
    elif view == "text":
        st.code(results.driver_text(result, prefs.row_limit), language=None)
    else:
        table = results.table_data(result, prefs.row_limit)
        config = {name: st.column_config.JsonColumn(name) for name in table.json_columns}
        st.dataframe(table.columns, column_config=config or None, hide_index=False)
    d1, d2, _ = st.columns([1, 1, 4])
    d1.download_button(
        "CSV", data=_lazy(results.to_csv_text, result), file_name=f"result-{record.run_id}.csv",
        mime="text/csv", key=f"csv_{record.run_id}", on_click="ignore", icon="⬇️",
    )
    d2.download_button(
        "JSON", data=_lazy(results.to_json_text, result),
        file_name=f"result-{record.run_id}.json", mime="application/json",
        key=f"json_{record.run_id}", on_click="ignore", icon="⬇️",
    )


def _lazy(render: Callable[[results.ShapedResult], str], result: results.ShapedResult
          ) -> Callable[[], str]:
    return lambda: render(result)


def _limited(value: object, limit: int) -> object:
    return value[:limit] if isinstance(value, list) else value


def running_list(active: list[RunRecord], now: float,
                 on_cancel: Callable[[list[int] | None], None]) -> None:
    """Queued and running queries with live elapsed times and cancel buttons."""
    running_rows(active, now, on_cancel)


def running_line(record: RunRecord, now: float) -> str:
    """One run's line in the running list (its name, run id, status and elapsed time)."""
    elapsed = record.elapsed_s(now)
    waited = now - record.submitted_at
    timing = format_elapsed(elapsed) if elapsed is not None else \
        f"queued {format_elapsed(waited)}"
    return (f"{STATUS_ICONS[record.status]} **{record.request.name}** "
            f"(run {record.run_id}) · {record.status} · {timing}")


@dataclass
class RunningRows:
    """The running list's slots, for a page run that refreshes them while it streams."""

    header: DeltaGenerator
    lines: dict[int, DeltaGenerator]  # run id -> its line


def running_rows(active: list[RunRecord], now: float,
                 on_cancel: Callable[[list[int] | None], None]) -> RunningRows:
    """The running list, each heading and line in a slot that can be redrawn in place."""
    header = st.empty()
    header.subheader(f"Running ({len(active)})")
    lines: dict[int, DeltaGenerator] = {}
    for record in active:
        c1, c2 = st.columns([6, 1])
        lines[record.run_id] = c1.empty()
        lines[record.run_id].markdown(running_line(record, now))
        c2.button("Cancel", key=f"cancel_{record.run_id}", on_click=on_cancel,
                  args=([record.run_id],))
    if len(active) > 1:
        st.button("Cancel all", key="cancel_all", on_click=on_cancel, args=(None,))
    return RunningRows(header, lines)


def history_table(records: list[RunRecord]) -> None:
    rows = {
        "run": [r.run_id for r in records],
        "status": [r.status for r in records],
        "query": [r.request.query[:200] for r in records],
        "arguments": [_args_summary(r) for r in records],
        "method": [r.request.method.value for r in records],
        "elapsed ms": [
            round((r.elapsed_s() or 0) * 1000, 1) if not r.active else None for r in records
        ],
        "rows": [r.rows for r in records],
        "submitted": [time.strftime("%H:%M:%S", time.localtime(r.submitted_wall))
                      for r in records],
    }
    st.dataframe(rows, hide_index=True)


def _args_summary(record: RunRecord) -> str:
    request = record.request
    return "; ".join(t for t in (request.args_text.strip(), request.kwargs_text.strip()) if t)


def history_json(records: list[RunRecord]) -> str:
    return json.dumps(
        [
            {
                "run": r.run_id,
                "status": r.status,
                "query": r.request.query,
                "positional_arguments": r.request.args_text,
                "named_arguments": r.request.kwargs_text,
                "method": r.request.method.value,
                "elapsed_s": r.elapsed_s(),
                "rows": r.rows,
                "submitted": time.strftime("%Y-%m-%dT%H:%M:%S%z",
                                           time.localtime(r.submitted_wall)),
                "error": r.error.message if r.error else None,
            }
            for r in records
        ],
        indent=2,
    )


def resources_panel(status: RuntimeStatus, totals: RegistryTotals) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("My queries", status.query_count)
    c2.metric("My running", status.active_runs)
    c3.metric("Sessions (process)", totals.sessions)
    c4.metric("Running (process)", totals.active_runs)
    st.caption(
        f"Session token `{status.token[:8]}…` · loop "
        f"{'running' if status.loop_alive else 'stopped'}"
        f" (restarts: {status.loop_restarts}) · client {status.client_state} · idle "
        f"{status.idle_s:.0f} s · process: {totals.live_loops} loops, {totals.clients} clients, "
        f"{totals.queries} queries, {totals.reaped} reaped, {totals.released} released"
    )


def connection_summary(settings: ConsoleSettings) -> None:
    summary = settings.connection.summary()
    if settings.fake_client:
        summary = {"client": "test fake (no database)", **summary}
    lines = "\n".join(f"- {key}: `{value}`" for key, value in summary.items())
    st.markdown("**Connection**\n\n" + (lines or "- the driver's defaults"))
    st.caption(
        f"Read-only: {'on' if settings.read_only else 'off (writes allowed)'} · query timeout "
        f"{settings.query_timeout_s:g} s · connect wait {settings.connect_wait_s:g} s · "
        f"idle reclaim after {settings.idle_threshold_s:g} s · up to {settings.max_running} "
        "running queries per session"
    )


def docs_links() -> None:
    st.markdown(" · ".join(f"[{label}]({url})" for label, url in DOCS_LINKS))
