"""Branches and globals at the engine: the branch list per server version (as recorded), the
operator's policy, the settings that carry it, and globals as typed inputs."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import gel.errors
import pytest

from ecc.branches import catalog
from ecc.branches.catalog import BranchCatalog, read_catalog
from ecc.branches.globals_input import global_inputs, global_parameter, resolve_globals
from ecc.branches.policy import BranchPolicy, GlobalsPolicy
from ecc.driver.errors import ConsoleInputError
from ecc.driver.execute import ExecutionPolicy, QueryRequest, execute
from ecc.fake.branches import FakeBranchClients, FakeBranchServer
from ecc.fake.client import FakeClient
from ecc.schema.model import Global, ScalarType, SchemaModel
from ecc.settings.config import SettingsError, load_settings
from tests.transcripts import TRANSCRIPTS_DIR

PRODUCT_QUERIES = TRANSCRIPTS_DIR / "product_queries.json"


def recorded(query: str) -> dict[str, Any]:
    cases = json.loads(PRODUCT_QUERIES.read_text(encoding="utf-8"))["cases"]
    return next(c for c in cases if c["query"] == query)


def catalog_of(server: FakeBranchServer, branch: str | None = None) -> BranchCatalog:
    return asyncio.run(read_catalog(FakeBranchClients(server)(branch)))


# --- the branch list ------------------------------------------------------------------------
def test_an_edgedb_5_server_lists_its_branches_through_sys_database() -> None:
    found = catalog_of(FakeBranchServer(("main", "staging", "dev")))
    assert found == BranchCatalog(("dev", "main", "staging"), "main", "sys::Database")


def test_a_gel_6_server_lists_them_through_sys_branch() -> None:
    found = catalog_of(FakeBranchServer(("main", "staging"), version=6), "staging")
    assert (found.names, found.current, found.source) == (("main", "staging"), "staging",
                                                          "sys::Branch")


def test_a_role_that_cannot_read_sys_gets_the_current_branch_only_and_the_reason() -> None:
    found = catalog_of(FakeBranchServer(("main", "staging"), sys_readable=False))
    assert found.names == ("main",) and found.source == "current only"
    assert found.problem is not None and "AccessError" in found.problem
    assert "sys::Branch: InvalidReferenceError" in found.problem


def test_a_connection_failure_is_not_degraded_into_an_empty_list() -> None:
    client = FakeClient(connect_error=gel.errors.ClientConnectionFailedError("refused"))
    with pytest.raises(gel.errors.ClientConnectionFailedError):
        asyncio.run(read_catalog(client))


@pytest.mark.skipif(not PRODUCT_QUERIES.exists(), reason="no recording of the project's queries")
def test_the_fake_answers_the_catalog_queries_as_the_recorded_5_8_server() -> None:
    client = FakeBranchClients(FakeBranchServer(("main",)))()
    missing = recorded(catalog.BRANCHES_QUERY)["error"]
    with pytest.raises(gel.errors.InvalidReferenceError) as caught:
        asyncio.run(client.query(catalog.BRANCHES_QUERY))
    assert type(caught.value).__name__ == missing["class"]
    assert caught.value.args[0] == missing["message"]
    for query in (catalog.DATABASES_QUERY, catalog.CURRENT_BRANCH_QUERY,
                  catalog.CURRENT_DATABASE_QUERY):
        case = recorded(query)
        assert case["ok"] and case["head"] == ["'main'"]
        answer = asyncio.run(FakeBranchClients()().query(query))
        assert [repr(v) for v in answer] == case["head"], query


def test_a_branch_the_server_lacks_fails_to_connect_as_recorded() -> None:
    behaviours = json.loads((TRANSCRIPTS_DIR / "transcripts.json").read_text())["behaviours"] \
        if (TRANSCRIPTS_DIR / "transcripts.json").exists() else None
    client = FakeBranchClients(FakeBranchServer(("main",)))("nosuchbranch")
    with pytest.raises(gel.errors.UnknownDatabaseError) as caught:
        asyncio.run(client.query("select 1"))
    if behaviours is not None:
        assert caught.value.args[0] == behaviours["unknown branch"]["error"]["message"]


def test_each_branch_of_the_fake_serves_its_own_data() -> None:
    clients = FakeBranchClients(FakeBranchServer(("main", "staging")))
    main = asyncio.run(clients("main").query("select Movie {title}"))
    staging = asyncio.run(clients("staging").query("select Movie {title}"))
    assert len(main) == 10 and len(staging) == 3
    assert all(m.title.endswith(" [staging]") for m in staging)
    assert not any(m.title.endswith("]") for m in main)


# --- the operator's branch policy -----------------------------------------------------------
LISTED = BranchCatalog(("dev", "main", "staging"), "main", "sys::Database")


def test_by_default_the_session_stays_on_the_connections_branch() -> None:
    policy = BranchPolicy(default=None)
    assert not policy.changeable
    assert policy.choices(LISTED) == ("main",)
    assert policy.check("main", LISTED) is None
    with pytest.raises(ConsoleInputError, match="connection's branch only"):
        policy.check("staging", LISTED)


def test_a_pinned_branch_is_shown_and_cannot_be_changed() -> None:
    policy = BranchPolicy.from_settings(load_settings(
        {"host": "db", "pinned_branch": "staging"}, {}))
    assert policy == BranchPolicy(default="staging", pinned=True)
    assert policy.choices(LISTED) == ("staging",)
    assert policy.check("staging", LISTED) is None
    with pytest.raises(ConsoleInputError, match="pinned to branch 'staging'") as caught:
        policy.check("main", LISTED)
    assert caught.value.view.title == "Branch not allowed"


def test_an_allowed_list_offers_only_the_listed_branches_the_server_has() -> None:
    policy = BranchPolicy(default="main", allowed=("staging", "gone"))
    assert policy.choices(LISTED) == ("main", "staging")
    assert policy.check("staging", LISTED) == "staging"
    with pytest.raises(ConsoleInputError, match="not one of the branches"):
        policy.check("dev", LISTED)
    with pytest.raises(ConsoleInputError, match="no branch 'gone'"):
        policy.check("gone", LISTED)


def test_a_star_allows_every_branch_the_server_lists() -> None:
    policy = BranchPolicy(default=None, allowed=("*",))
    assert policy.choices(LISTED) == ("main", "dev", "staging")
    assert policy.check("dev", LISTED) == "dev"
    assert policy.check("main", LISTED) is None  # the server's current one is the default


# --- settings -------------------------------------------------------------------------------
def test_branch_and_globals_settings_are_read_and_checked() -> None:
    settings = load_settings({
        "host": "db", "allowed_branches": ["staging", "*", "staging"], "max_branch_clients": 3,
        "fixed_globals": {"tenant": "acme", "default::level": 2},
        "user_globals": ["default::current_user"]}, {})
    assert settings.allowed_branches == ("staging", "*")
    assert settings.max_branch_clients == 3
    assert settings.fixed_globals == (("default::level", 2), ("default::tenant", "acme"))
    assert settings.user_globals == ("default::current_user",)
    assert load_settings({"host": "db"}, {}).user_globals == ()  # default: users set none


def test_a_pinned_branch_is_the_connections_branch_and_its_identity() -> None:
    plain = load_settings({"host": "db"}, {})
    pinned = load_settings({"host": "db", "pinned_branch": "staging"}, {})
    assert pinned.connection.branch == "staging"
    assert pinned.connection.driver_kwargs()["branch"] == "staging"
    assert plain.connection.identity() != pinned.connection.identity()


@pytest.mark.parametrize(("section", "says"), [
    ({"pinned_branch": "a", "allowed_branches": ["b"]}, "exclude each other"),
    ({"fixed_globals": {"apply_access_policies": False}}, "never changes server configuration"),
    ({"user_globals": ["cfg::whatever"]}, "standard module"),
    ({"user_globals": ["default::x; drop"]}, "not a global's name"),
    ({"fixed_globals": {"tenant": "a"}, "user_globals": ["tenant"]}, "both fixed"),
    ({"fixed_globals": {"tenant": ["a"]}}, "string, number or true/false"),
    ({"fixed_globals": "tenant=a"}, "must be a table"),
    ({"allowed_branches": [""]}, None),  # blank names are dropped, not an error
    ({"pinned_branch": "a\nb"}, "printable"),
    ({"max_branch_clients": 0}, "between 1 and 16"),
])
def test_a_bad_branch_or_globals_setting_names_itself(section: dict[str, Any],
                                                      says: str | None) -> None:
    if says is None:
        assert load_settings({"host": "db", **section}, {}).allowed_branches == ()
        return
    with pytest.raises(SettingsError, match=says):
        load_settings({"host": "db", **section}, {})


# --- globals as typed inputs ----------------------------------------------------------------
MODEL = SchemaModel(
    scalar_types=(ScalarType("default::Level", enum_values=("low", "high")),),
    globals=(
        Global("default::current_user", "std::str"),
        Global("default::level", "default::Level"),
        Global("default::limit", "std::int64", required=True, default="10"),
        Global("default::tenant", "std::str"),
        Global("default::now_ish", "std::datetime"),
        Global("default::computed", "std::str", computed="global current_user ++ '!'"),
        Global("default::tags", "std::str", cardinality="multi"),
    ),
)
POLICY = GlobalsPolicy(fixed=(("default::tenant", "acme"),),
                       user_settable=("default::limit", "default::level", "default::now_ish",
                                      "default::computed"))


def test_global_inputs_show_fixed_ones_read_only_and_user_ones_editable() -> None:
    inputs = {i.name: i for i in global_inputs(MODEL, POLICY)}
    assert set(inputs) == {"default::tenant", "default::limit", "default::level",
                           "default::now_ish"}  # computed ones cannot be set; others not allowed
    assert not inputs["default::tenant"].editable and inputs["default::tenant"].fixed_text == "acme"
    assert inputs["default::limit"].editable and not inputs["default::limit"].parameter.optional
    assert inputs["default::level"].parameter.type.enum_members == ("low", "high")


def test_globals_are_parsed_by_the_parameters_parsers() -> None:
    applied = resolve_globals(POLICY, MODEL, {"default::limit": "1_000", "default::level": "high",
                                              "default::now_ish": "2024-05-01T12:00:00Z"})
    values = applied.as_dict()
    assert values == {"default::tenant": "acme", "default::limit": 1000, "default::level": "high",
                      "default::now_ish": datetime.datetime(2024, 5, 1, 12,
                                                            tzinfo=datetime.UTC)}
    assert applied.text().startswith("default::tenant = acme (fixed), default::level = high")


def test_a_blank_optional_global_is_left_to_the_schemas_default() -> None:
    applied = resolve_globals(POLICY, MODEL, {"default::level": ""})
    assert applied.as_dict() == {"default::tenant": "acme"}


def test_a_bad_global_value_names_the_global_and_sends_nothing() -> None:
    with pytest.raises(ConsoleInputError, match=r"default::limit.*whole number") as caught:
        resolve_globals(POLICY, MODEL, {"default::limit": "ten"})
    assert caught.value.view.title == "Invalid global"


@pytest.mark.parametrize("name", ["default::tenant", "default::current_user",
                                  "apply_access_policies"])
def test_a_user_may_not_set_a_fixed_or_unlisted_global(name: str) -> None:
    with pytest.raises(ConsoleInputError, match="may not be set from the page") as caught:
        resolve_globals(POLICY, MODEL, {name: "other"})
    assert caught.value.view.title == "Global not allowed"


def test_a_fixed_global_the_schema_lacks_refuses_the_run() -> None:
    policy = GlobalsPolicy(fixed=(("default::gone", "x"),))
    with pytest.raises(ConsoleInputError, match="cannot be applied"):
        resolve_globals(policy, MODEL, {})


def test_a_fixed_value_that_does_not_fit_its_type_refuses_the_run() -> None:
    policy = GlobalsPolicy(fixed=(("default::limit", "lots"),))
    with pytest.raises(ConsoleInputError, match="does not fit its type int64"):
        resolve_globals(policy, MODEL, {})


def test_without_a_schema_fixed_values_go_as_written_and_user_ones_wait() -> None:
    assert resolve_globals(POLICY, None, {}).as_dict() == {"default::tenant": "acme"}
    with pytest.raises(ConsoleInputError, match="has not been read yet"):
        resolve_globals(POLICY, None, {"default::limit": "5"})


def test_a_multi_global_is_not_offered() -> None:
    assert global_parameter(Global("default::tags", "std::str", cardinality="multi")) is None


def test_a_run_applies_its_globals_with_with_globals() -> None:
    client = FakeClient()
    policy = ExecutionPolicy(read_only=True)
    request = QueryRequest("Q1", "select global default::tenant",
                           globals={"default::tenant": "acme"})

    async def both() -> tuple[Any, Any]:
        plain = QueryRequest("Q2", "select global default::tenant")
        return await execute(client, request, policy), await execute(client, plain, policy)

    with_globals, without = asyncio.run(both())
    assert with_globals == ["acme"]
    assert without == []  # a request without globals sets none (the clone carried them only)
    assert client.stats.globals_seen == [{"default::tenant": "acme"}, {}]


def test_the_read_only_guard_applies_on_a_branch_with_globals() -> None:
    client = FakeBranchClients(FakeBranchServer(("main", "staging")))("staging")
    request = QueryRequest("Q1", "insert Movie {title := 'x'}", branch="staging",
                           globals={"default::tenant": "acme"})
    with pytest.raises(ConsoleInputError, match="read-only"):
        asyncio.run(execute(client, request, ExecutionPolicy(read_only=True)))
    assert client.stats.calls == []


def test_every_cache_key_of_the_connection_follows_the_sessions_branch() -> None:
    import st_utils
    from st_page.branch_and_globals import with_branch

    settings = load_settings({"dsn": "gel://u:secretpw@db:5656/main"}, {})
    staging = with_branch(settings, "staging")
    assert with_branch(settings, None) is settings
    assert staging.session_branch == "staging" and staging.connection == settings.connection
    assert st_utils.connection_key(staging) != st_utils.connection_key(settings)
    assert st_utils.schema_key(staging) != st_utils.schema_key(settings)
    assert "secretpw" not in st_utils.connection_key(staging)
