"""Plans and charts: a 5 000-node analyze answer to its model (target <= 200 ms), and a chart
of a 10 000-row result built and drawn (target <= 1 s).

- plan model: ``read_plan`` of the JSON text (coarse and fine trees, 5 000 nodes each);
- plan views: flame rectangles + Vega-Lite spec + tree table of the fine tree;
- chart spec: ``chart_model`` + defaults + ``chart_spec`` of 10 000 objects, JSON-encoded as
  the page sends it;
- chart render: the page's runs (AppTest) drawing that chart in the chart view: the submission
  that fetches it, a rerun, and switching its chart type; and a submission drawing a
  5 000-node plan.
"""

from __future__ import annotations

import json
import time

from bench.common import click_run, fake_console, median_ms, report, timed
from ecc.display import charts, plans
from ecc.display.results import shape_result
from ecc.driver.client import QueryMethod
from ecc.fake.client import demo_movies, synthetic_plan_json

NODES = 5_000
CHART_ROWS = 10_000


def plan_model_median(runs: int = 15) -> tuple[float, float]:
    text = synthetic_plan_json(NODES)
    plan = plans.read_plan(text)
    assert isinstance(plan, plans.QueryPlan) and len(plan.fine.nodes) == NODES

    def views() -> None:
        assert isinstance(plan, plans.QueryPlan)
        json.dumps(plans.flame_spec(plans.flame_rects(plan.fine), icicle=False))
        plans.tree_table(plan.fine)

    model = [timed(lambda: plans.read_plan(text)) for _ in range(runs)]
    drawn = [timed(views) for _ in range(runs)]
    return median_ms(model), median_ms(drawn)


def plan_model_cpu_median(runs: int = 15) -> float:
    """The same read in CPU time: on a machine shared with other work, wall time also
    counts the time this process waited for a core."""
    text = synthetic_plan_json(NODES)
    samples = []
    for _ in range(runs):
        start = time.process_time()
        plans.read_plan(text)
        samples.append(time.process_time() - start)
    return median_ms(samples)


def chart_spec_median(runs: int = 15) -> float:
    result = shape_result(demo_movies(CHART_ROWS), QueryMethod.QUERY, CHART_ROWS)

    def build() -> None:
        model = charts.chart_model(result)
        choice = charts.default_choice(model)
        assert choice is not None and model.charted_rows == CHART_ROWS
        json.dumps(charts.chart_spec(model, choice))

    return median_ms([timed(build) for _ in range(runs)])


def chart_render_medians(runs: int = 10) -> tuple[float, float, float]:
    """(submission drawing the chart, rerun, switching the chart type), medians in ms."""
    rows = demo_movies(CHART_ROWS)
    query = "select Movie {title, release_year, rating}"
    with fake_console(responder={query: rows}) as at:
        at.run()
        at.radio(key="pref_view").set_value("chart").run()
        at.session_state["q_text_0"] = query  # the editor's text (AppTest runs no JS)
        click_run(at)
        assert len(at.get("vega_lite_chart")) == 1 and not at.exception
        first = [timed(lambda: click_run(at)) for _ in range(runs)]
        reruns = [timed(at.run) for _ in range(runs)]
        key = f"chart_{len(first) + 1}_type"
        switches = []
        for i in range(runs):
            picker = at.selectbox(key=key).set_value("line" if i % 2 else "scatter")
            switches.append(timed(picker.run))
        assert len(at.get("vega_lite_chart")) == 1 and not at.exception
    return median_ms(first), median_ms(reruns), median_ms(switches)


def plan_page_median(runs: int = 10) -> float:
    query = "analyze select T0"
    with fake_console(responder={query: [synthetic_plan_json(NODES)]}) as at:
        at.run()
        at.session_state["q_text_0"] = query  # the editor's text (AppTest runs no JS)
        samples = [timed(lambda: click_run(at)) for _ in range(runs)]
        assert len(at.get("vega_lite_chart")) == 1 and not at.exception
    return median_ms(samples)


def main() -> bool:
    model_ms, views_ms = plan_model_median()
    ok = report(f"{NODES:,}-node plan to its model (JSON text parsed once), median",
                model_ms, "ms", 200)
    report(f"{NODES:,}-node plan to its model, CPU time, median", plan_model_cpu_median(), "ms")
    report(f"{NODES:,}-node plan: flame spec + tree table, median", views_ms, "ms")
    ok &= report(f"chart spec of {CHART_ROWS:,} rows (model, defaults, JSON), median",
                 chart_spec_median(), "ms", 1000)
    first, rerun, switch = chart_render_medians()
    ok &= report(f"submission drawing a chart of {CHART_ROWS:,} rows (page run), median",
                 first, "ms", 1000)
    ok &= report("rerun showing that chart, median", rerun, "ms", 1000)
    ok &= report("switching its chart type (page run), median", switch, "ms", 1000)
    report(f"submission drawing a {NODES:,}-node plan (page run), median",
           plan_page_median(), "ms")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
