"""The editor's completion source (frontend/edgeql_editor/src/complete.js) run in Node on the
completion data Python builds: which names each cursor context offers.

complete.js imports nothing, so it runs without node_modules; skipped when Node is missing.
The browser tests cover the same source inside CodeMirror.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ecc.editor.language import language_data
from ecc.fake.schema import demo_schema, generated_schema
from ecc.schema.completions import completion_data, wire_tree

SOURCE = Path(__file__).resolve().parents[1] / "frontend" / "edgeql_editor" / "src" / "complete.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="Node is not installed")

SCRIPT = """
import fs from "node:fs";
const {edgeqlCompletionSource} = await import(process.argv[1]);
const {data, cases} = JSON.parse(fs.readFileSync(0, "utf8"));
const source = edgeqlCompletionSource(() => data);
const out = cases.map((text) => {
  const context = {pos: text.length, explicit: true,
    state: {sliceDoc: (from, to) => text.slice(from, to)}};
  const result = source(context);
  return result ? {from: result.from, labels: result.options.map((o) => o.label),
    details: Object.fromEntries(result.options.map((o) => [o.label, o.detail || ""])),
    applies: Object.fromEntries(result.options.map((o) => [o.label,
      typeof o.apply === "function" ? "shape" : o.apply || null]))} : null;
});
process.stdout.write(JSON.stringify(out));
"""


def demo_data() -> dict[str, Any]:
    return completion_data(demo_schema(), ["title", "year"])


def offered(*texts: str, data: dict[str, Any] | None = None) -> list[dict[str, object] | None]:
    data = demo_data() if data is None else data
    language = language_data()  # the editor merges these in, as index.js does
    data["keywords"] = language["keywords"]
    data["builtin_types"] = language["builtin_types"]
    answer = subprocess.run(
        [str(NODE), "--input-type=module", "-e", SCRIPT, SOURCE.as_uri()],
        input=json.dumps({"data": data, "cases": list(texts)}),
        capture_output=True, text=True, timeout=60, check=True,
    )
    result: list[dict[str, object] | None] = json.loads(answer.stdout)
    return result


def labels(text: str, data: dict[str, Any] | None = None) -> list[str]:
    result = offered(text, data=data)[0]
    assert result is not None, f"nothing offered for {text!r}"
    names = result["labels"]
    assert isinstance(names, list)
    return names


PERSON = ["birth_year", "id", "movies", "name"]  # the demo Person's pointers


def test_type_names_and_keywords_at_statement_level() -> None:
    names = labels("select Mo")
    assert "Movie" in names and "select" in names and "Person" in names


def test_shape_of_a_type_offers_its_pointers_only() -> None:
    names = labels("select Movie { ti")
    assert "title" in names and "actors" in names
    assert "select" not in names and "Movie" not in names
    assert labels("select Movie { title, rel") == labels("select Movie { ti")


def test_nested_shape_of_a_link_offers_the_link_targets_pointers() -> None:
    assert labels("select Movie { title, actors: { na") == PERSON
    assert labels("select Movie { director: { title, x := '{', na") == PERSON


def test_a_path_after_a_dot_offers_the_subjects_pointers() -> None:
    assert "release_year" in labels("select Movie filter .rel")
    assert "release_year" in labels("select Movie { title } order by .")
    assert labels("select Movie.actors.") == PERSON


def test_insert_and_update_shapes_offer_the_types_pointers() -> None:
    assert "title" in labels("insert Movie { ti")
    assert "title" in labels("update Movie filter .title = 'x' set { ti")


def applies(text: str) -> dict[str, object]:
    result = offered(text)[0]
    assert result is not None, f"nothing offered for {text!r}"
    value = result["applies"]
    assert isinstance(value, dict)
    return value


def test_pointers_complete_as_the_statement_needs_them() -> None:
    select = applies("select Movie { ti")
    assert select["title"] is None and select["actors"] == "shape"  # `actors: {  }`
    assert applies("select Movie { actors: { na")["name"] is None
    assert applies("insert Movie { ti")["title"] == "title := "
    assert applies("update Movie set { ti")["actors"] == "actors := "
    assert applies("insert Movie { director := (select Person { na")["name"] is None


def test_a_filter_on_a_nested_shape_refers_to_the_link_target() -> None:
    assert labels("select Movie { actors: { name } filter .n") == PERSON


def test_link_properties_after_at_sign() -> None:
    assert labels("select Movie { title } filter .actors@") == ["character"]
    assert labels("select Movie { actors: { name, @") == ["character"]
    assert offered("select Movie { title } filter .title@")[0] is None  # not a link


def test_module_qualified_names_and_functions_with_signatures() -> None:
    assert "Movie" in labels("select default::Mo")
    result = offered("select movies_")[0]
    assert result is not None
    details = result["details"]
    assert isinstance(details, dict)
    assert details["movies_in"] == "(year: int64) -> set of Movie"


def test_parameters_already_in_the_text_after_a_dollar() -> None:
    assert labels("select <str>$") == ["title", "year"]


def test_casts_offer_builtin_and_schema_types() -> None:
    names = labels("select <st")
    assert "str" in names and "Genre" in names


def test_strings_and_comments_do_not_open_shapes() -> None:
    assert "title" in labels("select Movie { x := '}', # }\n ti")


# Names that are members of every JavaScript object (Object.prototype's).
JS_BUILTIN_NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]


@pytest.mark.parametrize("name", JS_BUILTIN_NAMES)
def test_a_javascript_builtin_name_is_just_an_unknown_name(name: str) -> None:
    # Before: `select constructor { ` found Object.prototype.constructor as a type's pointers
    # and threw "(index.objects[type] || []).map is not a function".
    names = labels(f"select {name} {{ ")
    assert "select" in names and "Movie" in names  # not a type: the statement-level names
    assert offered(f"select {name}.", f"select Movie filter .{name}.") == [None, None]
    assert "title" in labels(f"select {name} {{ x }}; select Movie {{ ")


@pytest.mark.parametrize("name", JS_BUILTIN_NAMES)
def test_a_schema_type_named_like_a_javascript_builtin_completes(name: str) -> None:
    data = demo_data()
    data["objects"][f"default::{name}"] = [
        {"name": "label", "kind": "property", "target": "std::str", "card": "single",
         "link_props": []}]
    data["aliases"][name] = f"default::{name}"
    assert labels(f"select {name} {{ ", data) == ["label"]
    assert labels(f"select {name} filter .", data) == ["label"]


EXPAND = """
import fs from "node:fs";
const {expandTree} = await import(process.argv[1]);
process.stdout.write(JSON.stringify(expandTree(JSON.parse(fs.readFileSync(0, "utf8")))));
"""


def expanded(wire: dict[str, Any]) -> Any:
    answer = subprocess.run(
        [str(NODE), "--input-type=module", "-e", EXPAND, SOURCE.as_uri()],
        input=json.dumps(wire), capture_output=True, text=True, timeout=60, check=True)
    return json.loads(answer.stdout)


def test_the_tree_as_sent_expands_to_the_tree_python_built() -> None:
    demo = demo_data()  # link properties, enums, functions
    large = completion_data(generated_schema(40, 12, 3))
    odd = demo_data()
    odd["objects"]["__proto__"] = [{"name": "constructor", "kind": "property",
                                    "target": "__proto__", "card": "single", "link_props": []}]
    for data in (demo, large, odd, {"params": ["$x"]}):
        assert expanded(wire_tree(data)) == data
    assert expanded(demo) == demo  # a tree already in the editor's layout passes as it is
