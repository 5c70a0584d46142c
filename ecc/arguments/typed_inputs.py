"""The typed-parameter form's logic: which inputs to show, and their values for the driver.

The page shows one input per parameter found in the query text (``ecc.arguments.params``), confirmed
by the server's description when connected (the server wins; disagreements are shown).
``SessionDescriptions`` asks the server off the page run: typing never waits for it.
What the inputs' values become is ``ecc.arguments.drafts``' business (the one path from the
form to the runner); ``input_default`` is what an input holds before it is touched.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ecc.arguments.param_values import RawValue
from ecc.arguments.params import (
    QueryParameter,
    merge_with_server,
    parameters_from_description,
    scan_parameters,
)
from ecc.driver.describe_cache import DescribeCache, Description
from ecc.driver.errors import error_view


@dataclass(frozen=True)
class TypedInputs:
    parameters: tuple[QueryParameter, ...]
    problems: tuple[str, ...]  # from the text: missing casts, mixed styles, ... (nothing runs)
    notes: tuple[str, ...]  # where the server's description disagreed with the text


def typed_inputs(query: str, server: tuple[QueryParameter, ...] | None = None) -> TypedInputs:
    """The inputs for ``query``; ``server`` is the server's description when we have one."""
    scan = scan_parameters(query)
    problems = tuple(p.message for p in scan.problems)
    if server is None:
        return TypedInputs(scan.parameters, problems, ())
    merged = merge_with_server(scan, server)
    return TypedInputs(merged.parameters, problems, merged.disagreements)


DESCRIBE_BACKOFF_S = 30.0  # after a connection failure, no new describes for this long
MAX_DESCRIBES_IN_FLIGHT = 4  # per session: a slow server does not get one per keystroke
KEPT_TEXTS = 32  # texts whose offer a session keeps

StartDescribe = Callable[[str], "concurrent.futures.Future[Description]"]


def typed_inputs_from(text: str, description: Description | None) -> TypedInputs:
    """The inputs of ``text`` merged with ``description`` (None: the text alone)."""
    input_type = getattr(description, "input_type", None)
    server = parameters_from_description(input_type) if input_type is not None else None
    return typed_inputs(text, server)


def input_default(param: QueryParameter, remembered: RawValue) -> str | bool:
    """What an input of ``param`` holds before it is touched: the value remembered for its
    name as that widget holds it (a checkbox's bool, a valid enum choice, text)."""
    if param.type.name == "std::bool" and not param.optional:
        return bool(remembered)
    if param.type.kind == "enum" and param.type.enum_members:
        options = enum_options(param)
        return remembered if isinstance(remembered, str) and remembered in options \
            else options[0]
    return "" if remembered is None else str(remembered)


def enum_options(param: QueryParameter) -> list[str]:
    """An enum input's choices: its members, after an empty choice when it is optional."""
    return ([""] if param.optional else []) + list(param.type.enum_members)


@dataclass(frozen=True)
class _Offer:
    """What the page offers for one text, and what vouches for it."""

    inputs: TypedInputs
    description: Description | None  # the describe cache's entry it came from
    # The server could not describe the text (syntax, ...): when that describe began, and the
    # describe cache's generation it began under.
    failed_at: float | None = None
    generation: int = 0


class _Describing(NamedTuple):
    """A describe under way: its future, and when and under which cache generation it began."""

    future: concurrent.futures.Future[Description]
    started_at: float
    generation: int


class SessionDescriptions:
    """One browser session's typed inputs per query text, with the server's descriptions
    asked for off the page run.

    - A text without ``$`` needs no server: its inputs come from the text, kept for good.
    - Otherwise the offer lives exactly as long as the describe cache holds the description it
      was made from (``DescribeCache.peek`` returns the same object): past the cache's TTL,
      after a failed run of the text (``discard``) or DDL (``clear``) the next page run asks
      again. One staleness bound, the cache's ``ttl_s``.
    - A describe the server refused (a half-typed text) is kept as the text's own reading
      until the cache's generation changes or ``ttl_s`` has passed since it was asked.
    - A new text starts a describe on the session's loop (``start``) and waits at most
      ``wait_s``; meanwhile the page offers the text's own reading, and a later run (``settle``)
      picks the answer up. At most ``MAX_DESCRIBES_IN_FLIGHT`` at once.
    - A connection failure or timeout stops new describes for ``backoff_s``
      (``backoff_notice`` says so once per page run).

    Used from the session's script thread only; the futures complete on its loop.
    """

    def __init__(self, backoff_s: float = DESCRIBE_BACKOFF_S,
                 clock: Callable[[], float] = time.monotonic,
                 max_in_flight: int = MAX_DESCRIBES_IN_FLIGHT,
                 kept_texts: int = KEPT_TEXTS) -> None:
        self.backoff_s = backoff_s
        self._clock = clock
        self._max_in_flight = max_in_flight
        self._kept_texts = kept_texts
        self._offers: OrderedDict[str, _Offer] = OrderedDict()
        self._in_flight: dict[str, _Describing] = {}
        self._awaited: set[str] = set()  # shown from the text alone while their describe ran
        self.backoff_until = 0.0
        self.backoff_reason = ""

    def inputs(self, text: str, cache: DescribeCache, start: StartDescribe | None,
               wait_s: float = 0.0) -> TypedInputs:
        """The inputs to offer for ``text`` now. ``start`` is None when the text must not be
        sent (too long, no server); ``wait_s`` bounds the wait for a new description."""
        offer = self._offer(text, cache, start, wait_s)
        return offer.inputs if offer is not None else typed_inputs(text)

    def description(self, text: str, cache: DescribeCache, start: StartDescribe | None,
                    wait_s: float = 0.0) -> Description | None:
        """The server's description the inputs offered for ``text`` come from, found as
        ``inputs`` finds it; None when they come from the text alone (no ``$``, not sendable,
        the server refused it, or no answer within ``wait_s``)."""
        offer = self._offer(text, cache, start, wait_s)
        return offer.description if offer is not None else None

    def _offer(self, text: str, cache: DescribeCache, start: StartDescribe | None,
               wait_s: float) -> _Offer | None:
        """The vouched offer for ``text``; None while its describe is under way."""
        if "$" not in text or start is None:
            return self._textual(text)
        self._collect(cache)
        offer = self._offers.get(text)
        if offer is not None and self._vouched(text, offer, cache):
            self._offers.move_to_end(text)
            return offer
        known = cache.peek(text)  # described meanwhile (the run's guard, another session)
        if known is not None:
            return self._keep(text, _Offer(typed_inputs_from(text, known), known))
        pending = self._in_flight.get(text)
        if pending is None and not self.backing_off and \
                len(self._in_flight) < self._max_in_flight:
            pending = self._in_flight[text] = _Describing(
                start(text), self._clock(), cache.generation)
        if pending is not None and wait_s > 0:
            concurrent.futures.wait([pending.future], timeout=wait_s)
            self._collect(cache)
            offer = self._offers.get(text)
            if offer is not None and self._vouched(text, offer, cache):
                return offer
        if text in self._in_flight:
            self._awaited.add(text)
        return None

    @property
    def backing_off(self) -> bool:
        return self._clock() < self.backoff_until

    def backoff_notice(self) -> str | None:
        """While describes are paused: what the page says (once, not per input)."""
        if not self.backing_off:
            return None
        left = max(1, round(self.backoff_until - self._clock()))
        return (f"The server did not answer a query description ({self.backoff_reason}): "
                f"typed inputs follow the query text alone. The console asks again in "
                f"{left} s; 'Test connection' in the sidebar checks the connection.")

    @property
    def awaiting(self) -> bool:
        """Texts shown from their text alone still wait for a describe under way."""
        return any(t in self._in_flight for t in self._awaited)

    def settle(self, cache: DescribeCache) -> bool:
        """Take in finished describes of texts shown without them. True when the page should
        be drawn again: what it offers changed, a back-off began, or nothing is left to wait
        for (the page's poll ends with that run)."""
        before = self.backoff_until
        self._collect(cache)
        done = {t for t in self._awaited if t not in self._in_flight}
        changed = self.backoff_until != before
        for text in done:
            offer = self._offers.get(text)
            changed |= offer is not None and offer.inputs != typed_inputs(text)
        self._awaited -= done
        return changed or not self.awaiting

    def _collect(self, cache: DescribeCache) -> None:
        """Move finished describes into offers (or into a back-off)."""
        for text, pending in list(self._in_flight.items()):
            future = pending.future
            if not future.done():
                continue
            del self._in_flight[text]
            if future.cancelled():
                continue
            exc = future.exception()
            if exc is None:
                description = future.result()
                # Stored only while the cache vouches for it: a drop since the describe
                # began means it may describe an older schema (asked again next time).
                if cache.peek(text) is description:
                    self._keep(text, _Offer(typed_inputs_from(text, description), description))
                continue
            kind = error_view(exc).kind
            if kind in ("connection", "timeout") or isinstance(exc, OSError):
                self.backoff_until = self._clock() + self.backoff_s
                self.backoff_reason = type(exc).__name__
            else:
                # Timed from when the describe began, with the generation it began under: a
                # refusal is trusted for at most ``ttl_s`` after the server was asked (not
                # after this page run happened to collect it) and never across a drop.
                self._keep(text, _Offer(typed_inputs(text), None, pending.started_at,
                                        pending.generation))

    def _vouched(self, text: str, offer: _Offer, cache: DescribeCache) -> bool:
        if offer.failed_at is not None:
            return offer.generation == cache.generation and \
                self._clock() - offer.failed_at <= cache.ttl_s
        return offer.description is not None and cache.peek(text) is offer.description

    def _textual(self, text: str) -> _Offer:
        offer = self._offers.get(text)
        if offer is None or offer.description is not None or offer.failed_at is not None:
            offer = self._keep(text, _Offer(typed_inputs(text), None))
        return offer

    def _keep(self, text: str, offer: _Offer) -> _Offer:
        self._offers.pop(text, None)
        while len(self._offers) >= self._kept_texts:
            self._offers.popitem(last=False)
        self._offers[text] = offer
        return offer
