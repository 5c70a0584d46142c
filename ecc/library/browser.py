"""The browser's copy of the analyst's memory, kept in step by small one-shot commands.

The component (``st_page/browser_memory.py``, a thin JavaScript adapter over localStorage)
and this module speak this protocol::

    data (Python -> browser)  {"ns": namespace, "load": token, "cmds": [command, ...]}
                              {"ns": null}: nobody is signed in, remove every namespace
    trigger "loaded"          {"load": token, "h": {id: stored text}, "s": {id: stored text}}
                              sent once per load token: what this namespace holds
                              (a load not answered in LOAD_RETRY_S is asked again under a
                              new token; an answer under any token this memory drew counts)
    state "acked"             "<load token>:<seq>": the highest command the browser applied
    state "error"             the name of the last storage error (quota, storage disabled)
    command                   {"seq": n, "op": "put", "kind": "h"|"s", "id": id, "value": text}
                              {"seq": n, "op": "del", "kind": k, "ids": [id, ...]}
                              {"seq": n, "op": "clear", "kind": k}

Storage keys are ``ecc.mem.v1.<ns>.<kind>.<id>``. On a load the component first removes the
keys of every other namespace, so a different user of the same browser never sees (or keeps)
another's entries.

Invariants: a command is sent until the browser acknowledges it, then never again, so a rerun
that changed nothing sends the same small data (Streamlit sends an unchanged element as a
reference). Nothing read back from the browser is used before ``entries`` checked it; an
entry that fails is removed from the browser. The history is bounded (entries and characters,
oldest dropped); the saved queries are bounded too, but a save past the bound is refused,
never made room for by dropping another saved query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ecc.driver.client import QueryMethod
from ecc.driver.errors import ConsoleInputError, input_error
from ecc.library.entries import (
    MAX_NAME_CHARS,
    HistoryEntry,
    MemoryLimits,
    SavedQuery,
    StoredValueError,
    bounded,
    check_branch,
    check_name,
    check_query,
    history_from_wire,
    new_id,
    newest_first,
    now,
    saved_from_wire,
    stored_chars,
)

ANONYMOUS = "anon"  # the namespace without sign-in: everyone who uses this browser
KEY_PREFIX = "ecc.mem.v1."
HISTORY, SAVED = "h", "s"
# Commands waiting for the browser's acknowledgement; past this the browser is not applying
# them (storage disabled or full) and the memory stops sending more (``syncing`` turns false).
MAX_PENDING = 1_000
# Stored entries examined per kind on a load; more can only be hostile: they are removed.
MAX_LOADED_PER_KIND = 20_000
# The browser's load can be lost on its way (a websocket that drops with the trigger in it, a
# trigger coalesced away): while it has not arrived the page asks again under a new token
# every LOAD_RETRY_S (timed by a small polling fragment, so an idle page recovers), at most
# LOAD_ASKS times in all; then it stops waiting and says so.
LOAD_RETRY_S = 4.0
LOAD_ASKS = 4


def user_identity(claims: Mapping[str, Any]) -> str | None:
    """Who is signed in, from the identity provider's claims: issuer and subject (stable per
    account), else the e-mail address; None when nobody is."""
    issuer, subject = claims.get("iss"), claims.get("sub")
    if isinstance(subject, str) and subject:
        return f"{issuer if isinstance(issuer, str) else ''}\0{subject}"
    email = claims.get("email")
    return f"email\0{email.strip().lower()}" if isinstance(email, str) and email.strip() \
        else None


def user_namespace(identity: str | None, secret: str | None) -> str:
    """The storage namespace of a user: a keyed hash (HMAC-SHA256 with the deployment's
    secret) of their identity, so the browser's keys never show who it is and another
    deployment's namespaces differ; ``ANONYMOUS`` without sign-in."""
    if identity is None:
        return ANONYMOUS
    if not secret:
        raise ValueError("a signed-in user's namespace needs the deployment's secret")
    return hmac.new(secret.encode(), identity.encode(), hashlib.sha256).hexdigest()[:32]


SIGNED_OUT_DATA: dict[str, Any] = {"ns": None}  # the component then removes every namespace


@dataclass(frozen=True)
class LoadReport:
    """What a load found: entries taken, and what was removed or left out, in plain words."""

    history: int = 0
    saved: int = 0
    removed: int = 0  # unreadable or hostile entries, removed from the browser
    dropped: int = 0  # history past its bounds, removed from the browser
    not_shown: int = 0  # saved queries past this console's bounds, kept in the browser
    first_problem: str | None = None  # why the first removed entry could not be read

    def notice(self) -> str | None:
        """Plain text for the page (escape it): None when everything loaded."""
        parts = []
        if self.removed:
            parts.append(f"{self.removed} stored entr{'y' if self.removed == 1 else 'ies'} "
                         f"could not be read and {'was' if self.removed == 1 else 'were'} "
                         f"removed (the first: {self.first_problem})")
        if self.not_shown:
            are = "y is" if self.not_shown == 1 else "ies are"
            parts.append(f"{self.not_shown} saved quer{are}"
                         " past this console's limits (saved_queries_size, saved_queries_chars) "
                         "and not shown")
        return "; ".join(parts) + "." if parts else None


@dataclass(frozen=True)
class SaveOutcome:
    query: SavedQuery
    replaced: bool  # a saved query of the same name was replaced


@dataclass(frozen=True)
class ImportSummary:
    added: int = 0
    unchanged: int = 0  # the same name and text were saved already
    renamed: int = 0  # added under a new name: the name was taken by another text
    refused: int = 0  # past the saved queries' bounds


class BrowserMemory:
    """One browser session's history and saved queries, and what the browser still has to
    apply. Used from the script thread only (the page and its callbacks)."""

    def __init__(self, namespace: str, limits: MemoryLimits) -> None:
        self.namespace = namespace
        self.limits = limits
        self.load_token = secrets.token_urlsafe(9)
        self._asked = [self.load_token]  # every token this memory drew, oldest first
        self._asked_at: float | None = None  # when the current token was first drawn
        self.loaded = False
        self.gave_up = False  # asked LOAD_ASKS times, never answered: the page stops waiting
        self.syncing = True
        self.report = LoadReport()
        self._history: list[HistoryEntry] = []  # newest first
        self._history_chars = 0  # sum of stored_chars over _history
        self.history_version = 0  # bumped whenever the history changes (views cache by it)
        self._saved: list[SavedQuery] = []  # by name
        self._pending: list[dict[str, Any]] = []
        self._seq = 0
        self._recorded: set[str] = set()

    # --- reading ---
    @property
    def history(self) -> list[HistoryEntry]:
        return list(self._history)

    @property
    def history_count(self) -> int:
        """How many runs the history holds (no copy: the page's label reads it every run)."""
        return len(self._history)

    @property
    def saved(self) -> list[SavedQuery]:
        return list(self._saved)

    def history_entry(self, entry_id: str) -> HistoryEntry | None:
        return next((e for e in self._history if e.id == entry_id), None)

    def saved_query(self, entry_id: str) -> SavedQuery | None:
        return next((q for q in self._saved if q.id == entry_id), None)

    def saved_named(self, name: str) -> SavedQuery | None:
        key = name.strip().casefold()
        return next((q for q in self._saved if q.name.casefold() == key), None)

    # --- the component ---
    def component_data(self) -> dict[str, Any]:
        """The component's data for this run: unchanged between runs unless something changed
        or the browser acknowledged commands."""
        return {"ns": self.namespace, "load": self.load_token, "cmds": list(self._pending)}

    def acknowledge(self, acked: object) -> None:
        """The browser applied every command up to a ``seq`` (its state value ``acked``:
        ``"<load token>:<seq>"``, so an acknowledgement meant for another load, or one a page
        re-sends to a new server session, changes nothing)."""
        if not isinstance(acked, str):
            return
        token, _, seq = acked.rpartition(":")
        if token != self.load_token or not seq.isdigit() or len(seq) > 12:
            return
        self._pending = [c for c in self._pending if c["seq"] > int(seq)]
        self.syncing = True

    def load_drawn(self, now: float) -> None:
        """The component was drawn with the current token: the wait for its load starts at
        the first such draw (``now``: a monotonic clock)."""
        if self._asked_at is None:
            self._asked_at = now

    def load_due(self, now: float) -> bool:
        """True when the load has been awaited ``LOAD_RETRY_S`` since the current token was
        first drawn: the page should ``ask_again`` (and redraw)."""
        return (not self.loaded and not self.gave_up and self._asked_at is not None
                and now - self._asked_at >= LOAD_RETRY_S)

    def ask_again(self) -> None:
        """Ask the browser for its load again, under a new token (its page marks each token
        delivered once); past ``LOAD_ASKS`` asks, stop asking (``gave_up``). A load that
        arrives later under an earlier token is still taken."""
        if self.loaded or self.gave_up:
            return
        if len(self._asked) >= LOAD_ASKS:
            self.gave_up = True
            return
        self.load_token = secrets.token_urlsafe(9)
        self._asked.append(self.load_token)
        self._asked_at = None

    def mark_recorded(self, run_keys: Iterable[str]) -> None:
        """Runs that must never be recorded (those the session had before this memory)."""
        self._recorded.update(run_keys)

    def _command(self, op: str, kind: str, **fields: Any) -> None:
        if len(self._pending) >= MAX_PENDING:
            self.syncing = False  # the browser applies nothing: stop piling commands up
            return
        self._seq += 1
        self._pending.append({"seq": self._seq, "op": op, "kind": kind, **fields})

    def _put(self, kind: str, entry: HistoryEntry | SavedQuery) -> None:
        self._command("put", kind, id=entry.id, value=entry.wire())

    def _delete(self, kind: str, ids: Sequence[str]) -> None:
        if ids:
            self._command("del", kind, ids=list(ids))

    def adopt_loaded(self, payload: object) -> LoadReport | None:
        """Take what the browser held (trigger ``loaded``): every entry checked, unreadable
        ones and history past its bounds removed from the browser. None when the payload is
        not this memory's (a stale page's, or not the protocol's); a load under any token this
        memory asked with is taken: what the browser held when it answered."""
        if not isinstance(payload, dict) or payload.get("load") not in self._asked \
                or self.loaded:
            return None
        problems: list[str] = []
        history, bad_h = self._read_kind(payload.get("h"), history_from_wire, problems)
        saved, bad_s = self._read_kind(payload.get("s"), saved_from_wire, problems)
        self._delete(HISTORY, bad_h)
        self._delete(SAVED, bad_s)
        known = {e.id for e in self._history}
        merged = newest_first([*self._history, *(e for e in history if e.id not in known)])
        self._history, dropped = bounded(merged, self.limits.history_size,
                                         self.limits.history_chars)
        self._history_chars = sum(stored_chars(e) for e in self._history)
        self.history_version += 1
        self._delete(HISTORY, [e.id for e in dropped])
        by_name: dict[str, SavedQuery] = {}
        duplicates = []
        for query in newest_first([*self._saved, *saved]):
            if query.name.casefold() in by_name:
                if query.id != by_name[query.name.casefold()].id:
                    duplicates.append(query.id)  # two tabs saved one name: the newer wins
                continue
            by_name[query.name.casefold()] = query
        self._delete(SAVED, duplicates)
        shown, not_shown = bounded(list(by_name.values()), self.limits.saved_size,
                                   self.limits.saved_chars)
        self._saved = sorted(shown, key=lambda q: q.name.casefold())
        self.loaded = True
        self.gave_up = False  # a late answer to an earlier ask
        self.report = LoadReport(history=len(history), saved=len(saved),
                                 removed=len(bad_h) + len(bad_s), dropped=len(dropped),
                                 not_shown=len(not_shown),
                                 first_problem=problems[0] if problems else None)
        return self.report

    def _read_kind(self, raw: object, parse: Any, problems: list[str]) -> tuple[list[Any],
                                                                                list[str]]:
        if not isinstance(raw, dict):
            return [], []
        good, bad = [], []
        for index, (entry_id, text) in enumerate(raw.items()):
            if index >= MAX_LOADED_PER_KIND:
                bad.append(entry_id)
                continue
            try:
                good.append(parse(entry_id, text, self.limits))
            except StoredValueError as exc:
                problems.append(str(exc))
                if isinstance(entry_id, str) and len(entry_id) <= 200:
                    bad.append(entry_id)
        return good, bad

    # --- history ---
    def record(self, entry: HistoryEntry, run_key: str | None = None) -> bool:
        """Add a finished run to the history (once per ``run_key``); the oldest entries past
        the bounds are dropped. False when it was recorded already or cannot be kept."""
        if run_key is not None:
            if run_key in self._recorded:
                return False
            self._recorded.add(run_key)
        if stored_chars(entry) > self.limits.history_chars or self.limits.history_size == 0:
            return False
        # Newest first, the oldest popped: O(1) per entry recorded, however long the history.
        self._history.insert(0, entry)
        self._history_chars += stored_chars(entry)
        dropped = []
        while len(self._history) > self.limits.history_size or \
                self._history_chars > self.limits.history_chars:
            oldest = self._history.pop()
            self._history_chars -= stored_chars(oldest)
            dropped.append(oldest.id)
        self._put(HISTORY, entry)
        self._delete(HISTORY, dropped)
        self.history_version += 1
        return True

    def forget_history(self) -> None:
        """Forget the history, here and in the browser (saved queries stay)."""
        self._history = []
        self._history_chars = 0
        self.history_version += 1
        self._command("clear", HISTORY)

    # --- saved queries ---
    def save(self, name: object, query: str, method: QueryMethod, args_text: str = "",
             kwargs_text: str = "", description: str = "", branch: str = "") -> SaveOutcome:
        """Save a query under ``name`` (with the branch it is saved on, "" for none); a saved
        query of the same name (case-insensitive) is replaced. Raises ``ConsoleInputError``
        naming the problem."""
        subject = "Save query"
        try:
            clean = check_name(name)
            query, args_text, kwargs_text = check_query(query, args_text, kwargs_text,
                                                        self.limits)
            branch = check_branch(branch)
        except StoredValueError as exc:
            raise input_error(f"This query cannot be saved: {exc}.", title="Cannot save",
                              subject=subject) from None
        existing = self.saved_named(clean)
        entry = SavedQuery(id=existing.id if existing else new_id(), name=clean, query=query,
                           method=method, args_text=args_text, kwargs_text=kwargs_text,
                           when=now(), description=description, branch=branch)
        self._store_saved(entry, replacing=existing, subject=subject)
        return SaveOutcome(entry, replaced=existing is not None)

    def _store_saved(self, entry: SavedQuery, *, replacing: SavedQuery | None,
                     subject: str) -> None:
        others = [q for q in self._saved if replacing is None or q.id != replacing.id]
        if len(others) + 1 > self.limits.saved_size:
            raise input_error(
                f"You have {len(others):,} saved queries, the most this console keeps "
                f"(saved_queries_size). Delete some, then save again.", title="Cannot save",
                subject=subject)
        chars = sum(stored_chars(q) for q in others) + stored_chars(entry)
        if chars > self.limits.saved_chars:
            raise input_error(
                f"Saved queries would take {chars:,} characters of the browser's storage; this "
                f"console keeps at most {self.limits.saved_chars:,} (saved_queries_chars). "
                "Delete some, then save again.", title="Cannot save", subject=subject)
        self._saved = sorted([*others, entry], key=lambda q: q.name.casefold())
        self._put(SAVED, entry)

    def rename(self, entry_id: str, name: object) -> SavedQuery:
        """Give a saved query a new name; raises ``ConsoleInputError`` when the name is not
        valid or another saved query has it."""
        current = self.saved_query(entry_id)
        if current is None:
            raise input_error("That saved query is gone (deleted in this or another tab).",
                              title="Cannot rename", subject="Rename")
        try:
            clean = check_name(name)
        except StoredValueError as exc:
            raise input_error(f"The new name cannot be used: {exc}.", title="Cannot rename",
                              subject="Rename") from None
        taken = self.saved_named(clean)
        if taken is not None and taken.id != entry_id:
            raise input_error(f"A saved query named {clean} exists already: choose another "
                              "name, or delete that one first.", title="Cannot rename",
                              subject="Rename")
        renamed = replace(current, name=clean, when=now())
        self._store_saved(renamed, replacing=current, subject="Rename")
        return renamed

    def delete(self, entry_id: str) -> bool:
        if self.saved_query(entry_id) is None:
            return False
        self._saved = [q for q in self._saved if q.id != entry_id]
        self._delete(SAVED, [entry_id])
        return True

    def import_saved(self, queries: Sequence[SavedQuery]) -> ImportSummary:
        """Add imported queries: one already saved with the same name and text is left alone;
        a name taken by another text gets a number (``name (2)``); past the bounds the rest
        is refused."""
        added = unchanged = renamed = refused = 0
        for query in queries:
            existing = self.saved_named(query.name)
            if existing is not None and (existing.query, existing.args_text,
                                         existing.kwargs_text, existing.method) == \
                    (query.query, query.args_text, query.kwargs_text, query.method):
                unchanged += 1
                continue
            name = query.name
            number = 1
            while self.saved_named(name) is not None:
                number += 1
                suffix = f" ({number})"
                name = query.name[:MAX_NAME_CHARS - len(suffix)] + suffix
            try:
                self._store_saved(replace(query, id=new_id(), name=name), replacing=None,
                                  subject="Import")
            except ConsoleInputError:
                refused += 1
                continue
            added += 1
            renamed += name != query.name
        return ImportSummary(added=added, unchanged=unchanged, renamed=renamed,
                             refused=refused)
