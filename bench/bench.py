"""mllab's benchmark: measures, side by side in one run, what a learner and an instructor wait for.

    python bench/bench.py            # everything (about 5 minutes on 2 cores)
    python bench/bench.py --quick    # fewer repeats and copies (about 2 minutes)

Prints one table with each measurement, its target and the ratio to it; docs/performance.md
explains the rows and holds the numbers of a reference run.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from first_frame import first_frame  # noqa: E402
from lab_waits import HUNG_TIMEOUT, first_verdict, hung_function  # noqa: E402
from plot_rate import plot_rate  # noqa: E402

from mllab.catalog import load_catalog  # noqa: E402
from mllab.paths import course_dirs  # noqa: E402
from mllab.runner import GraderRun, RunRequest  # noqa: E402
from mllab.warm import WarmGrader  # noqa: E402
from mllab.widgets.watcher import DEBOUNCE_MS, STEP_MS  # noqa: E402 - the lab's settings

SAVE_EVERY = 1.0  # seconds between one verdict and the next save: a brisk learner
# Exercises without training: scikit-learn as the oracle, and torch with autograd.
EXERCISES = ("evaluation", "activations_losses")


noticed: list[float] = []  # seconds from each save to the watcher's event


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def save_to_verdict(
    workspace: Path, exercise: str, runs: int, warm: WarmGrader | None
) -> list[float]:
    """Seconds from writing the learner's file to the run's report, through a file watcher set
    as the lab's, `runs` times."""
    from watchfiles import watch

    relative = load_catalog(course_dirs().catalog).get(exercise).path
    target = workspace / relative
    source = (course_dirs().solutions / relative).read_text(encoding="utf-8")
    changes: queue.Queue[float] = queue.Queue()
    stop = threading.Event()

    def watcher() -> None:
        for batch in watch(
            target.parent, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop, recursive=False
        ):
            if any(Path(path).name == target.name for _, path in batch):
                changes.put(time.perf_counter())

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    time.sleep(0.5)
    times: list[float] = []
    for number in range(runs):
        saved = time.perf_counter()
        target.write_text(f"{source}\n# save {number}\n", encoding="utf-8")
        noticed.append(changes.get(timeout=30) - saved)
        request = RunRequest(workspace=workspace, exercises=(exercise,), device="cpu")
        report = GraderRun(request, warm=warm).run()
        times.append(time.perf_counter() - saved)
        assert report.exercises[0].score == report.exercises[0].max_score, "solution failed"
        time.sleep(SAVE_EVERY)
    stop.set()
    return times


def whole_course(warm: WarmGrader | None) -> tuple[float, str]:
    dirs = course_dirs()
    request = RunRequest(workspace=dirs.solutions, device="cpu")
    started = time.perf_counter()
    report = GraderRun(request, dirs, warm=warm).run()
    seconds = time.perf_counter() - started
    return seconds, f"{report.score:g}/{report.max_score:g} points"


def grade_copies(copies: int, jobs: int, folder: Path) -> float:
    out = folder / f"out-{jobs}"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mllab", "grade", *map(str, sorted(folder.glob("s*"))),
         "--exercise", "perceptron", "--out", str(out), "--jobs", str(jobs), "--seed", "7"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"mllab grade failed: {result.stderr[-2000:]}")
    graded = (out / "gradebook.csv").read_text(encoding="utf-8").count(",graded,")
    assert graded == copies, f"{graded} of {copies} graded"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and copies")
    parser.add_argument(
        "--lab-waits", action="store_true", help="only the first verdict and the hung function"
    )
    args = parser.parse_args()
    cold_runs, warm_runs, copies = (3, 10, 10) if args.quick else (7, 30, 50)
    console = Console(width=110)
    rows: list[tuple[str, str, str, str]] = []

    def row(what: str, value: str, target: str, verdict: str) -> None:
        rows.append((what, value, target, verdict))
        console.print(f"  {what}: {value}")

    dirs = course_dirs()
    scratch = Path(tempfile.mkdtemp(prefix="mllab-bench-"))
    try:
        workspace = scratch / "ws"
        shutil.copytree(dirs.solutions, workspace)
        console.print("[bold]first verdict after launch, perceptron[/]")
        lab, cold = first_verdict(workspace, "perceptron")
        row("first verdict after launch (lab, warm grader starting)", f"{lab:.1f} s",
            "<= cold check", f"{lab / cold:.2f}x of a cold check ({cold:.1f} s)")  # fmt: skip
        console.print("[bold]a function that never returns, perceptron[/]")
        seconds, failed, waited = hung_function(workspace)
        row(f"infinite loop in predict, {HUNG_TIMEOUT:g} s limit a call", f"{seconds:.1f} s",
            "one timeout a function",
            f"{failed} checks failed, {waited} waited a limit")  # fmt: skip
        if args.lab_waits:
            return print_table(console, rows)
        console.print("[bold]starting a warm grader[/]")
        warm = WarmGrader(dirs).start()
        started = time.perf_counter()
        if not warm.wait_ready(180):
            raise SystemExit("the warm grader did not get ready in 180 s")
        row("warm grader ready after", f"{time.perf_counter() - started:.1f} s", "-", "-")

        for exercise in EXERCISES:
            console.print(
                f"[bold]save to verdict, {exercise}[/] ({cold_runs} cold, {warm_runs} warm)"
            )
            cold = save_to_verdict(workspace, exercise, cold_runs, None)
            hot = save_to_verdict(workspace, exercise, warm_runs, warm)
            speedup = statistics.median(cold) / statistics.median(hot)
            row(f"{exercise}: cold save-to-verdict, median / p95",
                f"{statistics.median(cold):.2f} s / {p95(cold):.2f} s", "-", "-")  # fmt: skip
            row(f"{exercise}: warm save-to-verdict, median / p95",
                f"{statistics.median(hot):.3f} s / {p95(hot):.3f} s", "< 0.3 s median",
                f"{statistics.median(hot) / 0.3:.2f}x of target")  # fmt: skip
            row(f"{exercise}: warm vs cold (medians)", f"{speedup:.1f}x faster", ">= 5x",
                f"{speedup / 5:.1f}x")  # fmt: skip

        row("of which: save to the watcher's event, median",
            f"{statistics.median(noticed) * 1000:.0f} ms", "-", "-")  # fmt: skip

        console.print("[bold]whole course on the solutions[/]")
        for kind, grader in (("cold", None), ("warm", warm)):
            seconds, score = whole_course(grader)
            row(f"course, {kind} run ({score})", f"{seconds:.1f} s", "< 120 s",
                f"{seconds / 120:.2f}x of target")  # fmt: skip
        warm.close()

        console.print(f"[bold]grading {copies} copies of a submission[/]")
        solution = dirs.solutions / load_catalog(dirs.catalog).get("perceptron").path
        for number in range(copies):
            copy = scratch / f"s{number:03d}" / "perceptron"
            copy.mkdir(parents=True)
            shutil.copy(solution, copy)
        one = grade_copies(copies, 1, scratch)
        two = grade_copies(copies, 2, scratch)
        row(f"grade {copies}, --jobs 1", f"{one:.1f} s ({one / copies:.2f} s each)", "-", "-")
        row(f"grade {copies}, --jobs 2", f"{two:.1f} s ({two / copies:.2f} s each)", "-", "-")
        row("--jobs 2 vs --jobs 1", f"{one / two:.2f}x faster", "-", "-")

        console.print("[bold]the lab's first frame[/]")
        frame = first_frame(scratch / "lab")
        row("app start to first frame", f"{frame.seconds:.2f} s", "< 1 s",
            f"{frame.seconds:.2f}x of target")  # fmt: skip
        row("app resident memory at first frame", f"{frame.rss_mb:.0f} MB", "< 150 MB",
            f"{frame.rss_mb / 150:.2f}x of target")  # fmt: skip
        row("app resident memory, warm grader up", f"{frame.rss_later_mb:.0f} MB", "< 150 MB",
            f"{frame.rss_later_mb / 150:.2f}x of target")  # fmt: skip
        row("warm grader processes, proportional memory", f"{frame.grader_mb:.0f} MB", "-", "-")

        console.print("[bold]live plot at 1,000 metrics a second[/]")
        plot = plot_rate()
        row("metrics a second (training alone)", f"{plot.rate:.0f}", ">= 1,000", "-")
        row("metrics plotted / sent", f"{plot.shown} / {plot.sent}", "all", "-")
        row("plot lag after the last metric", f"{plot.lag:.3f} s", "-", "-")
        row("training slowed by plotting", f"{plot.slowdown:+.1%}", "< 5%",
            f"{plot.slowdown / 0.05:.2f}x of target")  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print_table(console, rows)


def print_table(console: Console, rows: list[tuple[str, str, str, str]]) -> None:
    table = Table(title=f"mllab benchmark · {platform.machine()}, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}")  # fmt: skip
    for column in ("measurement", "value", "target", "vs target"):
        table.add_column(column)
    for what, value, target, verdict in rows:
        table.add_row(what, value, target, verdict)
    console.print(table)


if __name__ == "__main__":
    main()
