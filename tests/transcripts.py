"""What a real Gel server and the gel 3.1 driver returned, rebuilt as the driver's own objects.

``shared/gel-transcripts/transcripts.json`` (beside the checkout; see its README) records, per
query, the driver's ``repr``, a ``type_tree`` of the Python types it produced and a ``plain``
JSON rendering, or the error it raised. This module turns a recorded case back into real
driver datatypes (``rebuild_value``) and real ``gel.errors`` instances (``rebuild_error``),
so the fake client and the renderers are tested against what the driver really produces.

How the recording is read back:

- ``plain`` carries the values: exotic scalars are tagged (``{"UUID": ...}``, ``{"Decimal":
  ...}``, ``{"datetime": str(value)}``, ``{"timedelta": str(value)}``, ``{"bytes_hex": ...}``,
  ``{"enum": label}``, ``{"Range": repr(value)}``, ``{"RelativeDuration": str(value)}``, ...);
  ``type_tree`` carries the structure (objects, named tuples, tuples, lists).
- ``type_tree`` lists at most the first 3 items of a list or tuple: later list items take the
  last recorded item's tree; later tuple items are read from their tag alone.
- Objects: ``id`` is implicit (hidden by repr) unless the query selects it, which the corpus
  does only with a splat (``{*}``) or an explicit ``id`` in the shape: that is read from the
  query text and applies to the outermost objects. Fields holding objects are links, ``@x``
  fields link properties. An empty multi link cannot be told from an empty array property; it
  is built as a property (repr, fields and rendering are the same either way).
- Enum values: the driver derives one ``gel.EnumValue`` subclass per enum type
  (``protocol/codecs/enum.pyx``); ``ecc.fake.datatypes.make_enum_type`` builds the identical class
  offline. Labels come from ``schema.esdl`` beside the transcripts.
- The recorder cut ``repr`` at ``REPR_CAP`` (4000) characters: a case whose repr is that long
  (``repr_is_cut``) can only be compared by prefix.
- A truncated list (``{"first_50": [...], "len": n}``; only ``range_unpack`` results are) is
  extended as the arithmetic progression its first items start; the repr check verifies it.
- Errors: the driver builds them with ``EdgeDBError._from_code(code, message)``, attaches the
  server's fields as bytes in ``_attrs`` and, for errors the server sent, the query as
  ``_query``; ``str(err)`` then draws the caret excerpt. Client-side errors (codes 0xFF...) get
  no ``_query``, as in the driver. ``str`` matches the recording when colour is off
  (``gel.color``: stderr not a tty, or ``EDGEDB_COLOR_OUTPUT=disabled``).
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import decimal
import functools
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gel
import gel.errors
from gel.datatypes import datatypes as dt
from gel.errors import _base as error_fields
from gel.pgproto.pgproto import UUID as DriverUUID

from ecc.fake.datatypes import make_enum_type

TRANSCRIPTS_DIR = Path(__file__).resolve().parents[2] / "shared" / "gel-transcripts"
TRANSCRIPTS_PATH = TRANSCRIPTS_DIR / "transcripts.json"
SCHEMA_PATH = TRANSCRIPTS_DIR / "schema.esdl"
MISSING_REASON = f"no recorded transcripts at {TRANSCRIPTS_PATH}"

REPR_CAP = 4000  # the recorder kept at most this many characters of each repr
_CLIENT_ERROR_CODES = 0xFF000000  # codes at or above are raised by the driver itself


@dataclass(frozen=True)
class TranscriptCase:
    """One recorded query: what was sent and what came back (``raw`` is the whole record)."""

    label: str
    method: str
    query: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    ok: bool
    repr: str | None
    error: dict[str, Any] | None
    raw: dict[str, Any]

    @property
    def repr_is_cut(self) -> bool:
        """True when the recorder cut the repr (compare by prefix then)."""
        return self.repr is not None and len(self.repr) >= REPR_CAP


@functools.cache
def load_transcripts() -> dict[str, Any] | None:
    """The whole recording, or None when the file is absent."""
    if not TRANSCRIPTS_PATH.exists():
        return None
    data: dict[str, Any] = json.loads(TRANSCRIPTS_PATH.read_text(encoding="utf-8"))
    return data


def load_cases() -> list[TranscriptCase]:
    """Every recorded case in order; ``[]`` when the transcripts are absent."""
    data = load_transcripts()
    if data is None:
        return []
    return [_case(record) for record in data["cases"]]


def behaviour_errors() -> dict[str, dict[str, Any]]:
    """The errors recorded under ``behaviours`` (connection failures, timeouts), by label."""
    data = load_transcripts()
    if data is None:
        return {}
    return {
        k: v["error"] for k, v in data["behaviours"].items() if isinstance(v, dict) and "error" in v
    }


def _case(record: dict[str, Any]) -> TranscriptCase:
    # kwargs were recorded as {"dict": repr(kwargs)}; their values are Python literals.
    kwargs = record.get("kwargs") or {}
    if set(kwargs) == {"dict"} and isinstance(kwargs["dict"], str):
        kwargs = ast.literal_eval(kwargs["dict"])
    return TranscriptCase(
        label=record["label"],
        method=record["method"],
        query=record["query"],
        args=tuple(record.get("args") or ()),
        kwargs=dict(kwargs),
        ok=bool(record["ok"]),
        repr=record.get("repr"),
        error=record.get("error"),
        raw=record,
    )


# ---------------------------------------------------------------------------------------------
# Values


def rebuild_value(case: TranscriptCase) -> object:
    """The value the driver returned for ``case``, as the driver's own datatypes."""
    if not case.ok:
        raise ValueError(f"case {case.label!r} recorded an error, not a value")
    if case.method.endswith("_json"):
        text: str = case.raw["plain"]  # the driver returned this very str
        return text
    explicit_id = bool(re.search(r"\{\s*\*|[{,]\s*id\s*[,}]", case.query))
    return _Rebuilder(explicit_id).value(case.raw["type_tree"], case.raw["plain"], depth=0)


@functools.cache
def schema_enums() -> tuple[tuple[str, ...], ...]:
    """The label lists of the enum types declared in ``schema.esdl`` (empty if absent)."""
    if not SCHEMA_PATH.exists():
        return ()
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    found = re.findall(r"extending\s+enum<([^>]*)>", text)
    return tuple(tuple(label.strip() for label in body.split(",")) for body in found)


def enum_value(label: str) -> gel.EnumValue:
    """``label`` as a value of the schema enum that has it (else a one-label enum)."""
    labels = next((ls for ls in schema_enums() if label in ls), (label,))
    return make_enum_type(labels)(label)


RECORDED_DEPTH = 5  # the recorder wrote containers nested this deep as their bare type name


def type_tree_of(value: object, depth: int = 0) -> object:
    """The recorder's ``type_tree`` for ``value`` (lists and tuples: first 3 items)."""
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if depth >= RECORDED_DEPTH:
        return name
    inner = depth + 1
    if isinstance(value, gel.Object):
        fields = {
            f.name: type_tree_of(getattr(value, f.name), inner) for f in dataclasses.fields(value)
        }
        desc = dt.get_object_descriptor(value)
        for prop in sorted((n for n in dir(desc) if n.startswith("@")), key=desc.get_pos):
            fields[prop] = type_tree_of(value[prop], inner)
        return {"type": name, "fields": fields}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {
            "type": name,
            "fields": {
                f: type_tree_of(v, inner) for f, v in zip(value._fields, value, strict=True)
            },
        }
    if isinstance(value, list | tuple):
        return {"type": name, "items": [type_tree_of(v, inner) for v in value[:3]]}
    return name


class _Rebuilder:
    def __init__(self, explicit_id: bool) -> None:
        self.explicit_id = explicit_id

    def value(self, tree: object, plain: object, depth: int) -> object:
        if plain is None:
            return None
        if tree is None or (isinstance(tree, str) and tree in _UNEXPANDED):
            tree = _inferred_tree(plain)
        if isinstance(tree, dict):
            kind = tree["type"]
            if kind == "gel.Object":
                return self.object(tree["fields"], plain, depth)
            if kind == "gel.DerivedNamedTuple":
                assert isinstance(plain, dict)
                return gel.NamedTuple(
                    **{k: self.value(sub, plain[k], depth + 1) for k, sub in tree["fields"].items()}
                )
            if kind == "builtins.tuple":
                assert isinstance(plain, list)
                items = tree["items"]
                return tuple(
                    self.value(items[i] if i < len(items) else None, p, depth + 1)
                    for i, p in enumerate(plain)
                )
            if kind == "builtins.list":
                return self.list(tree["items"], plain, depth)
            raise ValueError(f"unknown recorded container type {kind!r}")
        return _scalar(plain)

    def list(self, item_trees: list[object], plain: object, depth: int) -> list[object]:
        if isinstance(plain, dict) and set(plain) == {"first_50", "len"}:
            plain = _extend_progression(plain["first_50"], plain["len"])
        assert isinstance(plain, list)
        last = item_trees[-1] if item_trees else None
        # At depth 0 this list is the result set: its objects are the outermost ones.
        item_depth = depth if depth == 0 else depth + 1
        return [
            self.value(item_trees[i] if i < len(item_trees) else last, p, item_depth)
            for i, p in enumerate(plain)
        ]

    def object(self, fields: dict[str, object], plain: object, depth: int) -> object:
        assert isinstance(plain, dict)
        pointers: dict[str, str | set[str]] = {}
        values: list[object] = []
        for name, sub in fields.items():
            if name.startswith("@"):
                pointers[name[1:]] = "link-property"
            elif name == "id" and not (self.explicit_id and depth == 0):
                pointers[name] = {"property", "implicit"}
            elif _holds_objects(sub):
                pointers[name] = "link"
            else:
                pointers[name] = "property"
            values.append(self.value(sub, plain[name], depth + 1))
        return dt.create_object_factory(**pointers)(*values)


# The recorder stopped expanding deep trees: it wrote the bare type name of such containers.
_UNEXPANDED = frozenset({"gel.Object", "builtins.list"})


def _inferred_tree(plain: object) -> object:
    """A type tree read from ``plain`` alone: for list items past the recorded ones whose
    structure differs from the last recorded item's (an empty list there, objects here), and
    for containers the recorder left unexpanded (both occur in the introspection cases). An
    untagged dict is an object (the recording keeps its ``id``)."""
    if isinstance(plain, list):
        return {"type": "builtins.list", "items": [_inferred_tree(p) for p in plain[:3]]}
    if isinstance(plain, dict) and not (len(plain) == 1 and next(iter(plain)) in _TAGS):
        return {"type": "gel.Object", "fields": {k: _inferred_tree(v) for k, v in plain.items()}}
    return None


def _holds_objects(tree: object) -> bool:
    if not isinstance(tree, dict):
        return False
    if tree["type"] == "gel.Object":
        return True
    return tree["type"] == "builtins.list" and any(_holds_objects(t) for t in tree["items"])


def _extend_progression(first: list[int], length: int) -> list[int]:
    steps = {b - a for a, b in itertools.pairwise(first)}
    if len(first) < 2 or len(steps) != 1:
        raise ValueError("a truncated list is rebuilt only from an arithmetic progression")
    (step,) = steps
    return [first[0] + i * step for i in range(length)]


def _scalar(plain: object) -> object:
    if isinstance(plain, list):  # a collection whose tree was not recorded
        return [_scalar(item) for item in plain]
    if not isinstance(plain, dict):
        return plain  # str, int, float, bool: JSON keeps them as the driver gave them
    if len(plain) != 1:
        raise ValueError(f"an untagged dict needs a recorded type tree: {plain!r}")
    ((tag, text),) = plain.items()
    decode = _TAGS.get(tag)
    if decode is None:
        raise ValueError(f"unknown tag {tag!r} in recorded plain value")
    return decode(text)


def parse_timedelta(text: str) -> datetime.timedelta:
    """Inverse of ``str(timedelta)``: ``"2:16:00"``, ``"-1 day, 23:00:00.500000"``."""
    match = re.fullmatch(r"(?:(-?\d+) days?, )?(\d+):(\d{2}):(\d{2})(?:\.(\d{6}))?", text)
    if match is None:
        raise ValueError(f"not a str(timedelta): {text!r}")
    days, hours, minutes, seconds, micros = match.groups()
    return datetime.timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
        microseconds=int(micros or 0),
    )


_ISO_DURATION = re.compile(
    r"P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)D)?"
    r"(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?)(\d+)(?:\.(\d{1,6}))?S)?)?"
)


def parse_relative_duration(text: str) -> gel.RelativeDuration:
    """Inverse of ``str(gel.RelativeDuration)`` (every component carries its own sign)."""
    match = _ISO_DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"not an ISO-8601 duration: {text!r}")
    years, months, days, hours, minutes, sign, seconds, fraction = match.groups()
    second_micros = int(seconds or 0) * 1_000_000 + int((fraction or "").ljust(6, "0"))
    micros = (
        int(hours or 0) * 3_600_000_000
        + int(minutes or 0) * 60_000_000
        + (-second_micros if sign else second_micros)
    )
    return gel.RelativeDuration(
        months=int(years or 0) * 12 + int(months or 0), days=int(days or 0), microseconds=micros
    )


def parse_date_duration(text: str) -> gel.DateDuration:
    """Inverse of ``str(gel.DateDuration)``."""
    rel = parse_relative_duration(text)
    if rel.microseconds:
        raise ValueError(f"a date duration has no time part: {text!r}")
    return gel.DateDuration(months=rel.months, days=rel.days)


_MEMORY_UNITS = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50}


def parse_config_memory(text: str) -> gel.ConfigMemory:
    """Inverse of ``str(gel.ConfigMemory)``: ``"1KiB"``, ``"5B"``."""
    match = re.fullmatch(r"(\d+)(B|KiB|MiB|GiB|TiB|PiB)", text)
    if match is None:
        raise ValueError(f"not a str(gel.ConfigMemory): {text!r}")
    return gel.ConfigMemory(bytes=int(match[1]) * _MEMORY_UNITS[match[2]])


def parse_range(text: str) -> gel.Range[Any]:
    """Inverse of ``repr(gel.Range)``.

    gel 3.1's repr writes the upper bracket inverted (``"]"`` when the bound is exclusive,
    ``")"`` when inclusive: range.py ``__str__``); ``<Range [1, 10]>`` is [1, 10).
    """
    if text == "<Range empty>":
        return gel.Range(empty=True)
    match = re.fullmatch(r"<Range ([\[(])(.*), (.*)([\])])>", text)
    if match is None:
        raise ValueError(f"not a repr(gel.Range): {text!r}")
    opening, lower, upper, closing = match.groups()
    return gel.Range(
        _literal(lower) if lower else None,
        _literal(upper) if upper else None,
        inc_lower=opening == "[",
        inc_upper=closing == ")",
    )


def parse_multi_range(text: str) -> gel.MultiRange[Any]:
    """Inverse of ``repr(gel.MultiRange)``: ``<MultiRange [<Range [1, 2]>, ...]>``."""
    match = re.fullmatch(r"<MultiRange \[(.*)\]>", text)
    if match is None:
        raise ValueError(f"not a repr(gel.MultiRange): {text!r}")
    parts = re.findall(r"<Range [^>]*>", match[1])
    return gel.MultiRange(parse_range(part) for part in parts)


_CALLS: dict[str, Any] = {
    "Decimal": decimal.Decimal,
    "datetime.datetime": datetime.datetime,
    "datetime.date": datetime.date,
    "datetime.timedelta": datetime.timedelta,
}
_NAMES: dict[str, object] = {"datetime.timezone.utc": datetime.UTC}


def _literal(text: str) -> object:
    """A range bound's repr as a value: literals, ``Decimal('1.5')``, ``datetime.date(...)``."""
    return _evaluate(ast.parse(text, mode="eval").body)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted(node.value) + "." + node.attr
    raise ValueError(f"unsupported expression in a range bound: {ast.dump(node)}")


def _evaluate(node: ast.expr) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand)  # type: ignore[operator]
    if isinstance(node, ast.Call):
        func = _CALLS[_dotted(node.func)]
        args = [_evaluate(arg) for arg in node.args]
        kwargs = {kw.arg: _evaluate(kw.value) for kw in node.keywords if kw.arg}
        return func(*args, **kwargs)
    return _NAMES[_dotted(node)]


_TAGS: dict[str, Any] = {
    "UUID": DriverUUID,
    "Decimal": decimal.Decimal,
    "datetime": datetime.datetime.fromisoformat,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
    "timedelta": parse_timedelta,
    "bytes_hex": bytes.fromhex,
    "enum": enum_value,
    "Range": parse_range,
    "MultiRange": parse_multi_range,
    "RelativeDuration": parse_relative_duration,
    "DateDuration": parse_date_duration,
    "ConfigMemory": parse_config_memory,
}


# ---------------------------------------------------------------------------------------------
# Errors

_POSITION_FIELDS = {
    "_position_start": error_fields.FIELD_CHARACTER_START,
    "_position_end": error_fields.FIELD_CHARACTER_END,
    "_line": error_fields.FIELD_LINE_START,
    "_col": error_fields.FIELD_COLUMN_START,
}


def rebuild_error(case: TranscriptCase) -> gel.errors.EdgeDBError:
    """The exception the driver raised for ``case``, built as the driver builds it."""
    if case.error is None:
        raise ValueError(f"case {case.label!r} recorded a value, not an error")
    return error_from_record(case.error, query=case.query)


def error_from_record(
    record: Mapping[str, Any], query: str | None = None
) -> gel.errors.EdgeDBError:
    """A recorded error (``class``, ``code``, ``message``, ``_hint``, ...) as a real exception.

    Also serves the transcripts' ``behaviours`` (connection failures), which have no query.
    """
    cls = getattr(gel.errors, record["class"])
    code = int(record["code"], 16)
    err: gel.errors.EdgeDBError = cls(record["message"])
    err._code = code  # type: ignore[assignment]  # as EdgeDBError._from_code does
    attrs: dict[int, bytes] = {}
    if record.get("_hint") is not None:
        attrs[error_fields.FIELD_HINT] = record["_hint"].encode()
    if record.get("_details") is not None:
        attrs[error_fields.FIELD_DETAILS] = record["_details"].encode()
    for key, field in _POSITION_FIELDS.items():
        if record.get(key, -1) != -1:
            attrs[field] = str(record[key]).encode()  # the server sends numbers as text
    err._attrs = attrs
    if query is not None and code < _CLIENT_ERROR_CODES:
        err._query = query  # type: ignore[assignment]  # the protocol attaches the query to every server error
    return err
