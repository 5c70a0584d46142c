"""Introspection: builders from what a real server returned, the fake's answers against the
recording, and ``read_schema`` (concurrent parts, a refused part, a missing optional part)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import gel
import gel.errors
import pytest

from ecc.fake import schema as fake_schema
from ecc.fake.client import FakeClient, schema_responder
from ecc.schema import introspect
from ecc.schema.introspect import (
    MAX_CONCURRENT_PARTS,
    PARTS,
    build_model,
    probe_schema,
    read_schema,
)
from ecc.schema.model import (
    Annotation,
    Constraint,
    ObjectType,
    Pointer,
    ScalarType,
    SchemaModel,
)
from tests.transcripts import (
    MISSING_REASON,
    TRANSCRIPTS_PATH,
    TranscriptCase,
    load_cases,
    rebuild_value,
    type_tree_of,
)

needs_transcripts = pytest.mark.skipif(not TRANSCRIPTS_PATH.exists(), reason=MISSING_REASON)

# recorded case label -> the part of ours that asks the same thing
RECORDED_PARTS = {
    "introspect modules": "modules",
    "introspect object types": "object types",
    "introspect scalar types and enums": "scalar types",
    "introspect user functions": "functions",
}


def recorded(label: str) -> TranscriptCase:
    return next(c for c in load_cases() if c.label == label)


def recorded_model() -> SchemaModel:
    return build_model({part: rebuild_value(recorded(label))  # type: ignore[misc]
                        for label, part in RECORDED_PARTS.items()})


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- builders, from the recording ----------------------------------------------------------


@needs_transcripts
def test_recorded_object_types_build_with_their_pointers() -> None:
    movie = recorded_model().object_type("default::Movie")
    assert movie is not None
    assert movie.bases == ("std::Object",)
    assert [p.name for p in movie.pointers] == [
        "actors", "box_office", "budget", "director", "genre", "id", "rating", "release_year",
        "released_on", "runtime", "tags", "title",
    ]  # fmt: skip
    actors = movie.pointer("actors")
    assert actors is not None and actors.is_link
    assert (actors.target, actors.cardinality) == ("default::Person", "multi")
    # the server's implicit link properties (source, target) are not the author's
    assert [(lp.name, lp.target) for lp in actors.link_properties] == [("character", "std::str")]
    title = movie.pointer("title")
    assert title is not None and not title.is_link
    assert (title.target, title.required, title.cardinality) == ("std::str", True, "single")
    # __subject__ is the constrained value, not an argument
    assert title.constraints == (Constraint("std::exclusive"),)
    ident = movie.pointer("id")
    assert ident is not None and ident.readonly and ident.default == "std::uuid_generate_v1mc()"


@needs_transcripts
def test_recorded_pointers_agree_with_the_recorded_describe() -> None:
    """The live test's comparison, on what the real server answered for Movie."""
    from tests.test_live_schema import declared_pointers

    movie = recorded_model().object_type("default::Movie")
    assert movie is not None
    text = rebuild_value(recorded("describe type as text"))
    assert isinstance(text, str)
    declared = declared_pointers(text)
    assert declared["actors"] == "multi" and len(declared) == 12
    assert {p.name: p.cardinality for p in movie.pointers} == declared


@needs_transcripts
def test_recorded_answer_drops_the_implicit_type_link() -> None:
    model = recorded_model()
    assert all(p.name != "__type__" for t in model.object_types for p in t.pointers)


@needs_transcripts
def test_recorded_enum_keeps_its_members_in_order() -> None:
    genre = recorded_model().scalar_type("Genre")
    assert genre == ScalarType("default::Genre", bases=("std::anyenum",),
                               enum_values=("Action", "SciFi", "Drama", "Crime", "Thriller"))


@needs_transcripts
def test_recorded_cfg_types_are_standard_although_not_builtin() -> None:
    model = recorded_model()
    assert model.user_modules == ("default",)
    assert "cfg" in model.builtin_modules
    branch_config = model.object_type("cfg::BranchConfig")
    assert branch_config is not None
    assert model.is_standard_module(branch_config.module)


@needs_transcripts
@pytest.mark.parametrize(("label", "part"), sorted(
    (label, part) for label, part in RECORDED_PARTS.items() if part in introspect.BASIC_QUERIES))
def test_basic_queries_are_the_ones_a_real_server_answered(label: str, part: str) -> None:
    assert introspect.BASIC_QUERIES[part].split() == recorded(label).query.split()


@needs_transcripts
def test_a_server_rejecting_a_full_query_is_read_with_the_basic_one() -> None:
    user_parts = [p for p in introspect.BASIC_QUERIES if p in introspect.PARTS]
    assert user_parts == ["object types", "scalar types", "functions"]
    basic = {introspect.BASIC_QUERIES[p].strip(): p for p in user_parts}
    recorded_rows = {part: rebuild_value(recorded(label))
                     for label, part in RECORDED_PARTS.items()}
    full_queries = {introspect.PARTS[p].strip() for p in user_parts}

    def older_server(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if query.strip() in full_queries:
            return gel.errors.InvalidReferenceError(
                "object type 'schema::Constraint' has no link or property 'subjectexpr'")
        if query.strip() in basic:
            return recorded_rows[basic[query.strip()]]
        return schema_responder()(query, args, kwargs)

    client = FakeClient(older_server)
    model = run(read_schema(client))
    assert model.problems == ()
    movie = model.object_type("default::Movie")
    assert movie is not None and movie.pointer("actors") is not None
    assert model.scalar_type("default::Genre") is not None
    sent = [query.strip() for _, query, _, _ in client.stats.calls]
    assert set(basic) <= set(sent)


def test_a_timeout_is_a_problem_not_a_reason_for_the_basic_query() -> None:
    def slow(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if query == introspect.OBJECT_TYPES_QUERY:
            return gel.errors.QueryTimeoutError("canceling statement due to statement timeout")
        return schema_responder()(query, args, kwargs)

    client = FakeClient(slow)
    model = run(read_schema(client))
    assert [p.part for p in model.problems] == ["object types"]
    assert "QueryTimeoutError" in model.problems[0].message
    assert introspect.BASIC_OBJECT_TYPES_QUERY not in [q for _, q, _, _ in client.stats.calls]


def test_builders_read_missing_fields_as_empty() -> None:
    from gel.datatypes import datatypes as dt

    bare = dt.create_object_factory(name="property")
    t = introspect.build_object_type(bare("default::Bare"))
    assert t == ObjectType("default::Bare")


# --- the fake's answers agree with the recording ---------------------------------------------


def field_types(tree: object, path: str = "") -> dict[str, set[str]]:
    """Every path of a type tree -> the type names seen there (list items merged)."""
    out: dict[str, set[str]] = {}
    if isinstance(tree, dict):
        if "fields" in tree:
            out.setdefault(path, set()).add(tree["type"])
            for name, sub in tree["fields"].items():
                for k, v in field_types(sub, f"{path}.{name}").items():
                    out.setdefault(k, set()).update(v)
        else:
            out.setdefault(path, set()).add(tree["type"])
            for sub in tree["items"]:
                for k, v in field_types(sub, f"{path}[]").items():
                    out.setdefault(k, set()).update(v)
    else:
        out.setdefault(path, set()).add(str(tree))
    return out


@needs_transcripts
@pytest.mark.parametrize(
    ("label", "part"),
    # the recorded functions answer is empty (no user functions): nothing to compare there
    sorted((k, v) for k, v in RECORDED_PARTS.items() if v != "functions"),
)
def test_fake_answers_have_the_recorded_fields_and_types(label: str, part: str) -> None:
    real = field_types(recorded(label).raw["type_tree"])
    fake = field_types(type_tree_of(fake_schema.answers(fake_schema.demo_schema())[part]))
    none = "builtins.NoneType"
    checked = 0
    for path, types in real.items():
        if types == {none}:
            continue  # an empty optional field: any type may be there
        assert path in fake, f"{part}: the fake lacks {path}"
        assert (types - {none}) & fake[path], f"{part}: {path} is {types}, fake {fake[path]}"
        checked += 1
    assert checked >= 3


@needs_transcripts
def test_recorded_function_answer_is_empty_and_the_fakes_rows_build_alike() -> None:
    assert rebuild_value(recorded("introspect user functions")) == []
    built = introspect.build_functions(fake_schema.function_rows(fake_schema.demo_schema()))
    assert built == fake_schema.demo_schema().functions


# --- read_schema -----------------------------------------------------------------------------


def test_read_schema_round_trips_the_fakes_schema() -> None:
    expected = fake_schema.demo_schema()
    model = run(read_schema(FakeClient()))
    assert model.problems == ()
    for field in ("modules", "object_types", "scalar_types", "functions", "aliases", "globals",
                  "extensions", "builtin_function_names"):
        assert getattr(model, field) == getattr(expected, field), field


def test_read_schema_keeps_at_most_two_parts_in_flight_and_times_each() -> None:
    # Each concurrent query is a pooled connection: a page load must not open nine.
    client = FakeClient(latency_s=0.05)
    model = run(read_schema(client))
    assert client.stats.max_in_flight == MAX_CONCURRENT_PARTS == 2
    assert [part for part, _ in model.part_s] == list(PARTS)
    assert all(seconds >= 0.04 for _, seconds in model.part_s)
    assert 0.05 * len(PARTS) / 2 <= model.read_s < 0.05 * len(PARTS)


def test_the_probe_token_follows_the_set_of_migrations_not_their_order() -> None:
    ids = list(fake_schema.DEMO_MIGRATIONS)
    token = run(probe_schema(FakeClient(schema_responder(migrations=lambda: ids))))
    assert token.startswith("8:")
    backwards = run(probe_schema(FakeClient(schema_responder(
        migrations=lambda: ids[::-1]))))
    assert backwards == token
    one_more = [*ids, uuid.UUID(int=99)]  # a DDL statement outside a migration adds one
    moved = run(probe_schema(FakeClient(schema_responder(
        migrations=lambda: one_more))))
    assert moved.startswith("9:") and moved != token
    reset = [uuid.UUID(int=1000 + i) for i in range(8)]  # same count, new objects
    assert run(probe_schema(FakeClient(schema_responder(
        migrations=lambda: reset)))) not in (token, moved)


def test_a_refused_part_is_a_problem_and_the_rest_still_shows() -> None:
    client = FakeClient(schema_responder(refuse=("functions",)))
    model = run(read_schema(client))
    assert [p.part for p in model.problems] == ["functions"]
    assert model.problems[0].message.startswith("AccessError: permission denied")
    assert model.functions == ()
    assert model.object_type("default::Movie") is not None
    assert model.scalar_type("default::Genre") is not None


def test_unreadable_modules_are_read_from_the_other_parts_names() -> None:
    model = run(read_schema(FakeClient(schema_responder(refuse=("modules",)))))
    assert [p.part for p in model.problems] == ["modules"]
    assert model.user_modules == ("default",)


def test_a_server_without_triggers_is_no_problem() -> None:
    def no_triggers(query: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if query == introspect.TRIGGERS_QUERY:
            return gel.errors.InvalidReferenceError(
                "object type 'schema::ObjectType' has no link or property 'triggers'")
        return schema_responder()(query, args, kwargs)

    model = run(read_schema(FakeClient(no_triggers)))
    assert model.problems == ()
    assert all(not t.triggers for t in model.object_types)


def test_triggers_and_rewrites_reach_their_type() -> None:
    demo = fake_schema.demo_schema()
    movie = demo.object_type("default::Movie")
    assert movie is not None
    changed = dataclasses.replace(movie, triggers=("log_insert",), rewrites=("title: update",))
    schema = dataclasses.replace(
        demo, object_types=tuple(changed if t is movie else t for t in demo.object_types))
    model = run(read_schema(FakeClient(schema_responder(schema))))
    read_movie = model.object_type("default::Movie")
    assert read_movie is not None
    assert (read_movie.triggers, read_movie.rewrites) == (("log_insert",), ("title: update",))


def test_no_connection_fails_the_whole_read() -> None:
    refused = gel.errors.ClientConnectionFailedTemporarilyError("connection refused")
    with pytest.raises(gel.errors.ClientConnectionError):
        run(read_schema(FakeClient(connect_error=refused)))


def test_builtin_function_names_are_distinct_and_sorted() -> None:
    names = ["std::len", "std::count", "std::len"]
    model = build_model({"builtin function names": names})
    assert model.builtin_function_names == ("std::count", "std::len")


# --- the model -------------------------------------------------------------------------------


def test_short_names_prefer_user_modules() -> None:
    model = SchemaModel(
        modules=("cfg", "default", "std"),
        object_types=(ObjectType("cfg::Config"), ObjectType("default::Config"),
                      ObjectType("std::Object")),
    )
    config = model.object_type("Config")
    assert config is not None and config.name == "default::Config"
    std_object = model.object_type("Object")
    assert std_object is not None and std_object.name == "std::Object"


def test_a_short_name_two_user_modules_share_resolves_to_neither() -> None:
    model = SchemaModel(modules=("a", "b"),
                        object_types=(ObjectType("a::Thing"), ObjectType("b::Thing")))
    assert model.object_type("Thing") is None
    assert model.object_type("b::Thing") is not None


def test_a_replaced_model_never_shares_the_old_lookup() -> None:
    model = SchemaModel(modules=("a",), object_types=(ObjectType("a::Old"),))
    assert model.object_type("Old") is not None  # fills the cache
    changed = dataclasses.replace(model, object_types=(ObjectType("a::New"),))
    assert changed.object_type("Old") is None
    assert changed.object_type("New") is not None


def test_subtypes_and_counts() -> None:
    model = fake_schema.demo_schema()
    assert model.subtypes("default::Auditable") == ("default::Movie",)
    assert model.counts()["object types"] == 4


def test_demo_schema_has_what_the_explorer_shows() -> None:
    movie = fake_schema.demo_schema().object_type("Movie")
    assert movie is not None
    assert Annotation("std::title", "Movie") in movie.annotations
    rating = movie.pointer("rating")
    assert isinstance(rating, Pointer)
    assert Constraint("std::max_value", (("max", "10"),)) in rating.constraints


def test_refusing_an_unknown_part_is_a_test_bug() -> None:
    with pytest.raises(ValueError, match="unknown schema parts"):
        schema_responder(refuse=("tables",))


def test_fake_enum_values_are_the_drivers_kind() -> None:
    rows = fake_schema.answers(fake_schema.demo_schema())["object types"]
    cardinality = rows[0].pointers[0].cardinality
    assert isinstance(cardinality, gel.EnumValue)
    assert str(cardinality) in {"One", "Many"}


# --- the standard library, read on demand ----------------------------------------------------


def test_standard_parts_are_the_user_queries_turned_to_builtin() -> None:
    for part, query in introspect.STANDARD_PARTS.items():
        user = introspect.PARTS[part.removeprefix("standard ")]
        assert query == user.replace("filter not .builtin", "filter .builtin")


def test_read_standard_adds_std_items_after_the_users() -> None:
    async def both() -> tuple[SchemaModel, SchemaModel]:
        client = FakeClient()
        model = await read_schema(client)
        return model, await introspect.read_standard(client, model)

    model, merged = run(both())
    assert not model.standard_read and merged.standard_read
    assert merged.object_types[:len(model.object_types)] == model.object_types
    names = [t.name for t in merged.object_types]
    assert "std::Object" in names and names.count("cfg::BranchConfig") == 1
    assert "std::str" in [s.name for s in merged.scalar_types]
    assert "std::len" in [f.name for f in merged.functions]
    std_object = merged.object_type("Object")
    assert std_object is not None and std_object.name == "std::Object"
    movie = merged.object_type("Movie")
    assert movie is not None and movie.name == "default::Movie"


def test_a_refused_standard_part_is_a_problem_of_the_merged_model() -> None:
    async def both() -> SchemaModel:
        client = FakeClient(schema_responder(refuse=("standard functions",)))
        return await introspect.read_standard(client, await read_schema(client))

    merged = run(both())
    assert [p.part for p in merged.problems] == ["standard functions"]
    assert "std::Object" in [t.name for t in merged.object_types]
