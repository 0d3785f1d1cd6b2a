"""Parent selection for a Darwin Gödel Machine: the evolvable policy (seed version).

This file chooses which agents of the archive become parents of the next generation. The
meta-loop asks a coding agent to rewrite it, runs each rewrite in a sandbox, and keeps the
version under which the archive improves faster. Everything in it may change except the
contract below, which is all the framework relies on.

THE CONTRACT
    Run as `python3 policy.py` (stdlib only, one file; no network, no files to read or write,
    no environment variables) with one JSON object on stdin:
        {"version": 1,
         "n": 2,                        # how many parents to return
         "seed": "0:selection:7",       # seed all randomness with random.Random(seed)
         "nodes": [                     # every agent of the archive, in creation order
            {"id": "g3c1",              # agent id: generation 3, slot 1
             "parent": "g1c0",          # null for the seed agent g0c0
             "generation": 3,
             "status": "evaluated",     # pending | invalid | evaluated
             "admitted": true,          # passed the admission rule
             "eligible": true,          # may be returned as a parent (admitted and evaluated, or the seed)
             "stages": [{"resolved": 7, "total": 10}],   # tasks solved per evaluation stage
             "score": 0.7,              # resolved / run over all stages; null before evaluation
             "tasks": {"task-a": true, "task-b": false}, # per-task outcome (true: resolved)
             "children": 2,             # admitted children so far
             "cost": 0.31},             # dollars spent making and evaluating it
            ...]}
    It prints one JSON array of exactly `n` ids to stdout, each the id of an eligible node
    (repeats allowed: parents are drawn with replacement), and exits 0.
    The same input, seed included, must give the same output. It must finish within the
    configured time limit (meta.policy_seconds, 10 s by default) on archives of thousands of nodes.
    An answer that breaks any of this (an exception, a timeout, output that is not such an array,
    unknown, ineligible, too few or too many ids) is a failure: the framework uses the built-in
    `score_child_prop` for that generation instead and counts the failure against this version.
    `test_policy.py` beside this file checks the contract; run it with `python3 -m pytest -q`.

THIS VERSION: `score_child_prop` from the DGM paper (Zhang et al., 2025). A node's weight is
    s * h with s = 1 / (1 + exp(-10 (score - 0.5))) (a good agent is likely to be picked) and
    h = 1 / (1 + children) (one that already has many children less so: exploration). Parents are
    drawn with replacement with probability proportional to the weight. It makes exactly the
    choices of the framework's built-in `score_child_prop` for the same input and seed.
"""

import json
import math
import random
import sys

STEEPNESS = 10.0   # how sharply the sigmoid separates good from bad scores
MIDPOINT = 0.5     # the score at which the sigmoid is 1/2


def sigmoid(score):
    exponent = -STEEPNESS * (score - MIDPOINT)
    if exponent > 700:  # math.exp would overflow; the sigmoid is 0 to double precision anyway
        return 0.0
    return 1.0 / (1.0 + math.exp(exponent))


def weight(node):
    score = 0.0 if node["score"] is None else node["score"]
    return sigmoid(score) / (1 + node["children"])


def select(archive):
    """The chosen parent ids for one input object (see the contract above)."""
    n = archive["n"]
    candidates = [node for node in archive["nodes"] if node["eligible"]]
    weights = [weight(node) for node in candidates]
    total = sum(weights)
    if total <= 0:
        probabilities = [1.0 / len(candidates)] * len(candidates)  # every weight underflowed: uniform
    else:
        probabilities = [w / total for w in weights]
    rng = random.Random(archive["seed"])
    return rng.choices([node["id"] for node in candidates], weights=probabilities, k=n)


def main():
    archive = json.load(sys.stdin)
    json.dump(select(archive), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
