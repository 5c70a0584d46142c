"""EdgeQL as data for the editor: keywords and the standard library's scalar type names.

The editor's highlighting and completion receive these lists from Python (the JavaScript
holds no language tables). Keyword sets follow the server's grammar
(``edb/edgeql/parser/grammar/keywords.py``, EdgeDB 5 / Gel 6): *reserved* words can never
be names without backquotes; *unreserved* ones can.
"""

from __future__ import annotations

RESERVED_KEYWORDS: tuple[str, ...] = (
    "__source__", "__std__", "__subject__", "__type__", "alter", "analyze", "and", "anytuple",
    "anytype", "anyarray", "begin", "case", "check", "commit", "configure", "create",
    "deallocate", "declare", "delete", "describe", "detached", "discard", "distinct", "do",
    "drop", "else", "empty", "end", "execute", "exists", "explain", "extending", "false",
    "fetch", "filter", "for", "function", "get", "global", "grant", "group", "if", "ilike",
    "import", "in", "insert", "introspect", "is", "like", "limit", "listen", "load", "lock",
    "match", "module", "move", "not", "notify", "offset", "optional", "or", "order", "over",
    "partition", "policy", "prepare", "raise", "refresh", "reindex", "release", "reset",
    "revoke", "rollback", "select", "set", "start", "true", "typeof", "update",
    "union", "variadic", "when", "window", "with",
)  # fmt: skip

UNRESERVED_KEYWORDS: tuple[str, ...] = (
    "abstract", "after", "alias", "all", "allow", "annotation", "applied", "as", "asc",
    "assignment", "before", "branch", "by", "cardinality", "cast", "config", "conflict",
    "constraint", "cube", "current", "data", "database", "ddl", "default", "deferrable",
    "deferred", "delegated", "desc", "each", "emit", "except", "explicit", "expression",
    "extension", "final", "first", "force", "from", "future", "implicit", "index", "infix",
    "inheritable", "instance", "intersect", "into", "isolation", "json", "last", "link",
    "migration", "multi", "named", "object", "of", "only", "onto", "operator", "optionality",
    "single", "orphan", "overloaded", "owned", "package", "permission", "postfix", "prefix",
    "property", "proposed", "pseudo", "read", "reject", "rename", "required", "repeatable",
    "restrict", "rewrite", "role", "roles", "rollup", "savepoint", "scalar", "schema", "sdl",
    "serializable", "session", "source", "superuser", "system", "target", "template",
    "ternary", "text", "then", "to", "transaction", "trigger", "type", "unless", "using",
    "verbose", "version", "view", "write",
)  # fmt: skip

# The scalar types of ``std`` and ``cal`` (plus the generic collection type constructors)
# that may appear in casts and parameter types. Offered in casts even with no schema read.
BUILTIN_TYPES: tuple[str, ...] = (
    "str", "bool", "int16", "int32", "int64", "float32", "float64", "bigint", "decimal",
    "uuid", "json", "bytes", "datetime", "duration", "sequence",
    "cal::local_datetime", "cal::local_date", "cal::local_time", "cal::relative_duration",
    "cal::date_duration", "cfg::memory", "array", "tuple", "range", "multirange", "optional",
    "anytype", "anyscalar", "anyreal", "anyint", "anyfloat", "anynumeric", "anyenum",
)  # fmt: skip


def keywords() -> tuple[str, ...]:
    """Every keyword, reserved first."""
    seen: dict[str, None] = dict.fromkeys(RESERVED_KEYWORDS)
    seen.update(dict.fromkeys(k for k in UNRESERVED_KEYWORDS if k not in seen))
    return tuple(seen)


def language_data() -> dict[str, list[str]]:
    """What the editor's tokenizer needs: the keywords and builtin type names."""
    return {
        "keywords": list(keywords()),
        "reserved": list(RESERVED_KEYWORDS),
        "builtin_types": list(BUILTIN_TYPES),
    }
