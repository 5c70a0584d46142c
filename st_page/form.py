"""The query form: its tabs (the editor, typed inputs or argument-language fields, result
cardinality), Run and Analyze, and the submission: read before the page is drawn, checked
(``ecc.arguments.drafts``), queued on the session's runtime (``queue_runs``, also the
history's "Run again")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st

from ecc.arguments.drafts import DraftLimits, build_requests
from ecc.arguments.params import scan_parameters
from ecc.arguments.typed_inputs import TypedInputs, enum_options, input_default
from ecc.display.safe_text import escape_markdown, label_markdown
from ecc.driver.describe_cache import Description
from ecc.driver.errors import ConsoleInputError, ErrorView
from ecc.driver.execute import ExecutionPolicy, QueryRequest
from ecc.editor import sync as editor_sync
from ecc.library.entries import QueryText
from ecc.running.loop import LoopStoppedError
from ecc.running.sessions import SessionLimitError, SessionRuntime, SubmitResult
from ecc.schema.store import CompletionTree
from ecc.settings.config import ConsoleSettings
from st_comps import BROWSER_KEYS, editor_data, query_editor, widget_default
from st_data_structures import CARDINALITY_LABELS, FormContent, QueryTabContent, UserPrefs
from st_page import streamlit_internals
from st_page.branch_and_globals import stamp_requests
from st_page.descriptions import description_for
from st_page.links import LINK_SHOWN_KEY, share_link
from st_page.results import POLL_KEY
from st_utils import execution_policy, session_runtime

log = logging.getLogger("ecc.page")


def submit_requested(runtime: SessionRuntime, settings: ConsoleSettings, prefs: UserPrefs,
                     *, form_drawn: bool = False) -> list[ErrorView] | None:
    """Before the page is drawn: queue what this run's Run, Analyze or Ctrl/Cmd+Enter
    submitted, so its queries run while the page draws. None when nothing was submitted;
    else why nothing ran (empty when queued).
    The page calls it again once the form is drawn (``form_drawn``): a session that has not
    drawn the form yet (a page that moved here) can read the values the browser sent only
    once their widgets are drawn, so it submits then."""
    if form_drawn != bool(st.session_state.get(BROWSER_KEYS)):
        return None
    # Run asks the server anyway: a typed tab's description is waited for here (bounded).
    submitted = submitted_form(
        int(st.session_state.get("tab_count", 1)),
        lambda text: description_for(runtime, text, settings,
                                     wait_s=settings.page_wait_s("describe")))
    if submitted is None:
        return None
    st.session_state.pop(LINK_SHOWN_KEY, None)  # a run started: a shared link's notice ends
    return submit_form(runtime, submitted, settings, prefs)


def submit_form(runtime: SessionRuntime, content: FormContent, settings: ConsoleSettings,
                prefs: UserPrefs) -> list[ErrorView]:
    """Check the form and queue its queries; nothing waits here (the page run streams the
    results in, ``st_page.results.stream_results``). Returns input errors (nothing ran)."""
    limits = DraftLimits.from_settings(settings)
    requests, errors = build_requests(content.drafts(), limits, analyze=content.analyze)
    if errors:
        return [e.scrubbed(settings.secret_values) for e in errors]
    # Only a run that passed the checks goes into the address, with the values it used.
    share_link(_as_run(content, requests[0]), limits, branch=settings.session_branch)
    return queue_runs(runtime, requests, settings, prefs)


def queue_runs(runtime: SessionRuntime, requests: list[QueryRequest],
               settings: ConsoleSettings, prefs: UserPrefs) -> list[ErrorView]:
    """The one path from checked requests to the page (the form and "Run again"): queue
    them, show this batch, and note a restarted loop. Returns why nothing was queued, if so.
    Nothing waits here: the page run streams the results in as they finish (``stream_results``)."""
    try:
        # The session's branch and globals, checked again here (the operator's policy).
        requests, here = stamp_requests(requests, settings)
        submitted = _submit_to_session(runtime, requests, execution_policy(here, prefs),
                                       settings)
    except ConsoleInputError as refused:
        return [refused.view]
    state = st.session_state
    state["shown_batch"] = submitted.records[0].batch_id
    state.pop("shown_run", None)
    state.pop(POLL_KEY, None)  # a new submission streams again
    if submitted.loop_restarted:
        state["loop_notice"] = True
    return []


RUNTIME_GONE = ErrorView(
    kind="internal",
    title="Session restarted",
    message="This session's connection to the console was closed while the run was being "
    "queued (the browser's connection dropped a moment ago). Nothing was run.",
    hint="Press Run again.",
    retryable=True,
)


def _submit_to_session(runtime: SessionRuntime, requests: list[QueryRequest],
                       policy: ExecutionPolicy, settings: ConsoleSettings) -> SubmitResult:
    """``runtime.submit``. The runtime may have been closed after this page run fetched it (a
    websocket drop releases an idle runtime at once): then the session's runtime is fetched
    again from the registry and the batch submitted there, once. Raises ``ConsoleInputError``
    (nothing queued) with the view the page shows otherwise."""
    try:
        return runtime.submit(requests, policy)
    except LoopStoppedError:
        log.info("session %s: runtime closed under the page run; fetching it again",
                 runtime.token[:8])
    try:
        again = session_runtime(settings, connected=streamlit_internals.browser_connected())
        return again.submit(requests, policy)
    except SessionLimitError as refused:
        raise ConsoleInputError(refused.view) from None
    except LoopStoppedError:
        raise ConsoleInputError(RUNTIME_GONE) from None


def _as_run(content: FormContent, first: QueryRequest) -> FormContent:
    """``content`` with its first tab's typed values cut to the parameters ``first`` (its
    request) was run with: what a shared link of the run holds."""
    tab = content.tabs[0]
    used = set(first.kwargs) | {str(position) for position in range(len(first.args))}
    shown = {name: raw for name, raw in tab.raw_params.items() if name in used}
    return replace(content, tabs=(replace(tab, raw_params=shown), *content.tabs[1:]))


def first_query_text(runtime: SessionRuntime, settings: ConsoleSettings
                     ) -> QueryText | ErrorView:
    """The first tab's query as the form holds it, its arguments as argument-language text
    (typed inputs read as a run reads them, ``ecc.arguments.drafts``): what "Save" keeps. The
    view says why not (a typed input that does not parse)."""
    tab = _tab_content(0, lambda text: description_for(runtime, text, settings))
    content = FormContent(tabs=(tab,), remembered=dict(st.session_state.get("param_memory", {})))
    limits = DraftLimits.from_settings(settings)
    requests, errors = build_requests(content.drafts(), limits)
    if errors:
        return errors[0].scrubbed(settings.secret_values)
    [request] = requests
    return QueryText(request.query, request.method, request.args_text, request.kwargs_text)


InputsFor = Callable[[str], TypedInputs]
DescriptionFor = Callable[[str], Description | None]


def submitted_form(tab_count: int, description_for: DescriptionFor) -> FormContent | None:
    """What this run submits, read before anything is drawn (so the batch is queued first and
    runs while the page draws): the form's content when Run, Analyze or Ctrl/Cmd+Enter started
    this run (their values come with the run), else None. Every value is what the widgets
    hold, unparsed (``ecc.arguments.drafts`` reads and checks it); a typed tab comes with the
    server's description of its text when there is one (``description_for``)."""
    state = st.session_state
    clicked = state.get("run_queries") is True
    analyze = state.get("analyze_queries") is True
    requested = editor_sync.take_run_request(state)  # once per Ctrl/Cmd+Enter
    if not (clicked or requested or analyze):
        return None
    tabs = tuple(_tab_content(index, description_for) for index in range(tab_count))
    return FormContent(tabs=tabs, analyze=analyze and not (clicked or requested),
                       remembered=dict(state.get("param_memory", {})))


def _tab_content(index: int, description_for: DescriptionFor) -> QueryTabContent:
    """Tab ``index`` as its widgets hold it (state of the previous draw, or their defaults)."""
    default = QueryTabContent()
    state = st.session_state

    def held(key: str, fallback: Any) -> Any:
        value = state.get(f"{key}_{index}")
        return fallback if value is None else value

    text = held("q_text", default.text)
    text = text if isinstance(text, str) else ""
    mode = str(held("q_mode", default.mode))
    typed = mode == "typed"
    # The inputs the previous draw showed (Streamlit drops a widget's state once it is not
    # drawn); which of them the text uses is the draft's business.
    prefix = f"p_{index}_"
    raw: dict[str, str | bool | None] = {
        key.removeprefix(prefix): state[key] for key in list(state.keys())
        if typed and isinstance(key, str) and key.startswith(prefix)}
    return QueryTabContent(
        text=text,
        args_text=str(held("q_args", default.args_text)) if mode == "text" else "",
        kwargs_text=str(held("q_kwargs", default.kwargs_text)) if mode == "text" else "",
        cardinality=str(held("q_card", default.cardinality)),
        as_json=bool(held("q_json", default.as_json)),
        mode=mode,
        raw_params=raw,
        description=description_for(text) if typed else None,
    )


def query_form(tab_count: int, inputs_for: InputsFor, *, max_query_chars: int = 100_000,
               completion: CompletionTree | None = None) -> None:
    """The query editors (one per tab) and the Run button; no ``st.form``, so typed inputs
    and the argument-language fields follow the text as it is typed. Run (button, or
    Ctrl/Cmd+Enter in an editor) is the only way a query is sent: ``submitted_form`` reads
    it before the page is drawn."""
    containers = st.tabs([f"Query {i + 1}" for i in range(tab_count)]) if tab_count > 1 \
        else [st.container()]
    for index, box in enumerate(containers):
        with box:
            _query_tab(index, tab_count, inputs_for, max_query_chars, completion)
    run_col, analyze_col, _ = st.columns([1, 1, 6])
    run_col.button("Run", type="primary", icon="▶️", key="run_queries",
                   help="Or Ctrl/Cmd+Enter in the editor.")
    analyze_col.button(
        "Analyze", icon="🔬", key="analyze_queries", help="Runs `analyze` of the query: its "
        "plan, with the time each part took (the query itself runs, under the same read-only "
        "rules).")


def _query_tab(index: int, tab_count: int, inputs_for: InputsFor, max_query_chars: int,
               completion: CompletionTree | None) -> QueryTabContent:
    # Defaults go into session state, never as value=: history and shared links set these
    # keys too, and a widget may not get both.
    default = QueryTabContent()
    state = st.session_state
    for key, value in (("q_mode", default.mode), ("q_text", default.text),
                       ("q_card", default.cardinality), ("q_json", default.as_json),
                       ("q_args", default.args_text), ("q_kwargs", default.kwargs_text)):
        widget_default(f"{key}_{index}", value)  # never over a value the browser sent
    mode = st.segmented_control(
        "Arguments", ["typed", "text"], key=f"q_mode_{index}",
        format_func=lambda m: {"typed": "Typed inputs", "text": "Argument language (advanced)"}[m],
        label_visibility="collapsed",
    ) or "typed"
    text = state.get(f"q_text_{index}")
    text = text if isinstance(text, str) else ""
    args_text, kwargs_text = default.args_text, default.kwargs_text
    raw_params: dict[str, str | bool | None] = {}
    inputs: TypedInputs | None = None
    if len(text) > max_query_chars:
        params: list[str] = []
    elif mode == "typed":
        inputs = inputs_for(text)
        params = [p.name for p in inputs.parameters]
    else:
        params = parameter_names(index, text)
    query_editor(
        editor_data(index, tab_count, params, completion, max_query_chars), index)
    if len(text) > max_query_chars:
        st.error(f"This query is {len(text):,} characters long; the limit is "
                 f"{max_query_chars:,} (max_query_chars). Shorten it: it will not run.",
                 icon="✂️")
    elif inputs is not None:
        raw_params = typed_parameter_inputs(index, inputs)
    elif mode == "text":
        args_text, kwargs_text = _argument_text_areas(index)
    # One horizontal block, not columns (three blocks): every block goes out again on every
    # rerun (~100 B each, never cached), and a page draws this row once per tab.
    row = st.container(horizontal=True, horizontal_alignment="distribute",
                       vertical_alignment="bottom")
    cardinality = row.radio(
        "Result cardinality",
        options=list(CARDINALITY_LABELS),
        key=f"q_card_{index}",
        horizontal=True,
    )
    as_json = row.toggle("JSON", key=f"q_json_{index}")
    return QueryTabContent(
        text=text,
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
        st.info(f"The server's description wins: {escape_markdown(note)}", icon="ℹ️")
    for problem in inputs.problems:
        st.warning(escape_markdown(problem), icon="⚠️")
    memory: dict[str, str | bool | None] = st.session_state.setdefault("param_memory", {})
    raw: dict[str, str | bool | None] = {}
    if not inputs.parameters:
        return raw  # no empty block: it would go out on every rerun, once per tab
    columns = st.columns(2) if len(inputs.parameters) > 1 else [st.container()]
    for position, param in enumerate(inputs.parameters):
        box = columns[position % len(columns)]
        # Names and types come from the query text (a shared link's too): a label is Markdown.
        label = label_markdown(
            f"${param.name} · {'optional ' if param.optional else ''}{param.type.label()}"
        )
        key = f"p_{index}_{param.name}"
        remembered = input_default(param, memory.get(param.name))
        if param.type.name == "std::bool" and not param.optional:
            value: str | bool | None = box.checkbox(label, value=bool(remembered), key=key)
        elif param.type.kind == "enum" and param.type.enum_members:
            options: list[str] = enum_options(param)
            value = box.selectbox(label, options, index=options.index(str(remembered)), key=key)
        else:
            value = box.text_input(
                label, value=str(remembered), key=key,
                placeholder=PLACEHOLDERS.get(param.type.name, param.type.label()),
                help="Leave empty to send the empty set." if param.optional else None,
            )
        raw[param.name] = value
        memory[param.name] = value
    return raw


def parameter_names(index: int, text: str) -> list[str]:
    """Parameter names used in tab ``index``'s text, re-read only when the text changed
    (a scan of a 100 000-character text takes ~15 ms; reruns for other widgets are free)."""

    cache: dict[int, tuple[str, list[str]]] = st.session_state.setdefault("_q_param_names", {})
    hit = cache.get(index)
    if hit is None or hit[0] != text:
        hit = (text, [p.name for p in scan_parameters(text).parameters])
        cache[index] = hit
    return list(hit[1])
