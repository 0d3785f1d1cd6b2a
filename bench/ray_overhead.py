"""Ray executor overhead: solve-and-grade jobs per minute, local vs a two-node Ray cluster.

The same N jobs (the seed agent solving one `mini` task and a fresh sandbox grading it, against
the scripted model with a fixed latency per call: `--calls` calls, tool calls then a final answer)
run through `LocalExecutor.run_job` and through `RayExecutor.run_job` on a two-node Ray cluster on
this machine (`ray.cluster_utils.Cluster`), both with W driver threads. Reported per executor: jobs
per minute, and the median per-job overhead = the driver's wall time of `run_job` minus the job's
own duration as `evaluate_task` measured it (solve + grade). For Ray that overhead is shipping
the agent source, scheduling, the per-job model service and gateway on the node, bringing the
files and calls back and storing them. Goal: Ray overhead <= 1 s per job, throughput >= 90% of local.

    .venv/bin/python bench/ray_overhead.py [--jobs 12] [--workers 4] [--latency 2] [--calls 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from eval_throughput import script_text  # same fixed-latency scripted model (bench/ is on sys.path)

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # the one-machine cluster stays on 127.0.0.1
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report to Ray's servers

REPO = Path(__file__).resolve().parents[1]
SEED_AGENT = REPO / "agents" / "seed_agent"
TASK = "roman-numerals"


def measure(executor, config, task, jobs: int, workers: int, run: str, root: Path) -> tuple[float, list[float]]:
    """(wall seconds for all jobs, per-job overhead seconds)."""
    from dgm.llm.types import JobGrant
    from dgm.scale import jobs as seam

    def one(index: int) -> float:
        out = root / f"job{index}"
        out.mkdir(parents=True)
        grant = JobGrant(job_key=f"bench/{index}#1", role="solve", run=run, agent="bench")
        started = time.monotonic()
        result = executor.run_job(seam.solve_and_grade(SEED_AGENT, task, grant=grant, config=config), out).value
        wall = time.monotonic() - started
        if result.status in ("infra_error", "agent_error"):
            sys.exit(f"job {index} failed to run: {result.status}: {result.reason}")
        return wall - result.duration

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        overheads = list(pool.map(one, range(jobs)))
    return time.monotonic() - started, overheads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds per scripted model call")
    parser.add_argument("--calls", type=int, default=3, help="model calls per solve")
    args = parser.parse_args()

    from ray.cluster_utils import Cluster

    from dgm import log
    from dgm.benchmarks import load_suite, select
    from dgm.config import validate
    from dgm.executor import LocalExecutor
    from dgm.llm import Gateway, LLMService
    from dgm.sandbox.prune import prune
    from dgm.scale.ray_executor import RayExecutor

    log.configure(level="warning")
    root = Path(tempfile.mkdtemp(prefix="dgm-bench-ray-"))
    script = root / "script.yaml"
    script.write_text(script_text(args.latency, args.calls), encoding="utf-8")
    task = select(load_suite(validate({}, "bench").evaluation.benchmark), [TASK])[0]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        cluster.add_node(num_cpus=args.workers, resources={"docker": args.workers})
    cluster.wait_for_nodes()
    figures = {}
    try:
        for kind in ("local", "ray"):
            config = validate({"llm": {"model": "scripted", "script": str(script)},
                               "evaluation": {"infra_retries": 0}, "loop": {"workers": args.workers},
                               "executor": {"kind": kind, "address": cluster.address}}, "bench")
            run = f"bench-ray-{kind}-{os.getpid()}"
            try:
                with LLMService(config, root / kind / "run.db") as llm, Gateway(llm) as gateway:
                    executor = LocalExecutor(args.workers, gateway=gateway) if kind == "local" else \
                        RayExecutor(config, llm=llm, run=run, cassette_db=root / kind / "run.db")
                    try:
                        figures[kind] = measure(executor, config, task, args.jobs, args.workers, run, root / kind)
                    finally:
                        executor.close()
            finally:
                prune(run=run)
    finally:
        cluster.shutdown()

    print(f"{args.jobs} solve+grade jobs of {TASK}, {args.workers} driver threads, scripted model "
          f"{args.calls} calls x {args.latency:g} s; Ray: 2 nodes on this machine")
    print(f"{'executor':<10}{'wall s':>10}{'jobs/min':>10}{'overhead/job (median)':>24}{'(max)':>9}")
    for kind, (wall, overheads) in figures.items():
        print(f"{kind:<10}{wall:>10.1f}{60 * args.jobs / wall:>10.2f}{statistics.median(overheads):>22.2f} s"
              f"{max(overheads):>8.2f}s")
    local, ray_ = figures["local"][0], figures["ray"][0]
    print(f"ray throughput / local: {local / ray_:.2f}")


if __name__ == "__main__":
    main()
