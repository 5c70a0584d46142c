"""Who wins the query text: the editor's typing or a write from elsewhere.

``state[f"q_text_{i}"]`` is the text of query tab ``i`` (the contract: history "Load into
form", shared links and the schema explorer write it from callbacks). The editor reports its
document as a component state value; it replaces its document only when the data Python
sends carries a new ``version``. The rules, over a plain mapping (session state):

- The editor reported text (its change callback): it becomes the tab's text and the synced
  text. Typing wins from then on.
- At render, a tab text that differs from the synced text was written by someone else: the
  version goes up once, so the editor shows it once; later typing wins again.
- The text travels to the browser only until the editor acknowledges its version (the
  component state value ``seen``). While the user types, the component's data stays the
  same, so Streamlit sends a reference to the cached element instead of the bundle again.
- A page that reconnects to a new server session (replica failover, restarted server) keeps
  its editors; their state values arrive with the new session's first run, where no callback
  runs (the session has never drawn them). ``adopt_browser_editor`` then does what the
  callbacks would: the editor's text becomes the tab's text and the version it shows stays
  current, so the new session neither replaces nor loses what the user typed.

Nothing here imports Streamlit; the editor widget (``st_comps``) calls these from callbacks
and at render.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

# Session state is a MutableMapping keyed by str | int; a dict serves in tests.
State = MutableMapping[Any, Any]


def text_key(index: int) -> str:
    return f"q_text_{index}"


def editor_key(index: int) -> str:
    return f"q_editor_{index}"


def _synced_key(index: int) -> str:
    return f"_q_synced_{index}"


def _version_key(index: int) -> str:
    return f"_q_version_{index}"


RUN_REQUEST_KEY = "_q_run_requested"


@dataclass(frozen=True)
class Seed:
    """What the editor is told: show ``text`` when ``version`` is new to you (or you are
    new)."""

    text: str
    version: int


def reported_value(component_state: object, name: str) -> Any:
    """One value of a component's session-state entry (a mapping or an attribute bag)."""
    if isinstance(component_state, Mapping):
        return component_state.get(name)
    return getattr(component_state, name, None)


def on_editor_text(state: State, index: int, text: object) -> None:
    """The editor sent its document (debounced typing, blur): typing wins."""
    if isinstance(text, str):
        state[text_key(index)] = text
        state[_synced_key(index)] = text


def on_editor_run(state: State, index: int, payload: object) -> None:
    """Ctrl/Cmd+Enter in the editor: its document as it is now, and a run request."""
    text = reported_value(payload, "text") if payload is not None else None
    on_editor_text(state, index, text)
    if payload is not None:
        state[RUN_REQUEST_KEY] = True


def editor_index(key: str) -> int | None:
    """The tab of an editor's component key (``q_editor_{i}``), else None."""
    prefix = editor_key(0)[:-1]
    digits = key[len(prefix):] if key.startswith(prefix) else ""
    return int(digits) if digits.isdigit() and digits.isascii() and len(digits) < 4 else None


def adopt_browser_editor(state: State, index: int, values: Mapping[str, Any],
                         events: Iterable[tuple[str, Any]] = ()) -> None:
    """A session that never drew the page received editor ``index``'s state ``values``
    (``text``, ``seen``) and trigger ``events`` from the browser: take them as the editor's
    callbacks would have. ``seen`` becomes the current version, so the editor keeps its
    document; a ``run`` event (Ctrl/Cmd+Enter) is a run request, with its text."""
    on_editor_text(state, index, values.get("text"))
    seen = values.get("seen")
    if isinstance(seen, int) and not isinstance(seen, bool) and seen >= 1:
        state[_version_key(index)] = seen
        text = state.get(text_key(index))
        state[_synced_key(index)] = text if isinstance(text, str) else ""
    for name, value in events:
        if name == "run":
            on_editor_run(state, index, value)


def take_run_request(state: State) -> bool:
    """True once per Ctrl/Cmd+Enter."""
    return bool(state.pop(RUN_REQUEST_KEY, False))


def seed_for_render(state: State, index: int) -> Seed:
    """The current text of tab ``index`` and the version the editor should show."""
    text = state.get(text_key(index))
    text = text if isinstance(text, str) else ""
    version = state.get(_version_key(index))
    if not isinstance(version, int):
        version = 1
    elif text != state.get(_synced_key(index)):
        version += 1  # written from elsewhere: the editor shows it, once
    state[_version_key(index)] = version
    state[_synced_key(index)] = text
    return Seed(text, version)


def text_to_send(seed: Seed, seen: object) -> str | None:
    """The text for the component's data: until the editor has acknowledged this version
    (``seen``), else None (the editor keeps its document, across remounts too)."""
    return seed.text if seen != seed.version else None


# --- the schema's completion tree: sent once per page, addressed by its hash ----------------
# The tree of a 2000-type schema is ~5 MB of JSON. The browser keeps trees by hash in the
# editor module (shared by every editor of the page); an editor reports the hash it holds as
# its state value ``schema`` ("" when its page lacks the tree it was told about). The tree
# travels until some editor of the session acknowledged its hash; afterwards every editor
# gets the hash alone, so an unchanged schema costs a few bytes per rerun.
TREES_ACKED_KEY = "_q_trees_acked"
TREE_MISSING = ""  # what an editor reports when its page does not hold the announced tree
KEPT_ACKS = 4  # hashes remembered per session (the browser keeps as many trees)


def tree_to_send(state: State, tree_hash: str, reported: object) -> bool:
    """Whether an editor whose state value ``schema`` is ``reported`` gets the tree of
    ``tree_hash`` with this run (else the hash alone)."""
    acked = state.get(TREES_ACKED_KEY)
    acked = list(acked) if isinstance(acked, (list, tuple)) else []
    if reported == tree_hash:
        if tree_hash not in acked:
            state[TREES_ACKED_KEY] = [*acked, tree_hash][-KEPT_ACKS:]
        return False
    if reported == TREE_MISSING:
        return True  # this page lost it (or never had it): send it again
    return tree_hash not in acked
