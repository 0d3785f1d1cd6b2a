"""The meta-loop inside real runs with the scripted model: the demo rewrites and judges a policy,
and a trial interrupted by the end of a run continues on resume (its policy failing on the
resumed generation, so the fallback and the revert are exercised in a real run too)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import DEMO_SCRIPT, QUICKSTART
from dgm import cli
from dgm.archive.check import check_run
from dgm.archive.store import RunStore

pytestmark = pytest.mark.docker


def containers(label: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=dgm.run={label}"], capture_output=True,
                         text=True, check=True).stdout
    return out.split()


def test_the_demo_rewrites_a_policy_and_judges_it(scripted_run: Path) -> None:
    with RunStore.open(scripted_run, readonly=True) as store:
        p0, p1 = store.list_policies()
        assert (p0.id, p0.origin, p0.governed) == ("p0", "seed", (1,))
        assert (p1.id, p1.parent_id, p1.origin, p1.generation, p1.governed) == ("p1", "p0", "meta", 1, (2,))
        assert p1.status in ("incumbent", "reverted") and p1.meta_fitness is not None
        assert p1.reason.startswith(("kept: meta-fitness", "reverted: meta-fitness"))
        assert "+EXPLORATION = 2.0" in store.policy_diff("p0", "p1")
        kinds = [e.kind for e in store.events() if e.kind.startswith("policy_")]
        assert kinds[:3] == ["policy_seeded", "policy_proposed", "policy_trial"] and len(kinds) == 4
        decided = store.events(kind=kinds[3])[0].payload
        assert decided["policy"] == "p1" and decided["generation"] == 2 and decided["status"] in ("kept", "reverted")
        assert decided["meta_fitness"] == p1.meta_fitness
        planned = {e.payload["generation"]: e.payload for e in store.events(kind="generation_planned")}
        assert planned[1]["policy"] == "p0" and planned[2]["policy"] == "p1"
        propose = store.job("p1/propose")
        assert propose is not None and propose.state == "done" and propose.result["agent"] in ("g1c0", "g1c1")
        problem = (store.run_dir / "agents/p1/meta/problem.md").read_text()
        assert "Archive statistics (after generation 1)" in problem and "| p0 | - | incumbent | 1 |" in problem
        assert store.job("p1/validate").result["ok"] is True


def test_a_trial_continues_when_the_run_is_resumed(tmp_path: Path, docker_ready: None) -> None:
    script = yaml.safe_load(DEMO_SCRIPT.read_text())
    script["rules"] = [rule for rule in script["rules"] if rule["role"] != "meta"] + [
        {"role": "meta", "times": 1, "reply": {"tool_calls": [{"name": "editor", "arguments": {
            "command": "str_replace", "path": "policy.py", "old_str": "    archive = json.load(sys.stdin)\n",
            "new_str": "    archive = json.load(sys.stdin)\n    if archive['seed'].endswith(':selection:3'):\n"
                       "        raise RuntimeError('misbehaves in generation 3 only')\n"}}]}},
        {"role": "meta", "reply": {"content": "Done."}},
    ]
    script_path = tmp_path / "script.yaml"
    script_path.write_text(yaml.safe_dump(script))
    run_dir = tmp_path / "trial"
    settings = ["llm.model=scripted", f"llm.script={script_path}", "loop.generations=2",
                "loop.children_per_generation=1", "evaluation.stages=[{size: 2}]",
                "evaluation.benchmark.task_ids=[csv-quoted-fields, paginate-off-by-one]",
                "meta.every=1", "meta.trial=2", "meta.agent=seed"]
    assert cli.main(["run", str(QUICKSTART), "--out", str(run_dir), *[a for s in settings for a in ("--set", s)]]) == 0
    with RunStore.open(run_dir, readonly=True) as store:
        p1 = store.policy("p1")
        assert (p1.status, p1.governed, p1.failures) == ("trial", (2,), 0)  # the run ended inside the trial
        assert store.events(kind="policy_trial")[0].payload["governs"] == [2, 3]
        run_label = store.run_id
    assert cli.main(["resume", str(run_dir), "--set", "loop.generations=3"]) == 0
    with RunStore.open(run_dir, readonly=True) as store:
        p1 = store.policy("p1")
        assert p1.governed == (2,) and p1.failures == 1  # generation 3 was still p1's, and it failed there
        planned = {e.payload["generation"]: e.payload for e in store.events(kind="generation_planned")}
        assert planned[3]["policy_version"] == "p1" and planned[3]["policy"] == "score_child_prop"
        assert "misbehaves in generation 3 only" in planned[3]["fallback_reason"]
        assert p1.status == "reverted" and "failed in 1 of its 2 trial generation(s)" in (p1.reason or "")
        assert store.policy("p0").status == "incumbent" and store.find_policy("p2") is None
        assert [e.kind for e in store.events() if e.kind.startswith("policy_")] == [
            "policy_seeded", "policy_proposed", "policy_trial", "policy_failed", "policy_reverted"]
        assert store.agent("g3c0").status == "evaluated"  # the run went on past the failure
    assert check_run(run_dir) == []
    assert containers(run_label) == []
