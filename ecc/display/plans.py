"""Query plans from ``analyze``: the server's JSON read into a typed model, and data for views.

An ``analyze <query>`` (EdgeDB/Gel >= 3) executes the query and answers one JSON string:
``buffers`` (the query text), ``coarse_grained`` and ``fine_grained`` plan trees, and more
(``config_vals``, ``arguments``, ``version``, ``debug_info``) that the views do not need.

- coarse nodes: ``{actual_total_time, actual_loops, actual_rows, plan_rows, relations,
  contexts?, children: [{kind, name, node}]}``; a child is reached through a pointer (``name``);
- fine groups: ``{contexts?, pipeline: [plan nodes], subplans: [groups]}``. A pipeline is a
  chain: each plan node feeds the one before it (``pipeline[i + 1]`` is the child of
  ``pipeline[i]``) and the group's subplans hang under its last plan node. Plan nodes carry
  ``plan_type`` and ``properties`` (``relation_name``, ``alias``, ...).

Times follow PostgreSQL: ``actual_total_time`` is milliseconds *per loop* and includes the
node's children, so a node's total is ``actual_total_time × actual_loops`` and its self time is
its total minus its children's totals (never below zero: the server rounds to microseconds).

Trees are flat tuples in preorder (``nodes[0]`` is the root) with parent and child indices:
built without recursion, so a plan of any depth reads without hitting Python's recursion limit.
Anything unexpected gives an ``UnreadablePlan`` carrying the raw answer, never an exception.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeGuard

Grain = Literal["coarse", "fine"]

MAX_PROPERTY_CHARS = 120  # a property's value in a tooltip (filters can be long SQL)
MAX_FLAME_HEIGHT_PX = 1200
_CHAR_PX = 7.0  # rough width of one label character in the flame graph, in pixels


class TextSpan(NamedTuple):
    """A span of the query text a node came from (``buffers[buffer_idx][start:end]``). A
    NamedTuple: one object per span (a dataclass is two), and a tuple of atoms, which the
    collector stops tracking."""

    buffer_idx: int
    start: int
    end: int
    text: str


class PlanNode(NamedTuple):
    """One node of a plan tree. A NamedTuple: plans have thousands of nodes, and a tuple is
    several times cheaper to build than a frozen dataclass."""

    number: int  # position in ``PlanTree.nodes`` (preorder)
    parent: int | None
    depth: int
    children: tuple[int, ...]
    node_type: str  # fine: the PostgreSQL node ("SeqScan"); coarse: "query" or "pointer"
    label: str
    relation: str | None
    alias: str | None
    planned_rows: float | None
    actual_rows: float | None  # per loop, as PostgreSQL reports it
    loops: int
    total_ms: float  # per-loop time × loops, children included
    self_ms: float
    contexts: tuple[TextSpan, ...]
    properties: tuple[tuple[str, str], ...]  # the server's "important" properties


@dataclass(frozen=True)
class PlanTree:
    grain: Grain
    nodes: tuple[PlanNode, ...]

    @property
    def root(self) -> PlanNode:
        return self.nodes[0]

    @property
    def total_ms(self) -> float:
        return self.nodes[0].total_ms


@dataclass(frozen=True)
class QueryPlan:
    buffers: tuple[str, ...]
    coarse: PlanTree
    fine: PlanTree
    version: str | None

    def tree(self, grain: Grain) -> PlanTree:
        return self.coarse if grain == "coarse" else self.fine


@dataclass(frozen=True)
class UnreadablePlan:
    """An answer the console cannot read (another server version's format, or not a plan)."""

    reason: str
    raw: str  # the answer as the server sent it (JSON text when it was text)

    def parsed(self) -> object | None:
        """The raw answer as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.raw)
        except (ValueError, RecursionError):
            return None


class _Unreadable(Exception):
    """Internal: the reason a plan cannot be read; ``read_plan`` turns it into a value."""


# ---------------------------------------------------------------------------------------------
# Reading


def is_analyze_query(query: str) -> bool:
    """Whether ``query`` is an ``analyze`` statement (its first word, any case)."""
    words = query.lstrip().split(None, 1)
    return bool(words) and words[0].lower() == "analyze"


def analyze_text(query: str) -> str:
    """``query`` as an ``analyze`` statement (unchanged when it already is one)."""
    return query if is_analyze_query(query) else f"analyze {query.strip()}"


def plan_document(value: object) -> tuple[str, dict[str, Any]] | None:
    """The plan's JSON text and its parsed object in a result value, whichever driver method
    fetched it, or None.

    ``query_single`` gives the string itself, ``query`` a one-item list of it; the JSON methods
    give the document itself as JSON (5.8, recorded), which the console keeps parsed: the
    object, or a one-item list of it (``query_json``). A string wrapped once more as JSON (the
    JSON of a ``str``) is read too.
    """
    for _ in range(3):
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, dict):
            return _reparsed(value)
        if not isinstance(value, str):
            return None
        try:
            inner = json.loads(value)
        except (ValueError, RecursionError):
            return None
        if isinstance(inner, dict):
            return value, inner
        value = inner
    return None


def _reparsed(document: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """A document the console parsed with exact numbers (``Decimal``, as JSON methods keep
    them) as JSON text and as the plain JSON the reader takes (floats)."""
    try:
        text = json.dumps(document, ensure_ascii=False, default=_as_float)
        inner = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None
    return (text, inner) if isinstance(inner, dict) else None


def _as_float(value: object) -> float:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def read_plan(value: object) -> QueryPlan | UnreadablePlan:
    """The plan in an ``analyze`` answer (see ``plan_document``), or why it cannot be read.

    Never touches the garbage collector's process-wide state (other sessions' threads rely
    on it); a large plan is read with few surviving container objects instead (see
    ``_Builder``): what the collector walks is what a read keeps."""
    found = plan_document(value)
    if found is None:
        return UnreadablePlan("The answer is not the JSON object an analyze returns.",
                              _raw_text(value))
    text, document = found
    try:
        return _read_document(document)
    except _Unreadable as exc:
        return UnreadablePlan(str(exc), text)
    except RecursionError:
        return UnreadablePlan("The plan is nested too deeply to read.", text)


def _raw_text(value: object) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return repr(value)


def _read_document(document: Mapping[str, Any]) -> QueryPlan:
    buffers = document.get("buffers")
    if not isinstance(buffers, list) or not all(isinstance(b, str) for b in buffers):
        raise _Unreadable("The plan has no 'buffers' (the query text) as a list of strings.")
    coarse = document.get("coarse_grained")
    fine = document.get("fine_grained")
    if not isinstance(coarse, dict) or not isinstance(fine, dict):
        raise _Unreadable("The plan has no 'coarse_grained' and 'fine_grained' trees.")
    version = document.get("version")
    return QueryPlan(
        buffers=tuple(buffers),
        coarse=_read_coarse(coarse),
        fine=_read_fine(fine),
        version=version if isinstance(version, str) else None,
    )


_NUMBER_TYPES = frozenset({int, float})  # exact types: bool is an int; JSON gives only these


def _finite(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES and value - value == 0  # inf - inf and nan are nan


def _figures(node: Mapping[str, Any], where: str
             ) -> tuple[float, int, float | None, float | None]:
    """(total ms, loops, planned rows, actual rows) of a node; timings are required.
    One function for the four numbers: it runs once per node of plans of thousands."""
    get = node.get
    figures: tuple[Any, Any, Any, Any] = (get("actual_total_time"), get("actual_loops"),
                                          get("plan_rows"), get("actual_rows"))
    per_loop, loops, planned, actual = figures
    if not _finite(per_loop):
        raise _Unreadable(f"A {where} node has no number 'actual_total_time'.")
    if not _finite(loops):
        raise _Unreadable(f"A {where} node has no number 'actual_loops'.")
    for key, value in (("plan_rows", planned), ("actual_rows", actual)):
        if value is not None and not _finite(value):
            raise _Unreadable(f"A {where} node has no number '{key}'.")
    return (per_loop * loops, int(loops), None if planned is None else float(planned),
            None if actual is None else float(actual))


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _contexts(raw: object) -> tuple[TextSpan, ...]:
    if not isinstance(raw, list):
        return ()
    spans = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        start, end, idx = item.get("start"), item.get("end"), item.get("buffer_idx", 0)
        if not (_is_int(start) and _is_int(end) and _is_int(idx)):
            continue
        text = item.get("text")
        spans.append(TextSpan(idx, start, end, text if isinstance(text, str) else ""))
    return tuple(spans)


# A node as a reader hands it over: (parent, depth, node_type, label, relation, alias,
# planned_rows, actual_rows, loops, total_ms, contexts, properties); a temporary.
_Draft = tuple[int | None, int, str, str, str | None, str | None, float | None, float | None,
               int, float, tuple[TextSpan, ...], tuple[tuple[str, str], ...]]


class _Builder:
    """Collects a tree's nodes in preorder, then gives the nodes with children theirs.

    Each node is built once, as a leaf (no children, self time = its total); only the nodes
    that turn out to have children are built again at the end. So a read keeps about one
    object per node: no draft, no list of children per leaf (what a large read keeps is what
    the collector walks while it runs)."""

    def __init__(self) -> None:
        self.nodes: list[PlanNode] = []

    def add(self, d: _Draft) -> int:
        index = len(self.nodes)
        total = d[9]
        self.nodes.append(PlanNode(index, d[0], d[1], (), d[2], d[3], d[4], d[5], d[6], d[7],
                                   d[8], total, max(0.0, total), d[10], d[11]))
        return index

    def freeze(self, grain: Grain) -> PlanTree:
        nodes = self.nodes
        children: dict[int, list[int]] = {}
        for node in nodes:
            if node.parent is not None:
                children.setdefault(node.parent, []).append(node.number)
        for parent, kids in children.items():
            node = nodes[parent]
            self_ms = node.total_ms - sum(nodes[c].total_ms for c in kids)
            nodes[parent] = node._replace(children=tuple(kids), self_ms=max(0.0, self_ms))
        return PlanTree(grain, tuple(nodes))


def _read_coarse(root: Mapping[str, Any]) -> PlanTree:
    tree = _Builder()
    # (node json, parent index, depth, pointer name or None for the root)
    stack: list[tuple[Any, int | None, int, str | None]] = [(root, None, 0, None)]
    while stack:
        node, parent, depth, pointer = stack.pop()
        if not isinstance(node, dict):
            raise _Unreadable("A coarse plan node is not an object.")
        total, loops, planned, actual = _figures(node, "coarse")
        relations = node.get("relations")
        names = [r for r in relations if isinstance(r, str)] if isinstance(relations, list) else []
        relation = ", ".join(names) or None
        label = pointer if pointer is not None else (relation or "query")
        if pointer is not None and relation:
            label = f"{pointer} ({relation})"
        index = tree.add((
            parent, depth, "pointer" if pointer is not None else "query", label, relation, None,
            planned, actual, loops, total, _contexts(node.get("contexts")), (),
        ))
        children = node.get("children", [])
        if not isinstance(children, list):
            raise _Unreadable("A coarse plan node's 'children' is not a list.")
        for child in reversed(children):
            if not isinstance(child, dict) or "node" not in child:
                raise _Unreadable("A coarse plan child has no 'node'.")
            name = child.get("name")
            stack.append((child["node"], index, depth + 1, str(name) if name else "child"))
    return tree.freeze("coarse")


def _properties(node: Mapping[str, Any]) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """All properties by title, and the important ones for display (texts cut short)."""
    every: dict[str, str] = {}
    important: list[tuple[str, str]] = []
    raw = node.get("properties")
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            continue
        value = item.get("value")
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if item.get("type") == "kB":
            text = f"{text} kB"
        every[item["title"]] = text
        if item.get("important"):
            important.append((item["title"], _cut(text, MAX_PROPERTY_CHARS)))
    return every, tuple(important)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_fine(root: Mapping[str, Any]) -> PlanTree:
    tree = _Builder()
    stack: list[tuple[Any, int | None, int]] = [(root, None, 0)]
    while stack:
        group, parent, depth = stack.pop()
        if not isinstance(group, dict):
            raise _Unreadable("A fine-grained plan group is not an object.")
        pipeline = group.get("pipeline")
        if not isinstance(pipeline, list) or not pipeline:
            raise _Unreadable("A fine-grained plan group has no 'pipeline' of plan nodes.")
        contexts = _contexts(group.get("contexts"))
        for node in pipeline:
            if not isinstance(node, dict) or not isinstance(node.get("plan_type"), str):
                raise _Unreadable("A fine-grained plan node has no 'plan_type'.")
            total, loops, planned, actual = _figures(node, "fine-grained")
            every, important = _properties(node)
            relation = every.get("relation_name")
            node_type = node["plan_type"]
            parent = tree.add((
                parent, depth, node_type, f"{node_type} {relation}" if relation else node_type,
                relation, every.get("alias"), planned, actual, loops, total, contexts,
                important,
            ))
            depth += 1
        subplans = group.get("subplans", [])
        if not isinstance(subplans, list):
            raise _Unreadable("A fine-grained plan group's 'subplans' is not a list.")
        stack.extend((sub, parent, depth) for sub in reversed(subplans))
    return tree.freeze("fine")


# ---------------------------------------------------------------------------------------------
# The query text of a node


@dataclass(frozen=True)
class Highlight:
    """Where a node's EdgeQL fragment is in the query text (1-based line and column)."""

    buffer: str
    start: int
    end: int
    line: int
    column: int
    inherited: bool  # the node has no span of its own; this is its nearest ancestor's

    @property
    def fragment(self) -> str:
        return self.buffer[self.start : self.end]


def highlight(plan: QueryPlan, tree: PlanTree, index: int) -> Highlight | None:
    """The fragment of the query text node ``index`` came from: its own span, else its
    nearest ancestor's; None when no node on the way up has one (or it points nowhere)."""
    if not 0 <= index < len(tree.nodes):
        return None
    current: int | None = index
    while current is not None:
        node = tree.nodes[current]
        for span in node.contexts:
            if 0 <= span.buffer_idx < len(plan.buffers):
                buffer = plan.buffers[span.buffer_idx]
                start = max(0, min(span.start, len(buffer)))
                end = max(start, min(span.end, len(buffer)))
                if end > start:
                    line = buffer.count("\n", 0, start) + 1
                    column = start - (buffer.rfind("\n", 0, start) + 1) + 1
                    return Highlight(buffer, start, end, line, column, current != index)
        current = node.parent
    return None


def marked_excerpt(mark: Highlight, context_lines: int = 2) -> str:
    """The lines around a highlight with ``^`` under the fragment (like an error's caret
    excerpt): plain text for ``st.code``, so nothing of the query is ever read as Markdown."""
    lines = mark.buffer.split("\n")
    first = mark.buffer.count("\n", 0, mark.start)
    last = mark.buffer.count("\n", 0, max(mark.start, mark.end - 1))
    out: list[str] = []
    offset = sum(len(line) + 1 for line in lines[: max(0, first - context_lines)])
    for number in range(max(0, first - context_lines), min(len(lines), last + context_lines + 1)):
        line = lines[number]
        out.append(line)
        lo, hi = max(mark.start - offset, 0), min(mark.end - offset, len(line))
        if first <= number <= last and hi > lo:
            out.append(" " * lo + "^" * (hi - lo))
        offset += len(line) + 1
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Views: flame graph rectangles and the tree table


class FlameRect(NamedTuple):
    node: int
    x0: float  # share of the root's total time, 0..1
    x1: float
    depth: int
    label: str
    shown_label: str  # the label cut to fit its rectangle (empty when too narrow)
    total_ms: float
    self_ms: float
    share_pct: float
    actual_rows: float | None
    planned_rows: float | None
    loops: int


def flame_rects(tree: PlanTree, width_px: float = 1000.0) -> list[FlameRect]:
    """One rectangle per node: width is its share of the root's time, children side by side
    under their parent from its left edge (squeezed to fit when the server's rounding makes
    them add up to more than the parent). A plan that took no measurable time at all splits
    widths equally, so its shape still shows."""
    nodes = tree.nodes
    extent: list[tuple[float, float]] = [(0.0, 1.0)] * len(nodes)
    root_ms = tree.total_ms
    for node in nodes:  # preorder: a parent's extent is known before its children's
        if not node.children:
            continue
        x0, x1 = extent[node.number]
        room = x1 - x0
        weights = [nodes[c].total_ms for c in node.children]
        total = sum(weights)
        if root_ms <= 0:  # nothing took measurable time: show the shape, equal widths
            widths = [room / len(weights)] * len(weights)
        elif total <= 0:
            widths = [0.0] * len(weights)
        else:
            scale = min(1.0, room / (total / root_ms))
            widths = [w / root_ms * scale for w in weights]
        left = x0
        for child, width in zip(node.children, widths, strict=True):
            extent[child] = (left, left + width)
            left += width
    rects = []
    for node in nodes:
        x0, x1 = extent[node.number]
        fits = int((x1 - x0) * width_px / _CHAR_PX) - 1
        shown = node.label if len(node.label) <= fits else (
            node.label[: fits - 1] + "…" if fits >= 4 else "")
        rects.append(FlameRect(
            node=node.number, x0=x0, x1=x1, depth=node.depth, label=node.label,
            shown_label=shown, total_ms=node.total_ms, self_ms=node.self_ms,
            share_pct=100.0 * node.total_ms / root_ms if root_ms > 0 else 0.0,
            actual_rows=node.actual_rows, planned_rows=node.planned_rows, loops=node.loops,
        ))
    return rects


def flame_spec(rects: Sequence[FlameRect], *, icicle: bool, selected: int | None = None,
               height_per_level: int = 32) -> dict[str, Any]:
    """A Vega-Lite spec of the rectangles: a flame graph (root at the bottom) or an icicle
    (root on top); hover shows the figures; clicking a node selects it (param ``node``, or
    ``node_label`` when the click lands on its label)."""
    values = [
        {
            "node": r.node, "x0": r.x0, "x1": r.x1, "y0": r.depth, "y1": r.depth + 1,
            "label": r.label, "shown": r.shown_label, "total_ms": round(r.total_ms, 3),
            "self_ms": round(r.self_ms, 3), "share": round(r.share_pct, 1),
            "rows": r.actual_rows, "planned": r.planned_rows, "loops": r.loops,
            "selected": r.node == selected,
        }
        for r in rects
    ]
    levels = max((r.depth for r in rects), default=0) + 1
    # Vega-Lite draws y upwards: the root (depth 0) is at the bottom unless reversed.
    y_scale = {"domain": [0, levels], "reverse": icicle, "nice": False, "zero": True}
    x = {"field": "x0", "type": "quantitative", "axis": None,
         "scale": {"domain": [0, 1], "nice": False}}
    y = {"field": "y0", "type": "quantitative", "axis": None, "scale": y_scale}
    tooltip = [
        {"field": "label", "title": "node"},
        {"field": "total_ms", "title": "total ms"},
        {"field": "self_ms", "title": "self ms"},
        {"field": "share", "title": "% of time"},
        {"field": "rows", "title": "rows (actual, per loop)"},
        {"field": "planned", "title": "rows (planned)"},
        {"field": "loops", "title": "loops"},
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": values},
        # deep plans get thinner rows rather than a chart taller than any screen
        "height": min(max(80, levels * height_per_level), MAX_FLAME_HEIGHT_PX),
        "layer": [
            {
                "params": [{"name": "node", "select": {"type": "point", "fields": ["node"]}}],
                "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1, "cursor": "pointer"},
                "encoding": {
                    "x": x, "x2": {"field": "x1"}, "y": y, "y2": {"field": "y1"},
                    "color": {"field": "self_ms", "type": "quantitative", "title": "self ms",
                              # light to warm: black labels stay readable on every node
                              "scale": {"range": ["#fff5dc", "#f4a259"]}, "legend": None},
                    "stroke": {"condition": {"test": "datum.selected", "value": "black"},
                               "value": "white"},
                    "strokeWidth": {"condition": {"test": "datum.selected", "value": 3},
                                    "value": 1},
                    "tooltip": tooltip,
                },
            },
            {
                # Labels cover part of their node: a click on one selects the node too.
                "params": [{"name": "node_label",
                            "select": {"type": "point", "fields": ["node"]}}],
                "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4,
                         "fontSize": 11, "cursor": "pointer"},
                "transform": [{"calculate": "(datum.y0 + datum.y1) / 2", "as": "ym"}],
                "encoding": {
                    "x": x, "y": {"field": "ym", "type": "quantitative", "axis": None,
                                  "scale": y_scale},
                    "text": {"field": "shown"}, "tooltip": tooltip,
                },
            },
        ],
    }


TREE_COLUMNS = ("node", "relation", "alias", "rows planned", "rows actual", "loops",
                "self ms", "total ms", "% of time")


def tree_table(tree: PlanTree) -> dict[str, list[object]]:
    """Columns for st.dataframe: one row per node in preorder, the node indented by depth."""
    root_ms = tree.total_ms
    nodes = tree.nodes
    return {
        "node": [("   " * n.depth + ("└ " if n.depth else "") + n.label) for n in nodes],
        "relation": [n.relation for n in nodes],
        "alias": [n.alias for n in nodes],
        "rows planned": [n.planned_rows for n in nodes],
        "rows actual": [n.actual_rows for n in nodes],
        "loops": [n.loops for n in nodes],
        "self ms": [round(n.self_ms, 3) for n in nodes],
        "total ms": [round(n.total_ms, 3) for n in nodes],
        "% of time": [round(100 * n.total_ms / root_ms, 1) if root_ms > 0 else 0.0
                      for n in nodes],
    }


def node_choices(tree: PlanTree) -> Iterator[tuple[int, str]]:
    """(index, a short label) per node, for a picker."""
    for n in tree.nodes:
        yield n.number, f"{'· ' * n.depth}{n.label} — {n.total_ms:.3f} ms"


def selected_node(event: object, tree: PlanTree) -> int | None:
    """The node a Vega-Lite point selection (``node`` or ``node_label``) picked, if any."""
    selection = getattr(event, "selection", None)
    if selection is None and isinstance(event, Mapping):
        selection = event.get("selection")
    if not isinstance(selection, Mapping):
        return None
    points = selection.get("node") or selection.get("node_label")
    if not isinstance(points, list) or not points or not isinstance(points[0], Mapping):
        return None
    index = points[0].get("node")
    if isinstance(index, float) and index.is_integer():
        index = int(index)
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(tree.nodes):
        return index
    return None
