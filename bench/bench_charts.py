"""Charts on the page: a rerun with N results shown in the chart view (issue 18: with 9 or
more, every rerun rebuilt all of them when the per-run cache kept 8).

One submission of N tabs, each a 20 000-row result, in the chart view (AppTest), then plain
reruns of the page (what every keystroke pause or click costs): median ms per rerun, for
N = 8 and N = 20, and their ratio.
"""

from __future__ import annotations

import argparse

from bench.common import click_run, fake_console, median_ms, report, timed
from ecc.fake.client import demo_movies

ROWS = 20_000
QUERY = "select Movie {title, release_year, rating}"


def chart_rerun_median(results: int, runs: int) -> float:
    rows = demo_movies(ROWS)
    with fake_console(responder={QUERY: rows}) as at:
        at.session_state["tab_count"] = results
        for tab in range(results):
            at.session_state[f"q_text_{tab}"] = QUERY  # the editors' text (AppTest runs no JS)
        at.run()
        at.radio(key="pref_view").set_value("chart").run()
        click_run(at)
        assert len(at.get("vega_lite_chart")) == results and not at.exception
        at.run()  # the first rerun after the submission
        samples = [timed(at.run) for _ in range(runs)]
        assert len(at.get("vega_lite_chart")) == results and not at.exception
    return median_ms(samples)


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    eight = chart_rerun_median(8, args.runs)
    report(f"rerun with 8 charts of {ROWS:,} rows shown, median of {args.runs}", eight, "ms")
    twenty = chart_rerun_median(20, args.runs)
    report(f"rerun with 20 charts of {ROWS:,} rows shown, median of {args.runs}", twenty, "ms")
    print(f"ratio 20 / 8 charts: {twenty / eight:.2f} (2.5 if a rerun costs the same per chart)")
    return True


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
