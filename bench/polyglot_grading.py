"""Polyglot grading figures: per language, the median time to grade one exercise's reference
solution, how many references resolve, how many stubs resolve, and the image size.

Usage: python bench/polyglot_grading.py [ROOT] [--languages go,rust] [--sample N] [--stubs]
ROOT is a checkout of the polyglot benchmark (docs/evaluation.md) or any folder in its layout
(default: the test exercises in tests/data/polyglot). Uses the images of `dgm sandbox build
--languages ...`; a language whose image is missing is reported and skipped. Prints one line per
exercise that does not behave (reference unresolved or stub resolved) and a summary line per
language.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

from dgm.benchmarks import polyglot
from dgm.config import SandboxConfig
from dgm.evaluation.grader import grade
from dgm.sandbox import languages as lang_images
from dgm.sandbox.docker_backend import DockerSandbox

DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "tests" / "data" / "polyglot"
# As configs/paper-polyglot.yaml: C++ bank-account's test runs 1,000 threads at once.
SANDBOX = SandboxConfig(pids_limit=2048)


def _grade(task, diff: bytes, run: str):
    with DockerSandbox(SANDBOX, run=run, job=f"bench-{task.id}", role="grade", image=task.image) as sb:
        started = time.monotonic()
        verdict = grade(sb, task, diff)
        return verdict, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, nargs="?", default=DEFAULT_ROOT)
    parser.add_argument("--languages", default="all")
    parser.add_argument("--sample", type=int, default=0, help="only the first N exercises of each language (0: all)")
    parser.add_argument("--stubs", action="store_true", help="also grade each stub (the empty diff)")
    args = parser.parse_args()
    import docker

    client = docker.from_env()
    run = f"bench-polyglot-{uuid.uuid4().hex[:8]}"
    for name in lang_images.parse_languages(args.languages):
        if not (args.root / name / "exercises" / "practice").is_dir():
            continue
        tag = lang_images.tag(name)
        if not lang_images.image.is_present(tag):
            print(f"{name}: image {tag} missing (dgm sandbox build --languages {name}); skipped", flush=True)
            continue
        tasks = polyglot.load(args.root, [polyglot.Language(name)])
        if args.sample:
            tasks = tasks[:args.sample]
        times, resolved, stubs = [], 0, 0
        for task in tasks:
            verdict, seconds = _grade(task, task.solution or b"", run)
            times.append(seconds)
            resolved += verdict.resolved
            if not verdict.resolved:
                print(f"  {task.id}: reference unresolved: {verdict.reason}", flush=True)
            if args.stubs:
                stub, _ = _grade(task, b"", run)
                stubs += stub.resolved
                if stub.resolved:
                    print(f"  {task.id}: stub resolved: {stub.reason}", flush=True)
        size = client.images.get(tag).attrs["Size"] / 1e6
        stub_text = f", stubs resolved {stubs}/{len(tasks)}" if args.stubs else ""
        print(f"{name}: references resolved {resolved}/{len(tasks)}{stub_text}, median grade "
              f"{statistics.median(times):.1f} s, image {tag} {size:.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
