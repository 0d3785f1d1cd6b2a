"""Framework overhead of the Darwin loop, and the driver's memory over many generations.

A zero-latency scripted model and one trivial task make the sandboxes the only real work. For each
generation we compare its wall time with the sum of its sandboxes' lifetimes divided by the
workers: the difference is what the framework itself costs (goal: <= 10%). The driver's resident
memory is read after the first and after the last generation (goal: grows by < 50 MB over 50).

    .venv/bin/python bench/loop_overhead.py [--generations 50] [--workers 2] 2>/dev/null
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

TASK = {
    "task.yaml": "id: trivial\nexpected_tests: [tests/test_ok.py::test_ok]\ntimeouts: {solve: 60, test: 30}\n",
    "problem.md": "Nothing to do.\n",
    "workspace/app.py": "VALUE = 1\n",
    "tests/test_ok.py": "from app import VALUE\n\n\ndef test_ok():\n    assert VALUE == 1\n",
}
DIAGNOSIS = {field: "keep notes" for field in ("log_summarization", "potential_improvements", "improvement_proposal",
                                               "implementation_suggestion", "problem_description")}
SCRIPT = {"rules": [
    {"role": "diagnose", "reply": {"content": json.dumps(DIAGNOSIS)}},
    {"role": "self_improve", "times": 1, "reply": {"tool_calls": [
        {"name": "bash", "arguments": {"command": "echo note >> NOTES.md"}}]}},
    {"role": "self_improve", "reply": {"content": "Done."}},
    {"role": "solve", "reply": {"content": "Done."}},
]}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from dgm import config as configmod
    from dgm.archive.store import RunStore
    from dgm.loop import runner, session
    from dgm.sandbox import docker_backend

    lifetimes: list[tuple[float, float]] = []
    lock = threading.Lock()
    original_init, original_close = docker_backend.DockerSandbox.__init__, docker_backend.DockerSandbox.close

    def timed_init(self, *a, **kw):
        self._bench_started = time.time()
        original_init(self, *a, **kw)

    def timed_close(self):
        started = getattr(self, "_bench_started", None)
        original_close(self)
        if started is not None:
            with lock:
                lifetimes.append((started, time.time()))
            self._bench_started = None

    docker_backend.DockerSandbox.__init__, docker_backend.DockerSandbox.close = timed_init, timed_close

    memory: dict[int, float] = {}
    original_generation = runner.Runner._run_generation

    def measured_generation(self, generation):
        original_generation(self, generation)
        memory[generation] = rss_mb()

    runner.Runner._run_generation = measured_generation

    with tempfile.TemporaryDirectory(prefix="dgm-bench-") as tmp:
        tasks = Path(tmp) / "tasks" / "trivial"
        for name, text in TASK.items():
            (tasks / name).parent.mkdir(parents=True, exist_ok=True)
            (tasks / name).write_text(text)
        script = Path(tmp) / "script.yaml"
        script.write_text(yaml.safe_dump(SCRIPT))
        config = configmod.load(None, [
            "llm.model=scripted", f"llm.script={script}", f"loop.generations={args.generations}",
            "loop.children_per_generation=2", f"loop.workers={args.workers}", "evaluation.stages=[{size: 1}]",
            "evaluation.benchmark.name=mini", f"evaluation.benchmark.path={tasks.parent}", "evaluation.workers=1",
        ])
        run_dir = Path(tmp) / "run"
        session.start(config, run_dir)
        with RunStore.open(run_dir, readonly=True) as store:
            planned = {e.payload["generation"]: e.ts for e in store.events(kind="generation_planned")}
            finished = {e.payload["generation"]: e.ts for e in store.events(kind="generation_finished")}

    overheads = []
    for generation in sorted(finished):
        start, end = planned[generation], finished[generation]
        busy = sum(min(b, end) - max(a, start) for a, b in lifetimes if b > start and a < end)
        ideal = busy / args.workers
        overheads.append((end - start) / ideal - 1 if ideal > 0 else float("nan"))
    print(f"generations: {len(finished)}, workers: {args.workers}, sandboxes: {len(lifetimes)}")
    print(f"framework overhead per generation (wall / (sandbox time / workers) - 1): "
          f"median {statistics.median(overheads):.1%}, p90 {sorted(overheads)[int(0.9 * (len(overheads) - 1))]:.1%}")
    first, last = memory[min(memory)], memory[max(memory)]
    print(f"driver RSS after generation 1: {first:.1f} MB, after generation {max(memory)}: {last:.1f} MB, "
          f"growth {last - first:+.1f} MB")


if __name__ == "__main__":
    main()
