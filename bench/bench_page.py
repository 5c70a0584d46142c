"""Page speed with AppTest and the fake client.

- a submission of one query returning 10 objects (fake latency 1 ms) on a warm session:
  median script run (target <= 25 ms);
- a rerun of the page showing a 100-row result (target <= 50 ms).
"""

from __future__ import annotations

from bench.common import click_run, fake_console, median_ms, report, timed
from ecc.fake.client import demo_movies


def submission_median(runs: int = 30) -> float:
    with fake_console(latency_s=0.001) as at:
        at.run()
        at.session_state["q_text_0"] = "select Movie {title, release_year, rating}"
        click_run(at)  # warm: session, loop, client, imports
        assert len(at.dataframe[0].value) == 10 and not at.exception
        samples = [timed(lambda: click_run(at)) for _ in range(runs)]
        assert len(at.dataframe[0].value) == 10
    return median_ms(samples)


def rerun_median_100_rows(runs: int = 30) -> float:
    rows = demo_movies(100)
    with fake_console(latency_s=0.001, responder={"select Movie {title}": rows}) as at:
        at.run()
        at.session_state["q_text_0"] = "select Movie {title}"
        click_run(at)
        assert len(at.dataframe[0].value) == 100 and not at.exception
        samples = [timed(at.run) for _ in range(runs)]
        assert len(at.dataframe[0].value) == 100
    return median_ms(samples)


def main() -> bool:
    ok = report("submission of 1 query x 10 objects, median script run",
                submission_median(), "ms", 25)
    ok &= report("rerun showing a 100-row result, median", rerun_median_100_rows(), "ms", 50)
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
