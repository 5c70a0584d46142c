"""The browser's memory of this user's history and saved queries: a small components-v2
component (inline JavaScript, a thin adapter over localStorage) and the glue that feeds it.

Every decision is ``ecc.library.browser.BrowserMemory``'s (tested with pytest there): what the
browser handed over is checked there, and what the browser must store, remove or forget goes
to it as one-shot commands until it acknowledges them. The component draws nothing.

Namespaces: without sign-in (no ``[auth]``) everyone using the browser shares ``anon``;
signed in, a user's entries live under an HMAC of their identity keyed with the deployment's
``[auth] cookie_secret`` (``ecc.library.browser.user_namespace``); a page where nobody is
signed in (the sign-in page, after signing out) mounts the component with no namespace,
which removes every namespace's entries from the browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ecc.display.safe_text import escape_markdown
from ecc.editor.sync import reported_value
from ecc.library.browser import (
    ANONYMOUS,
    SIGNED_OUT_DATA,
    BrowserMemory,
    user_identity,
    user_namespace,
)
from ecc.library.entries import (
    HISTORY_STATUSES,
    HistoryEntry,
    Loadable,
    MemoryLimits,
    StoredValueError,
    check_branch,
    new_id,
    recorded_globals,
    search,
)
from ecc.running.runs import RunRecord
from ecc.settings.config import ConsoleSettings

COMPONENT_NAME = "ecc.browser_memory"
COMPONENT_KEY = "ecc_browser_memory"  # the component's widget key
MEMORY_KEY = "ecc_memory"  # st.session_state: this session's BrowserMemory

# The adapter: localStorage in, localStorage out, nothing decided here (see
# ecc/library/browser.py for the protocol). A leading comment line: Streamlit reads a
# one-line js= string as an asset path.
MEMORY_JS = """// ECC browser memory: a thin localStorage adapter (ecc/library/browser.py)
const PREFIX = "ecc.mem.v1.";
const delivered = new Set();  // load tokens whose entries this page handed over
const applied = new Map();  // load token -> highest command seq applied
const acked = new Map();  // load token -> highest seq acknowledged

function storage() {
  try { return window.localStorage; } catch (e) { return null; }
}

function ownKeys(store) {
  const out = [];
  for (let i = 0; i < store.length; i++) {
    const key = store.key(i);
    if (key !== null && key.startsWith(PREFIX)) out.push(key);
  }
  return out;
}

export default function (component) {
  const data = component.data || {};
  const store = storage();
  if (typeof data.ns !== "string") {  // nobody signed in: forget every namespace
    if (store) for (const key of ownKeys(store)) store.removeItem(key);
    return;
  }
  const mine = PREFIX + data.ns + ".";
  const load = String(data.load || "");
  let delivering = false;
  if (load && !delivered.has(load)) {
    delivered.add(load);
    delivering = true;
    const entries = {load: load, h: {}, s: {}};
    if (!store) component.setStateValue("error", "localStorage is not available");
    for (const key of store ? ownKeys(store) : []) {
      if (!key.startsWith(mine)) { store.removeItem(key); continue; }  // another user's
      const rest = key.slice(mine.length);
      const dot = rest.indexOf(".");
      const kind = rest.slice(0, dot);
      if (dot > 0 && (kind === "h" || kind === "s")) {
        entries[kind][rest.slice(dot + 1)] = store.getItem(key);
      } else {
        store.removeItem(key);
      }
    }
    component.setTriggerValue("loaded", entries);
  }
  let done = applied.get(load) || 0;
  for (const command of data.cmds || []) {
    if (command.seq <= done) continue;
    const prefix = mine + command.kind + ".";
    try {
      if (!store) throw new Error("localStorage is not available");
      if (command.op === "put") store.setItem(prefix + command.id, command.value);
      else if (command.op === "del") for (const id of command.ids) store.removeItem(prefix + id);
      else if (command.op === "clear") {
        for (const key of ownKeys(store)) if (key.startsWith(prefix)) store.removeItem(key);
      }
    } catch (e) {  // acknowledged all the same: the page says the browser refused
      component.setStateValue("error", String((e && e.message) || e).slice(0, 200));
    }
    done = command.seq;
  }
  applied.set(load, done);
  // Not in the run that hands the entries over: one message per rerun.
  if (!delivering && done > (acked.get(load) || 0)) {
    acked.set(load, done);
    component.setStateValue("acked", load + ":" + done);
  }
}
"""

_memory_component = st.components.v2.component(COMPONENT_NAME, js=MEMORY_JS)


def _auth_section() -> Mapping[str, Any] | None:
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets at all
        return None
    return section if isinstance(section, Mapping) else None


def current_namespace() -> str | None:
    """This page's storage namespace: ``anon`` without sign-in, the signed-in user's keyed
    hash with it, None when sign-in is configured and nobody is signed in."""
    auth = _auth_section()
    if auth is None:
        return ANONYMOUS
    user = st.user
    if not getattr(user, "is_logged_in", False):
        return None
    identity = user_identity({k: user.get(k) for k in ("iss", "sub", "email")})
    secret = auth.get("cookie_secret")
    if identity is None or not isinstance(secret, str) or not secret:
        return None  # nobody to keep entries for: keep none
    return user_namespace(identity, secret)


def session_memory(settings: ConsoleSettings, runs: Iterable[RunRecord] = ()
                   ) -> BrowserMemory | None:
    """This session's memory (created at its first run, again when the user or the limits
    change), or None when the browser keeps nothing (``browser_memory = false``, nobody
    signed in). A new memory never records the runs the session had before it."""
    if not settings.browser_memory:
        return None
    namespace = current_namespace()
    if namespace is None:
        return None
    limits = MemoryLimits.from_settings(settings)
    memory = st.session_state.get(MEMORY_KEY)
    if not isinstance(memory, BrowserMemory) or memory.namespace != namespace \
            or memory.limits != limits:
        memory = BrowserMemory(namespace, limits)
        memory.mark_recorded(str(r.run_id) for r in runs)
        st.session_state[MEMORY_KEY] = memory
    return memory


def history_entry(record: RunRecord) -> HistoryEntry | None:
    """A finished run as a history entry (never its result); None while it runs."""
    if record.status not in HISTORY_STATUSES:
        return None
    request = record.request
    try:  # the name the page showed; one the stored form could not hold is not recorded
        branch = check_branch(request.branch_shown or request.branch or "")
    except StoredValueError:
        branch = ""
    return HistoryEntry(id=new_id(), query=request.query, method=request.method,
                        args_text=request.args_text, kwargs_text=request.kwargs_text,
                        status=record.status, elapsed_s=record.elapsed_s(), rows=record.rows,
                        when=record.submitted_wall, branch=branch,
                        globals_text=recorded_globals(request.globals_text))


def record_finished(memory: BrowserMemory, records: Iterable[RunRecord]) -> None:
    """Every finished run of the session goes into the history once, oldest first."""
    for record in sorted(records, key=lambda r: r.run_id):
        entry = history_entry(record)
        if entry is not None:
            memory.record(entry, run_key=str(record.run_id))


def _memory() -> BrowserMemory | None:
    memory = st.session_state.get(MEMORY_KEY)
    return memory if isinstance(memory, BrowserMemory) else None


def _on_loaded() -> None:
    memory = _memory()
    if memory is not None:
        memory.adopt_loaded(reported_value(st.session_state.get(COMPONENT_KEY), "loaded"))


def _on_acked() -> None:
    memory = _memory()
    if memory is not None:
        memory.acknowledge(reported_value(st.session_state.get(COMPONENT_KEY), "acked"))


def _on_error() -> None:
    """A storage error (read at render by ``storage_error``)."""


def storage_error() -> str | None:
    """The browser's last storage error (quota exceeded, storage disabled), as it named it."""
    value = reported_value(st.session_state.get(COMPONENT_KEY), "error")
    return value[:200] if isinstance(value, str) and value else None


def mount(memory: BrowserMemory) -> None:
    """Draw the component with what the browser has to apply (nothing visible). Draw it last
    on the page: runs that finish while the page streams are recorded in the same run. While
    the browser's load has not arrived, a small polling fragment asks again (``_load_watch``)."""
    memory.load_drawn(time.monotonic())
    _memory_component(key=COMPONENT_KEY, data=memory.component_data(),
                      on_loaded_change=_on_loaded, on_acked_change=_on_acked,
                      on_error_change=_on_error)
    if not memory.loaded and not memory.gave_up:
        _load_watch()


LOAD_WATCH_S = 1.0  # how often a page waiting for the browser's load checks on it


@st.fragment(run_every=LOAD_WATCH_S)
def _load_watch() -> None:
    """Drawn only while the load is awaited (each whole-page run clears the browser's polling
    timers, so it stops with the first run that does not draw it). A load lost on its way
    would otherwise leave an idle page "Reading your history" for good: past
    ``LOAD_RETRY_S`` it asks again under a new token and reruns the page, which draws the
    component with it; past ``LOAD_ASKS`` asks the page says the browser did not answer."""
    memory = _memory()
    if memory is not None and memory.load_due(time.monotonic()):
        memory.ask_again()
        st.rerun(scope="app")


def forget_in_browser() -> None:
    """Remove every namespace's entries from this browser (nobody is signed in)."""
    _memory_component(key=COMPONENT_KEY, data=SIGNED_OUT_DATA)


# --- the history kept in the browser ----------------------------------------------------------
HISTORY_SEARCH_KEY = "memory_search"
HISTORY_CHOICE_KEY = "memory_choice"
HISTORY_SHOWN = 200  # rows of the table; search narrows the rest
HISTORY_VIEW_KEY = "_memory_history_view"  # st.session_state: the last HistoryView


def _when(entry: HistoryEntry) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.when))


def _chosen_entry() -> HistoryEntry | None:
    memory, chosen = _memory(), st.session_state.get(HISTORY_CHOICE_KEY)
    return memory.history_entry(chosen) if memory is not None and isinstance(chosen, str) \
        else None


def _use_entry(action: Callable[[Loadable], None]) -> None:
    entry = _chosen_entry()
    if entry is not None:
        action(entry)


def _forget() -> None:
    memory = _memory()
    if memory is not None:
        memory.forget_history()
        st.session_state.pop(HISTORY_CHOICE_KEY, None)


@dataclass(frozen=True)
class HistoryView:
    """What the panel shows of the history for one search: built once per change of the
    history or the search (a rerun that changed neither rebuilds nothing)."""

    key: tuple[str, int, str]  # (load token, history version, search)
    matches: int
    table: Any  # a pyarrow Table of the newest HISTORY_SHOWN matches
    labels: dict[str, str]  # entry id -> the choice's label, newest first


def _history_view(memory: BrowserMemory, text: str) -> HistoryView:
    key = (memory.load_token, memory.history_version, text)
    cached = st.session_state.get(HISTORY_VIEW_KEY)
    if isinstance(cached, HistoryView) and cached.key == key:
        return cached
    import pyarrow as pa  # Streamlit's own dependency; a table is sent without conversion

    found = search(memory.history, text)
    shown = found[:HISTORY_SHOWN]
    when = [_when(e) for e in shown]
    table = pa.table({
        "when": when,
        "status": [e.status for e in shown],
        "query": [e.query[:200] for e in shown],
        "arguments": ["; ".join(t for t in (e.args_text.strip(), e.kwargs_text.strip()) if t)
                      [:200] for e in shown],
        "method": [e.method.value for e in shown],
        "branch": [e.branch for e in shown],  # "" for runs kept before branches were
        "globals": [e.globals_text for e in shown],
        "elapsed ms": pa.array([None if e.elapsed_s is None else round(e.elapsed_s * 1000, 1)
                                for e in shown], type=pa.float64()),
        "rows": pa.array([e.rows for e in shown], type=pa.int64()),
    })
    labels = {e.id: f"{w} · {' '.join(e.query.split())[:80]}" for e, w in zip(shown, when,
                                                                              strict=True)}
    view = HistoryView(key, len(found), table, labels)
    st.session_state[HISTORY_VIEW_KEY] = view
    return view


def history_panel(memory: BrowserMemory, load: Callable[[Loadable], None],
                  run: Callable[[Loadable], None]) -> None:
    """The history this browser keeps (every session's runs, newest first): search, load
    into the editor, run again, forget. Entries are text from storage: shown in a table,
    options and escaped captions only."""
    if memory.gave_up:
        st.caption("This browser did not hand over the history it keeps. Reload the page to "
                   "ask again.")
        return
    if not memory.loaded:
        st.caption("Reading your history from this browser…")
        return
    notice = memory.report.notice()
    if notice:
        st.caption(escape_markdown(notice))
    error = storage_error()
    if error:
        st.warning(escape_markdown(f"This browser refused to store the history ({error}); "
                                   "what is shown may not survive a reload."), icon="💾")
    if not memory.syncing:
        st.warning("This browser is not storing the history: new runs are not kept.",
                   icon="💾")
    view = _history_view(memory, st.text_input(
        "Search the history", key=HISTORY_SEARCH_KEY,
        placeholder="words of the query or arguments"))
    st.caption(f"{memory.history_count:,} runs kept in this browser (at most "
               f"{memory.limits.history_size:,}); {view.matches:,} match"
               + (f", the newest {HISTORY_SHOWN} shown." if view.matches > HISTORY_SHOWN
                  else "."))
    found = bool(view.labels)
    if found:
        st.dataframe(view.table, hide_index=True)
        labels = view.labels
        if st.session_state.get(HISTORY_CHOICE_KEY) not in labels:
            st.session_state[HISTORY_CHOICE_KEY] = next(iter(labels))
        st.selectbox("Run", list(labels), key=HISTORY_CHOICE_KEY,
                     format_func=lambda i: labels.get(i, "?"))
    c1, c2, c3 = st.columns(3)
    c1.button("Load into editor", key="memory_load", on_click=_use_entry, args=(load,),
              disabled=not found)
    c2.button("Run again", key="memory_rerun", on_click=_use_entry, args=(run,),
              disabled=not found)
    with c3.popover("Forget my history", disabled=not memory.history):
        st.caption("Removes every run from this browser's history (saved queries stay).")
        st.button("Forget", key="memory_forget", on_click=_forget, type="primary")
