"""Scores the agent's tour.py on hidden instances; prints one JSON line: {"score": ..., ...}.

Runs in /work/workspace (the agent's final files); this folder is mounted read-only at /work/scorer.
The candidate runs in a subprocess with its output captured, so nothing it prints can become the
last line of this program's standard output (dgm reads only that line).
"""

import json
import math
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (60, 120, 200)          # points per instance; instance k is drawn with seed k
RUNNER = """
import json, os, sys
sys.path.insert(0, os.getcwd())
from tour import tour
print(json.dumps(tour(json.load(sys.stdin))))
"""


def instance(seed: int, size: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.random(), rng.random()] for _ in range(size)]


def length(points: list[list[float]], order: list[int]) -> float:
    return sum(math.dist(points[order[i - 1]], points[order[i]]) for i in range(len(order)))


def candidate_order(points: list[list[float]]) -> list[int] | str:
    """The candidate's tour, or why there is none."""
    try:
        done = subprocess.run([sys.executable, "-I", "-c", RUNNER], input=json.dumps(points), text=True,
                              capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return "tour() took longer than 10 s"
    sys.stderr.write(done.stderr)       # the candidate's diagnostics, for the log
    if done.returncode != 0:
        return f"tour() failed (exit {done.returncode})"
    try:
        order = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "tour() printed no JSON list"
    if not isinstance(order, list) or sorted(order) != list(range(len(points))):
        return "tour() did not return every index exactly once"
    return order


def main() -> None:
    scores, lengths, problems = [], [], []
    for seed, size in enumerate(SIZES):
        points = instance(seed, size)
        order = candidate_order(points)
        if isinstance(order, str):
            scores.append(0.0)
            lengths.append(None)
            problems.append(order)
            continue
        lengths.append(round(length(points, order), 4))
        scores.append(None)
    # Read after the candidate ran: the read-only mount is what keeps it as shipped.
    reference = json.loads((HERE / "reference.json").read_text())
    for k, size in enumerate(SIZES):
        if scores[k] is None:
            given = length(instance(k, size), list(range(size)))
            # 0: no shorter than the given order; 1: as short as the reference heuristic (2-opt).
            gain, best = given / lengths[k] - 1, given / reference[k] - 1
            scores[k] = max(0.0, min(1.0, gain / best))
    print(json.dumps({"score": round(sum(scores) / len(scores), 6), "lengths": lengths,
                      "reference": reference, "problems": problems}))


if __name__ == "__main__":
    main()
