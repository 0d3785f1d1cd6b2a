"""Archive inspection at scale: `archive ls`, `tree`, `best` and one parent selection on synthetic
runs of 10,000 and 100,000 agents.

The runs are made by the project's own store code (`RunStore.create`, then the agent and
evaluation rows batched through `dgm.archive.db` in one transaction: the same schema a real run
has). Each agent looks like one the loop writes: two children per generation, parents drawn from
earlier generations, about 10% invalid, a first stage of 10 tasks and a second of 50 above 40%, flags
from self-improvement, and 10 evaluation rows. Timed: the functions behind the commands, the CLI
end to end (a subprocess, output to /dev/null), and `score_child_prop` selecting 2 parents from
`store.summary()`; wall and CPU seconds, best of --repeats. Peak memory: tracemalloc for the
in-process steps, the CLI process's own peak RSS (VmHWM) for the CLI.

Goals: `ls` and `best` under 1 s at 100,000 agents with peak memory under 300 MB; selection
under 0.1 s.

Usage: .venv/bin/python bench/archive_scale.py [--sizes 10000,100000] [--repeats 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from dgm.archive import db as dbmod  # noqa: E402
from dgm.archive.ids import SEED_ID, agent_id  # noqa: E402
from dgm.archive.records import StageScore  # noqa: E402
from dgm.archive.store import DB_FILE, RunStore  # noqa: E402

TASKS = [f"task-{i:03d}" for i in range(60)]
KINDS = ("solve_empty_patches", "solve_context_length", "task_failure", "no_failures")


def build_run(run_dir: Path, size: int, seed: int = 0) -> None:
    """A finished-looking run of `size` agents (seed included)."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="dgm-bench-seed-") as tmp:
        (Path(tmp) / "main.py").write_text("print('seed')\n")
        with RunStore.create(run_dir, {"run": {"name": run_dir.name}}, Path(tmp)) as store:
            store.set_scores(SEED_ID, [StageScore(2, 10)])
            commit = store.agent(SEED_ID).commit
    agents, evaluations = [], []
    parents, newborn = [SEED_ID], []  # parents come from earlier generations only, as in the loop
    now = time.time()
    for index in range(1, size):
        generation, slot = (index + 1) // 2, (index + 1) % 2
        if slot == 0:
            parents += newborn
            newborn = []
        child = agent_id(generation, slot)
        parent = rng.choice(parents)
        valid = rng.random() > 0.1
        flags = {"exit_reason": rng.choice(("finished", "step_limit")), "steps": rng.randint(3, 50),
                 "diagnosis": {"kind": rng.choice(KINDS), "task_id": rng.choice(TASKS)}}
        stages, score = [], None
        if valid:
            first = rng.randint(0, 10)
            stages.append({"resolved": first, "total": 10})
            if first >= 4:
                stages.append({"resolved": rng.randint(0, 50), "total": 50})
            score = sum(s["resolved"] for s in stages) / sum(s["total"] for s in stages)
            evaluations += [(child, task, 0, rng.choice(("resolved", "unresolved")), 30.0, 5000, 0.01,
                             f"agents/{child}/eval/{task}") for task in TASKS[:10]]
            newborn.append(child)
        agents.append((child, parent, generation, slot, commit, "self_improve",
                       "evaluated" if valid else "invalid", None if valid else "empty patch: no file changed",
                       int(valid), json.dumps(stages), score, rng.random(), rng.randint(10_000, 500_000),
                       json.dumps(flags), now + index))
    conn = dbmod.connect(run_dir / DB_FILE, readonly=False)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO agents (id, parent_id, generation, slot, commit_sha, origin, status, invalid_reason, "
            "admitted, scores, score, cost, tokens, flags, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            agents)
        conn.executemany(
            "INSERT INTO evaluations (agent_id, task_id, stage, status, duration, tokens, cost, artifact_dir) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", evaluations)
        conn.execute("COMMIT")
    finally:
        conn.close()


# Runs the CLI and reports its own peak RSS (VmHWM belongs to the process's memory map, unlike
# ru_maxrss, which a child inherits from the large bench process that forked it).
_CLI = """
import sys
from dgm.cli import main
try:
    code = main(sys.argv[1:])
finally:
    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]
    sys.stderr.write(f'VmHWM {peak}\\n')
sys.exit(code)
"""


def cli(args: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MB) of `dgm archive ...` end to end in a fresh
    interpreter, output discarded."""
    started = time.perf_counter()
    with open(os.devnull, "w") as sink, tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen([sys.executable, "-c", _CLI, "archive", *args], stdout=sink, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read()
    if process.returncode != 0:
        raise SystemExit(f"dgm archive {' '.join(args)} failed: {stderr[-500:]}")
    peak_kb = int(stderr.rsplit("VmHWM ", 1)[1].split()[0])
    return elapsed, usage.ru_utime + usage.ru_stime, peak_kb / 1024


def timed(work: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Best-of-`repeats` (wall, CPU) seconds. The machine is shared: the minimum is the least
    disturbed run, and CPU time is what the work costs whatever else is running."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu


def peak_mb(work: Callable[[], Any]) -> float:
    """Peak Python heap of one call (tracemalloc: slows the call, so timed separately)."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bench(run_dir: Path, repeats: int) -> list[tuple[str, float, float, float]]:
    from dgm.commands import archive
    from dgm.selection import get_policy

    def summary() -> Any:
        with RunStore.open(run_dir, readonly=True) as store:
            return store.summary()

    built = summary()
    policy = get_policy("score_child_prop")
    # (label, work, as the CLI runs it: `dgm archive` switches the cyclic GC off; the loop does not)
    steps: list[tuple[str, Callable[[], Any], bool]] = [
        ("ls (agent_rows)", lambda: archive.agent_rows(run_dir), True),
        ("ls --sort score", lambda: archive.agent_rows(run_dir, sort="score"), True),
        ("tree (tree_text)", lambda: archive.tree_text(run_dir), True),
        ("best (best_data)", lambda: archive.best_data(run_dir), True),
        ("store.summary()", summary, False),
        ("select 2 parents (score_child_prop)", lambda: policy.select(built, 2, random.Random(0)), False),
    ]
    figures = []
    for label, work, gc_off in steps:
        if gc_off:
            gc.disable()
        try:
            wall, cpu = timed(work, repeats)
            figures.append((label, wall, cpu, peak_mb(work)))
        finally:
            gc.enable()
    for args in (["ls", str(run_dir)], ["ls", str(run_dir), "--json"], ["tree", str(run_dir)],
                 ["best", str(run_dir), "--json"]):
        runs = [cli(args) for _ in range(repeats)]
        figures.append((f"CLI dgm archive {args[0]}{' --json' if '--json' in args else ''}",
                        min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated agent counts")
    parser.add_argument("--repeats", type=int, default=3, help="timings are the best of this many runs")
    parser.add_argument("--keep", type=Path, help="build the runs here and keep them (reused when present)")
    args = parser.parse_args()
    holder = args.keep or Path(tempfile.mkdtemp(prefix="dgm-bench-archive-"))
    load = os.getloadavg()[0]
    print(f"archive scale benchmark (python {sys.version.split()[0]}, {os.cpu_count()} cpus, load {load:.1f})")
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            run_dir = holder / f"run-{size}"
            if not (run_dir / DB_FILE).exists():
                started = time.perf_counter()
                build_run(run_dir, size)
                print(f"\n{size:,} agents: built in {time.perf_counter() - started:.1f} s "
                      f"({(run_dir / DB_FILE).stat().st_size / 2**20:.0f} MB run.db)")
            else:
                print(f"\n{size:,} agents: reusing {run_dir}")
            print(f"  {'step':<40} {'wall s':>8} {'CPU s':>8} {'peak MB':>9}   "
                  "(in-process: tracemalloc heap; CLI: the process's peak RSS)")
            for label, wall, cpu, peak in bench(run_dir, args.repeats):
                print(f"  {label:<40} {wall:8.3f} {cpu:8.3f} {peak:9.1f}")
    finally:
        if args.keep is None:
            import shutil

            shutil.rmtree(holder, ignore_errors=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
