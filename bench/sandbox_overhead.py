"""Sandbox start-up overhead: a full DockerSandbox round trip vs `docker run --rm IMAGE true`.

Round trip = create the hardened container, write a 1 MB tree (64 files of 16 KiB), exec `true`,
read the tree back, close. The two are measured alternately in the same process so both see the
same machine load; the medians and their ratio are printed (goal: ratio <= 1.3).

Usage: .venv/bin/python bench/sandbox_overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from dgm import log  # noqa: E402
from dgm.config import SandboxConfig  # noqa: E402
from dgm.sandbox import image  # noqa: E402
from dgm.sandbox.docker_backend import DockerSandbox  # noqa: E402
from dgm.sandbox.prune import prune  # noqa: E402

RUN = "bench-sandbox-overhead"


def make_tree(root: Path) -> Path:
    for i in range(64):
        sub = root / f"pkg{i % 8}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"mod{i}.py").write_bytes(os.urandom(16 * 1024))
    return root


def round_trip(tree: Path, dest: Path) -> float:
    started = time.perf_counter()
    with DockerSandbox(SandboxConfig(), run=RUN, job="bench", role="bench") as box:
        box.write("/work/tree", tree)
        result = box.exec("true", timeout=30)
        box.read_dir("/work/tree", dest)
    elapsed = time.perf_counter() - started
    assert result.ok, result
    return elapsed


def docker_run(tag: str) -> float:
    started = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", tag, "true"], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    log.configure(level="warning")
    tag = image.current_tag()
    ours, baseline = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tree = make_tree(Path(tmp, "tree"))
        round_trip(tree, Path(tmp, "warm"))  # first start pays for page cache and the client
        docker_run(tag)
        for i in range(args.repeats):
            baseline.append(docker_run(tag))
            ours.append(round_trip(tree, Path(tmp, f"out{i}")))
    prune(RUN)
    ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(baseline) * 1000
    print(f"image {tag}, {args.repeats} repeats, medians:")
    print(f"  docker run --rm IMAGE true                          {base_ms:7.0f} ms")
    print(f"  DockerSandbox create+write 1MB+exec+read+close      {ours_ms:7.0f} ms")
    print(f"  ratio {ours_ms / base_ms:.2f} (goal <= 1.30)")


if __name__ == "__main__":
    main()
