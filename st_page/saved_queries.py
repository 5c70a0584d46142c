"""The saved-queries panel: the user's own saved queries (kept in the browser, see
``st_page/browser_memory.py``) and, beside them, the team's read-only library of ``.edgeql``
files (``team_library`` in ``[connections.gel]``, read once per process).

Save the current query under a name (the same name replaces it), find by name or text,
load into the editor, run, rename, delete, a shared link (the link a run writes), export as
JSON or ``.edgeql``, import either. What the page does with a query (what "current" is, how
it loads or runs) comes in as ``PageActions``: this module draws and decides nothing else.
Names, descriptions and queries are hostile text: shown as widget options, code or escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import streamlit as st

from ecc.arguments.drafts import DraftLimits
from ecc.display.safe_text import escape_markdown
from ecc.driver.errors import ConsoleInputError, ErrorView
from ecc.library.browser import BrowserMemory
from ecc.library.entries import (
    Loadable,
    MemoryLimits,
    QueryText,
    SavedQuery,
    search,
    shared_link,
)
from ecc.library.files import export_edgeql, export_json, import_file
from ecc.library.team import TeamLibrary, TeamQuery, read_team_library
from ecc.running.sessions import SessionLimitError
from ecc.settings.config import ConsoleSettings
from st_page import streamlit_internals
from st_page.branch_and_globals import link_branch, shown_branch
from st_page.browser_memory import MEMORY_KEY
from st_page.form import first_query_text
from st_page.history import load_kept, run_kept
from st_utils import SettingsProblem, read_settings, session_runtime

APP_ROOT = Path(__file__).resolve().parents[1]  # a relative team_library is read from here
ACTION_ERRORS = "action_errors"  # the page shows these ErrorViews (set by callbacks)
NOTICE_KEY = "saved_notice"  # plain text for the next run of the panel
NAME_KEY, SEARCH_KEY, CHOICE_KEY = "saved_name", "saved_search", "saved_choice"
RENAME_KEY, IMPORT_KEY, TEAM_CHOICE_KEY = "saved_rename", "saved_import", "team_choice"


def _named_branch(shown: str) -> str | None:
    return shown or None


@dataclass(frozen=True)
class PageActions:
    """What the page does for the panel, each called from a button's callback (``link_branch``
    when it is drawn)."""

    current: Callable[[], QueryText | ErrorView | None]  # the query "Save" saves
    load: Callable[[Loadable], None]  # put a query into the editor
    run: Callable[[Loadable], None]  # put it into the editor and run it
    # A saved query's branch -> the ``&branch=`` its shared link carries (None: none).
    link_branch: Callable[[str], str | None] = _named_branch


@st.cache_resource(show_spinner=False)
def _team_library(folder: str, limits: MemoryLimits) -> TeamLibrary:
    # Read once per process and folder: the operator's files change with a deployment.
    return read_team_library(folder, APP_ROOT, limits)


def team_library(settings: ConsoleSettings) -> TeamLibrary | None:
    if not settings.team_library:
        return None
    return _team_library(settings.team_library, MemoryLimits.from_settings(settings))


def _memory() -> BrowserMemory | None:
    memory = st.session_state.get(MEMORY_KEY)
    return memory if isinstance(memory, BrowserMemory) else None


def _fail(view: ErrorView) -> None:
    st.session_state[ACTION_ERRORS] = [*st.session_state.get(ACTION_ERRORS, []), view]


def _save(actions: PageActions) -> None:
    memory = _memory()
    current = actions.current()
    if memory is None or current is None:
        return
    if isinstance(current, ErrorView):
        _fail(current)
        return
    try:
        outcome = memory.save(st.session_state.get(NAME_KEY, ""), current.query,
                              current.method, current.args_text, current.kwargs_text,
                              branch=current.branch)
    except ConsoleInputError as refused:
        _fail(refused.view)
        return
    st.session_state[CHOICE_KEY] = outcome.query.id
    st.session_state[NAME_KEY] = ""
    st.session_state[NOTICE_KEY] = (f"{'Replaced' if outcome.replaced else 'Saved'} "
                                    f"“{outcome.query.name}”.")


def _chosen() -> Any:
    memory = _memory()
    chosen = st.session_state.get(CHOICE_KEY)
    return memory.saved_query(chosen) if memory is not None and isinstance(chosen, str) \
        else None


def _use(action: Callable[[Loadable], None]) -> None:
    query = _chosen()
    if query is not None:
        action(query)


def _rename() -> None:
    memory, query = _memory(), _chosen()
    if memory is None or query is None:
        return
    try:
        renamed = memory.rename(query.id, st.session_state.get(RENAME_KEY, ""))
    except ConsoleInputError as refused:
        _fail(refused.view)
        return
    st.session_state[RENAME_KEY] = ""
    st.session_state[NOTICE_KEY] = f"Renamed “{query.name}” to “{renamed.name}”."


def _delete() -> None:
    memory, query = _memory(), _chosen()
    if memory is not None and query is not None and memory.delete(query.id):
        st.session_state[NOTICE_KEY] = f"Deleted “{query.name}”."
        st.session_state.pop(CHOICE_KEY, None)


def _import() -> None:
    memory = _memory()
    upload = st.session_state.get(IMPORT_KEY)
    if memory is None or upload is None:
        return
    result = import_file(upload.name, upload.getvalue(), memory.limits)
    for problem in result.problems:
        _fail(problem)
    summary = memory.import_saved(result.queries)
    parts = [f"imported {summary.added}"]
    if summary.renamed:
        parts.append(f"{summary.renamed} under a new name (the name was taken)")
    if summary.unchanged:
        parts.append(f"{summary.unchanged} already saved")
    if summary.refused:
        parts.append(f"{summary.refused} refused (saved_queries_size, saved_queries_chars)")
    st.session_state[NOTICE_KEY] = f"{upload.name[:120]}: " + ", ".join(parts) + "."


def _use_team(library: TeamLibrary, action: Callable[[Loadable], None]) -> None:
    chosen = st.session_state.get(TEAM_CHOICE_KEY)
    query = next((q for q in library.queries if q.file == chosen), None)
    if query is not None:
        action(query)


def panel(memory: BrowserMemory | None, team: TeamLibrary | None, actions: PageActions,
          limits: DraftLimits) -> None:
    """The saved queries and the team's library, side by side."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.success(escape_markdown(notice), icon="💾")
    mine, shared = st.columns(2) if team is not None else (st.container(), None)
    with mine:
        if memory is None:
            st.caption("This console keeps no saved queries in the browser "
                       "(browser_memory = false, or nobody is signed in).")
        elif memory.gave_up:
            st.caption("This browser did not hand over the saved queries it keeps. Reload "
                       "the page to ask again.")
        elif not memory.loaded:
            st.caption("Reading your saved queries from this browser…")
        else:
            _saved(memory, actions, limits)
    if shared is not None and team is not None:
        with shared:
            _team(team, actions)


def _saved(memory: BrowserMemory, actions: PageActions, limits: DraftLimits) -> None:
    st.markdown(f"**Saved queries** ({len(memory.saved)})")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.text_input("Name", key=NAME_KEY, placeholder="Save the first query as…",
                  max_chars=200)
    c2.button("Save", key="saved_save", on_click=_save, args=(actions,))
    found = search(memory.saved, st.text_input("Find saved queries", key=SEARCH_KEY,
                                               placeholder="name or text"))
    if not found:
        st.caption("No saved query matches." if memory.saved else
                   "Name the first query above and Save: it is kept in this browser.")
    else:
        names = {q.id: q.name for q in found}
        if st.session_state.get(CHOICE_KEY) not in names:
            st.session_state[CHOICE_KEY] = found[0].id
        chosen_id = st.selectbox("Saved query", list(names), key=CHOICE_KEY,
                                 format_func=lambda i: names.get(i, "?"))
        chosen = memory.saved_query(chosen_id) if chosen_id else None
        if chosen is not None:
            _preview(chosen, limits, actions.link_branch(chosen.branch))
            b1, b2, b3 = st.columns(3)
            b1.button("Load into editor", key="saved_load", on_click=_use,
                      args=(actions.load,))
            b2.button("Run", key="saved_run", on_click=_use, args=(actions.run,))
            b3.button("Delete", key="saved_delete", on_click=_delete)
            r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
            r1.text_input("New name", key=RENAME_KEY, max_chars=200)
            r2.button("Rename", key="saved_rename_go", on_click=_rename)
    e1, e2 = st.columns(2)
    e1.download_button("Export (JSON)", data=lambda: export_json(memory.saved),
                       file_name="saved-queries.json", mime="application/json",
                       on_click="ignore", key="saved_export_json",
                       disabled=not memory.saved)
    e2.download_button("Export (.edgeql)", data=lambda: export_edgeql(memory.saved),
                       file_name="saved-queries.edgeql", mime="text/plain",
                       on_click="ignore", key="saved_export_edgeql",
                       disabled=not memory.saved)
    st.file_uploader("Import saved queries (.json or .edgeql)", type=["json", "edgeql"],
                     key=IMPORT_KEY, on_change=_import)


def _preview(query: SavedQuery, limits: DraftLimits, branch: str | None) -> None:
    st.code(query.query, language=None)
    arguments = "; ".join(t for t in (query.args_text.strip(), query.kwargs_text.strip()) if t)
    st.caption(escape_markdown(f"{query.method.value}" +
                               (f" · arguments: {arguments[:300]}" if arguments else "") +
                               (f" · branch {query.branch}" if query.branch else "")))
    link, problem = shared_link(query, limits, branch=branch)
    if link is not None:
        st.caption("Shared link (add it to this page's address):")
        st.code(link, language=None)
    else:
        st.caption(escape_markdown(f"No shared link: {problem}."))


def _team(library: TeamLibrary, actions: PageActions) -> None:
    st.markdown(f"**Team library** ({len(library.queries)}, read-only)")
    if library.problems:
        st.caption(escape_markdown(f"{len(library.problems)} file(s) could not be listed: "
                                   + "; ".join(p.message for p in library.problems[:3])))
    found: list[TeamQuery] = search(library.queries, st.session_state.get(SEARCH_KEY, ""))
    if not found:
        st.caption("No team query matches." if library.queries else
                   "The team library is empty.")
        return
    names = {q.file: q.name for q in found}
    if st.session_state.get(TEAM_CHOICE_KEY) not in names:
        st.session_state[TEAM_CHOICE_KEY] = found[0].file
    chosen_file = st.selectbox("Team query", list(names), key=TEAM_CHOICE_KEY,
                               format_func=lambda f: names.get(f, "?"))
    chosen = next((q for q in found if q.file == chosen_file), None)
    if chosen is None:
        return
    if chosen.description:
        st.caption(escape_markdown(chosen.description[:500]))
    st.code(chosen.query, language=None)
    t1, t2 = st.columns(2)
    t1.button("Load into editor", key="team_load", on_click=_use_team,
              args=(library, actions.load))
    t2.button("Run", key="team_run", on_click=_use_team, args=(library, actions.run))


# --- on the page ---------------------------------------------------------------------------------


def _current_query() -> QueryText | ErrorView | None:
    """The first tab's query, read when Save is clicked (a callback: the runtime is looked up
    then, as the history's buttons do)."""
    settings = read_settings()
    if isinstance(settings, SettingsProblem):
        return None
    try:
        runtime = session_runtime(settings, connected=streamlit_internals.browser_connected())
    except SessionLimitError as refused:
        return refused.view
    text = first_query_text(runtime, settings)
    # Saved with the branch the page is on (a run of it goes there, where still allowed).
    return replace(text, branch=shown_branch(settings)) if isinstance(text, QueryText) else text


PAGE_ACTIONS = PageActions(current=_current_query, load=load_kept, run=run_kept)


def saved_queries_panel(settings: ConsoleSettings, memory: BrowserMemory | None) -> None:
    """The panel behind its toggle (drawn only when opened), with the page's actions."""
    team = team_library(settings)
    if memory is None and team is None:
        return
    count = len(memory.saved) if memory is not None and memory.loaded else None
    label = "Saved queries" + (f" ({count})" if count is not None else "")
    if team is not None:
        label += f" · team library ({len(team.queries)})"
    if not st.toggle(label, key="show_saved"):
        return
    with st.container(border=True):
        actions = replace(PAGE_ACTIONS, link_branch=lambda shown: link_branch(shown, settings))
        panel(memory, team, actions,
              DraftLimits.from_settings(settings))
