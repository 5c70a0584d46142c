"""The server's descriptions of queries (capabilities, input types), kept for a while.

Every submission used to ask the server to describe each query before running it (the
read-only guard), and the typed form described the same text again: a round trip each. This
cache keeps a description per exact query text, for one connection (the page keeps one cache
per connection settings, so per server and branch):

- keyed by the exact text: a changed text is a new key, described afresh;
- bounded in size (least recently used entries go first) and in time: an entry lives
  ``ttl_s`` from when the server's answer was stored (a hit does not extend it), so a schema
  changed by someone else is seen again within ``ttl_s``. That is the one staleness bound,
  also for what the typed form offers: ``ecc.arguments.typed_inputs.SessionDescriptions``
  keeps an offer only while this cache holds the very description it was made from (``peek``),
  and trusts a describe the server refused for ``ttl_s`` from when it was asked, never longer;
- dropped whole when this console runs DDL, or a query it cannot vouch for while writes are
  allowed (``execute`` calls ``schema_may_have_changed``), and when the schema probe of the
  process-wide schema model saw another client change the schema (``follow_schema``); a query
  that fails drops its text; every drop bumps ``generation``;
- never the guard itself: queries still run in a read-only transaction, so a stale entry can
  at worst delay a refusal to the server, which refuses the write (see ``ecc/driver/execute.py``).

Thread-safe: every session's loop thread shares one cache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_MAX_ENTRIES = 512
DEFAULT_TTL_S = 300.0
# Capability bits as the server reports them in a query description (the one definition:
# ``ecc.driver.execute``'s read-only guard reads them from here).
MODIFICATIONS = 1
SESSION_CONFIG = 2
TRANSACTION = 4
DDL = 8
PERSISTENT_CONFIG = 16


class Describer(Protocol):
    async def _describe_query(self, query: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Description:
    capabilities: int
    input_type: Any  # the driver's ``gel.describe`` type of the arguments, or None


class DescribeCache:
    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, ttl_s: float = DEFAULT_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Description]] = OrderedDict()
        # Bumps on every drop (``clear`` and ``discard``): a describe that started before a
        # drop must not store what it learnt from the old schema.
        self._generation = 0
        self.hits = 0
        self.misses = 0
        self._schema_token: str | None = None  # the schema probe's token last followed

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def get(self, text: str) -> Description | None:
        with self._lock:
            entry = self._entries.get(text)
            if entry is None or self._clock() - entry[0] > self.ttl_s:
                if entry is not None:
                    del self._entries[text]
                self.misses += 1
                return None
            self._entries.move_to_end(text)
            self.hits += 1
            return entry[1]

    def peek(self, text: str) -> Description | None:
        """The live entry for ``text`` (not past its TTL), without counting a hit or a miss
        or refreshing its place: for callers that only check what they were told still holds."""
        with self._lock:
            entry = self._entries.get(text)
            if entry is None or self._clock() - entry[0] > self.ttl_s:
                return None
            return entry[1]

    def put(self, text: str, description: Description, generation: int | None = None) -> None:
        """Keep ``description``; ignored when ``generation`` is given and a drop happened
        since it was read."""
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            self._entries[text] = (self._clock(), description)
            self._entries.move_to_end(text)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, text: str) -> None:
        """Drop ``text`` (its query failed: maybe described against an older schema). Bumps
        the generation, so a describe of it already under way does not store the old answer."""
        with self._lock:
            self._entries.pop(text, None)
            self._generation += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def follow_schema(self, token: str | None) -> bool:
        """The schema probe's token of the model the page shows (``ecc.schema.store``): when it
        moved since the last call, someone changed the schema, so everything is dropped.
        None (the probe failed) changes nothing. Returns whether the cache was cleared."""
        if token is None:
            return False
        with self._lock:
            moved = self._schema_token is not None and token != self._schema_token
            self._schema_token = token
        if moved:
            self.clear()
        return moved

    def schema_may_have_changed(self, text: str) -> None:
        """After a successful query while writes are allowed: drop everything unless the
        cache knows ``text`` to be free of DDL."""
        known = self.get(text)
        if known is None or known.capabilities & DDL:
            self.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    async def describe(self, client: Describer, text: str) -> Description:
        """The cached description of ``text``, or the server's (then kept)."""
        cached = self.get(text)
        if cached is not None:
            return cached
        generation = self.generation
        raw = await client._describe_query(text)
        description = Description(int(raw.capabilities), getattr(raw, "input_type", None))
        self.put(text, description, generation)
        return description


async def describe(client: Describer, text: str, cache: DescribeCache | None) -> Description:
    """Through ``cache`` when there is one; straight from the server otherwise."""
    if cache is not None:
        return await cache.describe(client, text)
    raw = await client._describe_query(text)
    return Description(int(raw.capabilities), getattr(raw, "input_type", None))
