"""Hostile children: a run never dies of a child's output, and nothing unbounded leaves a sandbox.

One real run (scripted model, real sandboxes) whose self-improvement agents attack the framework
with what they write. Each attack must end as a recorded child (invalid with its reason, or valid
when the output is merely odd), the run must finish, `dgm archive check` must be clean and no
container of the run may be left.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import QUICKSTART
from dgm import cli
from dgm.archive.check import check_run
from dgm.archive.gitstore import PatchRejected
from dgm.archive.store import RunStore

DIFF_CAP = 100_000
TRAJECTORY_CAP = 200_000
DIAGNOSIS = {"log_summarization": "s", "potential_improvements": "p", "improvement_proposal": "i",
             "implementation_suggestion": "i", "problem_description": "Improve the agent."}
# What each child's self-improvement agent runs (one bash call), by slot.
ATTACKS = {
    # Rewrites the host's diff file after `git diff` wrote it: when it wins the race, the patch
    # does not apply (hole 1); the host's git decides, never the bytes' headers.
    0: "setsid nohup bash -c 'while :; do printf \"garbage\\n\" > /tmp/.g; mv -f /tmp/.g /tmp/dgm-agent.diff; "
       "sleep 0.002; done' >/dev/null 2>&1 < /dev/null & sleep 0.3",
    # A diff far over sandbox.max_diff_bytes (hole 2).
    1: "head -c 3000000 /dev/urandom > blob.bin",
    # A trajectory far over sandbox.max_trajectory_bytes (hole 2): only the tail may come out.
    2: "python3 -c \"import sys; f=open('/work/out/trajectory.jsonl','a'); [f.write('{\\\"type\\\": \\\"pad\\\", "
       "\\\"x\\\": \\\"' + 'y'*1000 + '\\\"}\\n') for _ in range(3000)]\"",
    # The trajectory replaced by an endless device: copying it out must not stream forever.
    3: "setsid nohup bash -c 'sleep 2; rm -f /work/out/trajectory.jsonl; ln -s /dev/zero /work/out/trajectory.jsonl' "
       ">/dev/null 2>&1 < /dev/null & printf 'x = 1\\n' > extra.py",
    # Odd but legal output: a symlink out of the tree, a newline in a file name, binary bytes,
    # a nested git repository (a gitlink, like a submodule), many files.
    4: "ln -s /etc/passwd passwd-link; printf 'x' > \"$(printf 'new\\nline.txt')\"; "
       "printf '\\x00\\xff\\xfe' > bin.dat; mkdir sub && cd sub && git init -q && "
       "git -c user.name=a -c user.email=a@b commit -q --allow-empty -m x && cd .. && "
       "mkdir many && for i in $(seq 1 1500); do echo $i > many/f$i.txt; done",
}


def _script() -> dict:
    rules = [{"role": "diagnose", "reply": {"content": json.dumps(DIAGNOSIS)}}]
    for slot, command in ATTACKS.items():
        rules.append({"role": "self_improve", "job": f"^g1c{slot}/", "times": 1,
                      "reply": {"tool_calls": [{"name": "bash", "arguments": {"command": command}}]}})
    rules += [{"role": "self_improve", "reply": {"content": "Done."}}, {"role": "solve", "reply": {"content": "Done."}}]
    return {"rules": rules}


def _containers(run_id: str) -> list:
    from dgm.sandbox.docker_backend import api

    return api().containers(all=True, filters={"label": f"dgm.run={run_id}"})


def test_a_patch_that_does_not_apply_is_a_dgm_error(small_run: Path) -> None:
    with RunStore.open(small_run) as store:
        with pytest.raises(PatchRejected):
            store.commit_agent("g3c0", "g0c0", diff=b"garbage\n")
        with pytest.raises(PatchRejected):
            store.commit_agent("g3c0", "g0c0", diff=b"diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n"
                                                     b"@@ -1 +1 @@\n-a\n+b\n")
        assert store.git.ref("g3c0") is None
    assert check_run(small_run) == []


def test_hostile_children_are_recorded_and_the_run_finishes(tmp_path: Path, docker_ready: None) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump(_script()))
    run_dir = tmp_path / "hostile"
    code = cli.main(["run", str(QUICKSTART), "--out", str(run_dir), "--set", "llm.model=scripted",
                     "--set", f"llm.script={script}", "--set", "loop.generations=1",
                     "--set", f"loop.children_per_generation={len(ATTACKS)}", "--set", "evaluation.stages=[{size: 1}]",
                     "--set", f"sandbox.max_diff_bytes={DIFF_CAP}", "--set", f"sandbox.max_trajectory_bytes={TRAJECTORY_CAP}"])
    assert code == 0
    with RunStore.open(run_dir, readonly=True) as store:
        agents = {a.id: a for a in store.list_agents()}
        assert store.events(kind="run_finished")[-1].payload["reason"] == "generations"
        run_id = store.run_id
        reasons = {a.id: a.invalid_reason or "" for a in agents.values()}
        # The diff is taken and read in one exec now, so the racing writer only sometimes wins:
        # either way the child is invalid (its forged bytes do not apply, or its real diff is empty).
        assert agents["g1c0"].status == "invalid" and any(why in reasons["g1c0"] for why in (
            "does not apply", "could not be taken", "empty patch")), reasons["g1c0"]
        assert agents["g1c1"].status == "invalid" and "over sandbox.max_diff_bytes" in reasons["g1c1"]
        assert store.git.binary_diff(agents["g0c0"].commit, agents["g1c1"].commit) == b""  # nothing stored
        assert agents["g1c3"].status != "pending"
        assert agents["g1c4"].status in ("evaluated", "invalid")
        result = store.job("g1c2/self_improve").result
        assert result["trajectory_cut"] is True
        trajectories = sorted(run_dir.glob("agents/*/**/trajectory.jsonl"))
        assert trajectories and all(p.stat().st_size <= TRAJECTORY_CAP for p in trajectories)
        for task_result in run_dir.glob("agents/**/result.json"):   # a task's diff is stored once: diff.patch
            assert "diff" not in json.loads(task_result.read_text())
    assert check_run(run_dir) == []
    assert _containers(run_id) == []
