"""Evaluation throughput: tasks per minute at 1, 2, 4 and 8 workers.

Each task is solved by the seed agent against the scripted model with a fixed latency per call
(`--calls` calls: a tool call, then a final answer) and graded in a fresh sandbox, exactly as
`dgm eval` does. When model latency dominates, W workers should approach a W-fold speed-up; the
goal is >= 5x at 8 workers. Tasks are the first N of the built-in `mini` suite.

    .venv/bin/python bench/eval_throughput.py [--tasks 16] [--latency 5] [--workers 1,2,4,8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REPO = Path(__file__).resolve().parents[1]
SEED_AGENT = REPO / "agents" / "seed_agent"


def script_text(latency: float, calls: int) -> str:
    tool_turns = max(calls - 1, 0)
    rules = [f"  - {{times: {tool_turns}, reply: {{tool_calls: [{{name: bash, arguments: {{command: 'ls'}}}}]}}}}"] \
        if tool_turns else []
    rules.append("  - {reply: {content: 'Done.'}}")
    return f"latency_seconds: {latency}\nrules:\n" + "\n".join(rules) + "\n"


def measure(workers: int, tasks: list, script: Path, root: Path) -> float:
    from dgm.config import validate
    from dgm.evaluation.runner import EvalContext, evaluate_tasks
    from dgm.llm import Gateway, LLMService
    from dgm.sandbox.prune import prune

    config = validate({"llm": {"model": "scripted", "script": str(script)},
                       "evaluation": {"workers": workers, "infra_retries": 0}}, "bench")
    run = f"bench-eval-w{workers}-{os.getpid()}"
    out = root / f"w{workers}"
    try:
        with LLMService(config, out / "llm.db") as llm, Gateway(llm) as gateway:
            ctx = EvalContext(config=config, gateway=gateway, run=run, agent=f"bench-w{workers}", out_dir=out)
            started = time.monotonic()
            results = evaluate_tasks(SEED_AGENT, tasks, ctx)
            elapsed = time.monotonic() - started
    finally:
        prune(run=run)
    broken = [r for r in results if r.status in ("infra_error", "agent_error")]
    if broken:
        sys.exit(f"W={workers}: {len(broken)} task(s) failed to run, e.g. {broken[0].task_id}: {broken[0].reason}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--latency", type=float, default=5.0, help="seconds per model call")
    parser.add_argument("--calls", type=int, default=2, help="model calls per task")
    parser.add_argument("--workers", default="1,2,4,8")
    args = parser.parse_args()

    from dgm import log
    from dgm.benchmarks import load_suite
    from dgm.config import BenchmarkConfig

    log.configure(level="warning")
    tasks = load_suite(BenchmarkConfig(name="mini"))[:args.tasks]
    counts = [int(w) for w in args.workers.split(",")]
    print(f"{len(tasks)} mini tasks, seed agent, scripted model: {args.calls} call(s) of {args.latency:g}s per task")
    print(f"{'workers':>7}  {'seconds':>8}  {'tasks/min':>9}  {'speed-up':>8}")
    with tempfile.TemporaryDirectory(prefix="dgm-bench-eval-") as tmp:
        root = Path(tmp)
        script = root / "script.yaml"
        script.write_text(script_text(args.latency, args.calls))
        baseline = None
        for workers in counts:
            elapsed = measure(workers, tasks, script, root)
            baseline = baseline or elapsed
            print(f"{workers:>7}  {elapsed:>8.1f}  {len(tasks) * 60 / elapsed:>9.1f}  {baseline / elapsed:>7.2f}x",
                  flush=True)


if __name__ == "__main__":
    main()
