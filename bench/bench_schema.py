"""Schema explorer speed on a generated schema (500 object types x 20 properties, 5 modules,
2 links each) served by the fake client in the driver's datatypes.

- building the view model: the driver's rows -> ``SchemaModel`` -> the list's view (all
  modules, then with a search), median (target <= 200 ms);
- rendering the list: a page rerun with the explorer open on the object types (500-row table,
  one type's details), AppTest, median (target <= 1 s);
- the graph's DOT text of one module (100 types), median (target <= 2 s); also all 500 types
  in one module, for scale.
Also printed: the whole read through the fake client (``read_schema``: 9 concurrent parts),
and, beside each wall-clock median, the median CPU time of this process (``process_time``):
on a shared, loaded machine the wall clock mostly measures waiting for a core.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import fake_console, median_ms, report, timed
from ecc.fake import schema as fake_schema
from ecc.fake.client import FakeClient, schema_responder
from ecc.schema import introspect
from ecc.schema import view as schema_view
from ecc.schema.model import SchemaModel

TYPES, PROPERTIES, MODULES = 500, 20, 5


def cpu_ms(fn: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return statistics.median(samples) * 1000


def generated() -> SchemaModel:
    return fake_schema.generated_schema(TYPES, PROPERTIES, MODULES)


def read_median(runs: int = 7) -> tuple[float, SchemaModel]:
    responder = schema_responder(generated())

    async def read() -> SchemaModel:
        return await introspect.read_schema(FakeClient(responder))

    model = asyncio.run(read())
    assert len(model.object_types) == TYPES and not model.problems
    samples = [timed(lambda: asyncio.run(read())) for _ in range(runs)]
    return median_ms(samples), model


def view_model_median(runs: int = 9) -> tuple[float, float, float, float]:
    rows = fake_schema.answers(generated())
    build = [timed(lambda: introspect.build_model(rows)) for _ in range(runs)]
    model = introspect.build_model(rows)
    assert len(model.object_types) == TYPES
    assert sum(len(t.pointers) for t in model.object_types) >= TYPES * PROPERTIES

    def views() -> None:
        everything = schema_view.build_view(model)
        assert len(everything.object_types) == TYPES
        searched = schema_view.build_view(model, search_text="Type01")
        assert 0 < len(searched.object_types) < TYPES
        schema_view.object_type_columns(everything.object_types)

    view = [timed(views) for _ in range(runs)]
    both = [b + v for b, v in zip(build, view, strict=True)]
    def build_and_view() -> None:
        introspect.build_model(rows)
        views()

    cpu = cpu_ms(build_and_view, runs)
    return median_ms(both), median_ms(build), median_ms(view), cpu


def render_median(runs: int = 9) -> tuple[float, float]:
    responder = schema_responder(generated())
    with fake_console(responder=responder) as at:
        at.run()
        at.toggle(key="show_schema").set_value(True).run()  # reads and caches the model
        assert not at.exception, at.exception
        table = next(df.value for df in at.dataframe if "type" in df.value.columns)
        assert len(table) == TYPES
        samples = [timed(at.run) for _ in range(runs)]
        cpu = cpu_ms(at.run, runs)
        assert not at.exception
        # the measured reruns drew the list: the 500-row table and one type's details
        table = next(df.value for df in at.dataframe if "type" in df.value.columns)
        assert len(table) == TYPES
        assert any("link properties" in df.value.columns for df in at.dataframe)
    return median_ms(samples), cpu


def dot_median(model: SchemaModel, module: str, runs: int = 9) -> float:
    dot = schema_view.module_graph(model, module)
    assert dot.count("[label=\"{") == sum(1 for t in model.object_types if t.module == module)
    return median_ms([timed(lambda: schema_view.module_graph(model, module))
                      for _ in range(runs)])


def dot_cpu(model: SchemaModel, module: str, runs: int = 9) -> float:
    return cpu_ms(lambda: schema_view.module_graph(model, module), runs)


def main() -> bool:
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores", flush=True)
    read_ms, model = read_median()
    report(f"read_schema of {TYPES} types x {PROPERTIES} properties via the fake, median",
           read_ms, "ms")
    both, build, view, cpu = view_model_median()
    ok = report("view model (rows -> model -> list view), median", both, "ms", 200)
    report("  of which rows -> model", build, "ms")
    report("  of which model -> view (all, searched, table rows)", view, "ms")
    report("  CPU time, median", cpu, "ms")
    render, render_cpu = render_median()
    ok &= report("list render (page rerun, explorer open, 500 types), median",
                 render / 1000, "s", 1)
    report("  CPU time, median", render_cpu / 1000, "s")
    ok &= report("graph DOT of one module (100 types), median",
                 dot_median(model, "m0"), "ms", 2000)
    report("  CPU time, median", dot_cpu(model, "m0"), "ms")
    one_module = fake_schema.generated_schema(TYPES, PROPERTIES, 1)
    report("graph DOT of one module holding all 500 types, median",
           dot_median(one_module, "m0"), "ms")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
