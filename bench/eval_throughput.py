"""Evaluation throughput: tasks per minute at 1, 2, 4 and 8 workers.

Each task is solved by the seed agent against the scripted model with a fixed latency per call
(`--calls` calls: tool calls, then a final answer) and graded in a fresh sandbox, exactly as
`dgm eval` does. When model latency dominates, W workers should approach a W-fold speed-up; the
goal is >= 5x at 8 workers. Each W runs `--rounds` rounds of W tasks (at least 4 tasks), taken
from the built-in `mini` suite; the speed-up is the ratio of tasks per minute to W = 1's.

    .venv/bin/python bench/eval_throughput.py [--calls 6] [--latency 4] [--rounds 2] [--workers 1,2,4,8]
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
    parser.add_argument("--rounds", type=int, default=2, help="rounds of W tasks per worker count")
    parser.add_argument("--latency", type=float, default=4.0, help="seconds per model call")
    parser.add_argument("--calls", type=int, default=6, help="model calls per task")
    parser.add_argument("--workers", default="1,2,4,8")
    args = parser.parse_args()

    from dgm import log
    from dgm.benchmarks import load_suite
    from dgm.config import BenchmarkConfig

    log.configure(level="warning")
    suite = load_suite(BenchmarkConfig(name="mini"))
    counts = [int(w) for w in args.workers.split(",")]
    print(f"seed agent on mini tasks, scripted model: {args.calls} call(s) of {args.latency:g}s per task, "
          f"{args.rounds} round(s) per worker count")
    print(f"{'workers':>7}  {'tasks':>5}  {'seconds':>8}  {'tasks/min':>9}  {'speed-up':>8}")
    with tempfile.TemporaryDirectory(prefix="dgm-bench-eval-") as tmp:
        root = Path(tmp)
        script = root / "script.yaml"
        script.write_text(script_text(args.latency, args.calls))
        baseline = None
        for workers in counts:
            tasks = suite[:max(args.rounds * workers, 4)]
            elapsed = measure(workers, tasks, script, root)
            per_minute = len(tasks) * 60 / elapsed
            baseline = baseline or per_minute
            print(f"{workers:>7}  {len(tasks):>5}  {elapsed:>8.1f}  {per_minute:>9.1f}  {per_minute / baseline:>7.2f}x",
                  flush=True)


if __name__ == "__main__":
    main()
