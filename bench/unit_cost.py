"""Cost of one unit of work: solve-and-grade of a trivial task, against two bare container runs.

A unit of the async schedule (and every task of a generational run) is one solve sandbox and one
grade sandbox. With no model latency, what is left is the framework's own cost: container
set-up, the files that go in and out, git baseline and diff, the agent's start, the grader's
steps. This script measures, alternately in one process, the median of
  - two bare `docker run --rm IMAGE true` (the floor: two containers, nothing else), and
  - `evaluate_task` on one `mini` task, the seed agent against the scripted model answering at
    once with "Done." (an empty patch: solving and grading both run in full),
and counts the sandbox round trips (container create, each write / exec / read, close) of the
solve and the grade side. It ends with `ratio R` (unit / two bare runs; goal <= 1.5).

    .venv/bin/python bench/unit_cost.py [--rounds 7] [--task csv-quoted-fields]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REPO = Path(__file__).resolve().parents[1]
SEED_AGENT = REPO / "agents" / "seed_agent"
COUNTED = ("_start", "write", "exec", "read", "read_dir", "close")


def count_round_trips() -> tuple[Counter, Counter]:
    """Wrap the sandbox's I/O methods; the live counters of calls and seconds, by (role, method)."""
    from dgm.sandbox.docker_backend import DockerSandbox

    counts: Counter = Counter()
    seconds: Counter = Counter()
    for name in COUNTED:
        original = getattr(DockerSandbox, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            counts[(self.labels["dgm.role"], _name)] += 1
            started = time.monotonic()
            try:
                return _original(self, *args, **kwargs)
            finally:
                seconds[(self.labels["dgm.role"], _name)] += time.monotonic() - started

        setattr(DockerSandbox, name, counted)
    return counts, seconds


def bare_pair(image: str) -> float:
    started = time.monotonic()
    for _ in range(2):
        subprocess.run(["docker", "run", "--rm", "--network", "none", image, "true"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--task", default="csv-quoted-fields")
    args = parser.parse_args()

    from dgm import log
    from dgm.benchmarks import load_suite, select
    from dgm.config import BenchmarkConfig, validate
    from dgm.evaluation.runner import EvalContext, evaluate_tasks
    from dgm.llm import Gateway, LLMService
    from dgm.sandbox.image import current_tag
    from dgm.sandbox.prune import prune

    log.configure(level="warning")
    task = select(load_suite(BenchmarkConfig(name="mini")), [args.task])
    counts, seconds = count_round_trips()
    bare, unit = [], []
    with tempfile.TemporaryDirectory(prefix="dgm-bench-unit-") as tmp:
        root = Path(tmp)
        script = root / "script.yaml"
        script.write_text("rules:\n  - {reply: {content: 'Done.'}}\n")
        config = validate({"llm": {"model": "scripted", "script": str(script)},
                           "evaluation": {"workers": 1, "infra_retries": 0}}, "bench")
        image = config.sandbox.image or current_tag()
        run = f"bench-unit-{os.getpid()}"
        try:
            with LLMService(config, root / "llm.db") as llm, Gateway(llm) as gateway:
                for number in range(args.rounds + 1):       # round 0 warms caches, not counted
                    pair = bare_pair(image)
                    ctx = EvalContext(config=config, gateway=gateway, run=run, agent=f"bench-{number}",
                                      out_dir=root / f"r{number}")
                    before, spent_before = Counter(counts), Counter(seconds)
                    started = time.monotonic()
                    [result] = evaluate_tasks(SEED_AGENT, task, ctx)
                    elapsed = time.monotonic() - started
                    if result.status in ("infra_error", "agent_error"):
                        raise SystemExit(f"the task did not run: {result.status}: {result.reason}")
                    if number:
                        bare.append(pair)
                        unit.append(elapsed)
                        trips, spent = counts - before, seconds - spent_before
        finally:
            prune(run=run)
    for role in sorted({role for role, _ in trips}):
        parts = {name.strip("_"): trips[(role, name)] for name in COUNTED if trips[(role, name)]}
        print(f"{role:>6} round trips: {sum(parts.values())}  " + " ".join(f"{k}={v}" for k, v in parts.items())
              + "  (last round, s: " + " ".join(f"{name.strip('_')}={spent[(role, name)]:.3f}" for name in COUNTED
                                             if trips[(role, name)]) + ")")
    b, u = statistics.median(bare), statistics.median(unit)
    print(f"median of {args.rounds}: two bare runs {b:.3f} s, solve-and-grade {u:.3f} s")
    print(f"ratio {u / b:.2f}")


if __name__ == "__main__":
    main()
