"""Page speed while typing in the editor, with AppTest and the fake client.

Each sample is one page run after a debounced pause in typing: the text changed (a new text,
so its parameters are re-read and the fake server describes it once), the typed inputs and
the editor's data are rebuilt. Target: median <= 30 ms. Also printed: a rerun where the
text did not change (another widget moved), which reuses the cached description.
"""

from __future__ import annotations

import functools

from bench.common import fake_console, median_ms, report, timed

BASE = "select Movie { title, release_year } filter .release_year > <int64>$year"


def typing_rerun_median(runs: int = 40) -> float:
    with fake_console(latency_s=0.0005) as at:
        at.run()
        at.session_state["q_text_0"] = BASE
        at.run()  # warm: session, loop, client, imports, completion data
        assert not at.exception and at.text_input(key="p_0_year")

        def keystroke_pause(i: int) -> None:
            at.session_state["q_text_0"] = f"{BASE} and .title = <str>$t{i}"
            at.run()

        samples = [timed(functools.partial(keystroke_pause, i)) for i in range(runs)]
        assert not at.exception
        assert at.text_input(key=f"p_0_t{runs - 1}")  # the last text's input is there
    return median_ms(samples)


def unchanged_rerun_median(runs: int = 40) -> float:
    with fake_console(latency_s=0.0005) as at:
        at.run()
        at.session_state["q_text_0"] = BASE
        at.run()
        samples = [timed(at.run) for _ in range(runs)]
        assert not at.exception and at.text_input(key="p_0_year")
    return median_ms(samples)


def main() -> bool:
    ok = report("page rerun while typing (text changed, parameters re-read), median",
                typing_rerun_median(), "ms", 30)
    report("page rerun, text unchanged, median", unchanged_rerun_median(), "ms")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
