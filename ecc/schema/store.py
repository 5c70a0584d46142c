"""One schema model per server branch, shared by every session of the process.

A session used to read the whole ``schema::`` introspection for itself and keep its own
model and completion data: on a 2000-type schema, nine queries and ~30 MB per session. The
store keeps, per ``SchemaKey`` (connection target, role, branch: never a secret), one
``SchemaEntry``: the model, a version that goes up with each read, the schema probe's token
at the time of the read (``introspect.probe_schema``) and the editor's completion data,
computed once per entry.

- **Single flight.** At most one read per key runs at a time; sessions arriving meanwhile
  wait on the same future (``read``). A read whose loop died never completes: after
  ``stuck_after_s`` a new one may start.
- **Staleness.** ``probe_due`` lets one caller per key probe at most once per
  ``probe_interval_s``; the probe (``refresh_if_changed``) re-reads only when the token moved.
  A schema change the probe sees therefore reaches new page runs within ``probe_interval_s``
  plus one read; one it cannot see (see ``introspect.SCHEMA_PROBE_QUERY``) within
  ``max_age_s``, when the entry is re-read whatever the probe says. Refresh forces a read.
- Reads run on the calling session's loop with its client (``Starter``, i.e.
  ``SessionRuntime.start``): the store owns no loop and no connection.

Thread-safe: page runs of every session call it at once.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ecc.driver.client import QueryExecutor
from ecc.schema.completions import completion_data, wire_tree
from ecc.schema.introspect import probe_schema, read_schema
from ecc.schema.model import SchemaModel

log = logging.getLogger("ecc.schema.store")

# Runs ``make_coro(client)`` on a session's loop; the future resolves from that loop's thread.
Starter = Callable[[Callable[[Any], Awaitable[object]]], "concurrent.futures.Future[object]"]

PROBE_INTERVAL_S = 10.0  # one probe per key per process at most this often
MAX_AGE_S = 3600.0  # re-read whatever the probe says after this (what the probe cannot see)
STUCK_AFTER_S = 120.0  # an unfinished read older than this is abandoned (its loop died)


@dataclass(frozen=True)
class SchemaKey:
    """What identifies a schema: who connects where (``ConnectionSettings.identity()``:
    server, branch and user, the credentials only as a keyed hash), never a secret."""

    target: str


@dataclass(frozen=True)
class CompletionTree:
    """The editor's completion tree of one schema version, and its content hash (the
    browser keeps trees by hash: an unchanged schema is never sent twice)."""

    hash: str
    tree: dict[str, Any]


@dataclass
class SchemaEntry:
    """A key's current schema. ``model`` and ``version`` never change; the standard library
    and the completion data are filled once, on first use."""

    model: SchemaModel
    version: int
    probe: str | None  # the probe's token before the read; None: the probe failed
    read_at: float  # time.monotonic() of the read's end
    standard: SchemaModel | None = None  # the model with the standard library merged in
    _completion: CompletionTree | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def completion(self) -> CompletionTree:
        """Built once per entry, by the first page run that needs it."""
        with self._lock:
            if self._completion is None:
                tree = completion_data(self.model)
                tree.pop("params", None)  # per editor, sent beside the tree
                tree = wire_tree(tree)  # the layout sent: strings once, pointers as arrays
                text = json.dumps(tree, separators=(",", ":"))
                self._completion = CompletionTree(
                    hashlib.sha256(text.encode()).hexdigest()[:20], tree)
            return self._completion


@dataclass
class _Slot:
    entry: SchemaEntry | None = None
    reading: concurrent.futures.Future[SchemaEntry] | None = None
    reading_since: float = 0.0
    probed_at: float | None = None
    versions: int = 0
    reads: int = 0  # reads started (for the benchmarks: one per schema version)


class SchemaStore:
    def __init__(self, *, probe_interval_s: float = PROBE_INTERVAL_S,
                 max_age_s: float = MAX_AGE_S, stuck_after_s: float = STUCK_AFTER_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.probe_interval_s = probe_interval_s
        self.max_age_s = max_age_s
        self.stuck_after_s = stuck_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[SchemaKey, _Slot] = {}

    def current(self, key: SchemaKey) -> SchemaEntry | None:
        with self._lock:
            slot = self._slots.get(key)
            return None if slot is None else slot.entry

    def reads(self, key: SchemaKey) -> int:
        """Reads started for ``key`` so far."""
        with self._lock:
            slot = self._slots.get(key)
            return 0 if slot is None else slot.reads

    def read(self, key: SchemaKey, start: Starter, *, force: bool = False
             ) -> concurrent.futures.Future[SchemaEntry]:
        """The key's entry, read on ``start``'s loop unless a read is under way (its future is
        returned) or, without ``force``, there is an entry already (a done future)."""
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
            now = self._clock()
            if slot.reading is not None and not slot.reading.done() and \
                    now - slot.reading_since < self.stuck_after_s:
                return slot.reading
            if slot.entry is not None and not force:
                done: concurrent.futures.Future[SchemaEntry] = concurrent.futures.Future()
                done.set_result(slot.entry)
                return done
            ours: concurrent.futures.Future[SchemaEntry] = concurrent.futures.Future()
            slot.reading, slot.reading_since = ours, now
            slot.reads += 1
        try:
            inner = start(self._reader(key, ours))
        except BaseException as exc:
            self._finish(key, ours, exc)
            raise
        inner.add_done_callback(lambda f: self._finish_from(key, ours, f))
        return ours

    def probe_due(self, key: SchemaKey) -> bool:
        """True for one caller per key per ``probe_interval_s``, when there is an entry and no
        read under way: that caller runs ``refresh_if_changed``."""
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or slot.entry is None or \
                    (slot.reading is not None and not slot.reading.done()):
                return False
            now = self._clock()
            last = slot.probed_at if slot.probed_at is not None else slot.entry.read_at
            if now - last < self.probe_interval_s:
                return False
            slot.probed_at = now
            return True

    def refresh_if_changed(self, key: SchemaKey, start: Starter
                           ) -> concurrent.futures.Future[object]:
        """Probe on ``start``'s loop; read again (single flight) when the token moved, the
        entry outlived ``max_age_s``, or the entry was read while the probe failed."""

        async def probe(client: QueryExecutor) -> object:
            token: str | None
            try:
                token = await probe_schema(client)
            except Exception:  # server away, or no schema::Migration: keep what we have
                token = None
            entry = self.current(key)
            if entry is None or (token is not None and entry.probe != token) or \
                    self._clock() - entry.read_at >= self.max_age_s:
                log.info("schema of %s changed (probe %s -> %s): reading it again",
                         key.target[:40], entry.probe if entry else None, token)
                self.read(key, start, force=True)
            return token

        return start(probe)

    def set_standard(self, key: SchemaKey, entry: SchemaEntry, merged: SchemaModel) -> None:
        """Keep ``merged`` (``entry``'s model with the standard library) with ``entry``."""
        with self._lock:
            if entry.standard is None:
                entry.standard = merged

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()

    # --- internals ---------------------------------------------------------------------
    def _reader(self, key: SchemaKey, ours: concurrent.futures.Future[SchemaEntry]
                ) -> Callable[[Any], Awaitable[object]]:
        async def read(client: QueryExecutor) -> object:
            # The probe first: a change during the read leaves an older token, so the next
            # probe reads again (never the other way round).
            token: str | None
            try:
                token = await probe_schema(client)
            except Exception as exc:  # a role without schema::Migration, an older server
                log.info("schema probe failed (%s): re-reads follow max_age_s only",
                         type(exc).__name__)
                token = None
            model = await read_schema(client)
            entry = self._install(key, model, token)
            entry.completion()  # built here, on the loop thread, not in a page run
            return entry

        return read

    def _install(self, key: SchemaKey, model: SchemaModel, token: str | None) -> SchemaEntry:
        with self._lock:
            slot = self._slots.setdefault(key, _Slot())
            slot.versions += 1
            entry = SchemaEntry(model, slot.versions, token, self._clock())
            slot.entry = entry
            slot.probed_at = None
            return entry

    def _finish_from(self, key: SchemaKey, ours: concurrent.futures.Future[SchemaEntry],
                     inner: concurrent.futures.Future[object]) -> None:
        if inner.cancelled():
            self._finish(key, ours, concurrent.futures.CancelledError())
        elif inner.exception() is not None:
            self._finish(key, ours, inner.exception())
        else:
            self._finish(key, ours, inner.result())

    def _finish(self, key: SchemaKey, ours: concurrent.futures.Future[SchemaEntry],
                outcome: object) -> None:
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None and slot.reading is ours:
                slot.reading = None
        if isinstance(outcome, BaseException):
            ours.set_exception(outcome)
        elif isinstance(outcome, SchemaEntry):
            ours.set_result(outcome)
        else:
            ours.set_exception(TypeError(f"the schema read returned {type(outcome).__name__}"))

