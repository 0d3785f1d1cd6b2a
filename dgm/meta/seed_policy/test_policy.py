"""Contract test of policy.py (see its docstring): run `python3 -m pytest -q` in this folder.

The framework validates every new policy version with the same checks on the same kinds of
archives (its own trusted copy, plus the live archive) before the version may choose parents,
so a version that fails here will be rejected.
"""

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

POLICY = Path(__file__).with_name("policy.py")
TIME_LIMIT = 10.0  # seconds per run, the framework's default meta.policy_seconds


def node(node_id, parent, generation, score, eligible=True, tasks=None):
    return {"id": node_id, "parent": parent, "generation": generation, "status": "evaluated",
            "admitted": eligible, "eligible": eligible or parent is None,
            "stages": [] if score is None else [{"resolved": round(score * 10), "total": 10}],
            "score": score, "tasks": tasks or {}, "children": 0, "cost": 0.0}


def archive(nodes, n=2, seed="0:selection:1"):
    counts = {}
    for item in nodes:
        if item["parent"] is not None and item["admitted"]:
            counts[item["parent"]] = counts.get(item["parent"], 0) + 1
    for item in nodes:
        item["children"] = counts.get(item["id"], 0)
    return {"version": 1, "n": n, "seed": seed, "nodes": nodes}


def random_tree(size, rng):
    nodes = [node("g0c0", None, 0, rng.random())]
    for i in range(1, size):
        parent = nodes[rng.randrange(len(nodes))]
        nodes.append(node(f"g{i}c0", parent["id"], i, round(rng.random(), 2), eligible=rng.random() > 0.2))
    return nodes


ARCHIVES = {
    "one node (the seed, not yet scored)": archive([node("g0c0", None, 0, None)]),
    "all scores zero": archive([node("g0c0", None, 0, 0.0)] + [node(f"g1c{i}", "g0c0", 1, 0.0) for i in range(6)]),
    "1000 nodes": archive(random_tree(1000, random.Random(1)), n=4),
    "deep chain": archive([node("g0c0", None, 0, 0.1)]
                          + [node(f"g{i}c0", f"g{i - 1}c0", i, min(1.0, i / 300)) for i in range(1, 300)]),
    "wide": archive([node("g0c0", None, 0, 0.3)] + [node(f"g1c{i}", "g0c0", 1, (i % 10) / 10) for i in range(500)], n=3),
    "invalid children": archive([node("g0c0", None, 0, 0.2)] + [node(f"g1c{i}", "g0c0", 1, None, eligible=False)
                                                                for i in range(4)]),
}


def run_policy(data):
    done = subprocess.run([sys.executable, str(POLICY)], input=json.dumps(data), capture_output=True,
                          text=True, timeout=TIME_LIMIT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", list(ARCHIVES))
def test_returns_n_eligible_ids(name):
    data = ARCHIVES[name]
    chosen = run_policy(data)
    eligible = {item["id"] for item in data["nodes"] if item["eligible"]}
    assert isinstance(chosen, list) and len(chosen) == data["n"]
    assert all(isinstance(item, str) and item in eligible for item in chosen)


@pytest.mark.parametrize("name", ["1000 nodes", "wide"])
def test_same_input_same_choice(name):
    assert run_policy(ARCHIVES[name]) == run_policy(ARCHIVES[name])
