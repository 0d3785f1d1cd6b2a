"""The meta-loop on the host side (no sandbox): the answer contract, synthetic archives, meta-fitness,
trial decisions, the policies table and `dgm archive policies|diff`. Policy code never runs here."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from dgm import cli
from dgm.archive.records import StageScore
from dgm.archive.store import RunStore, UnknownPolicyError
from dgm.archive.summary import ArchiveSummary, Node
from dgm.config import ConfigError, MetaConfig, load
from dgm.errors import DgmError
from dgm.meta import diagnosis, synthetic, trial, versions
from dgm.meta.contract import PolicyAnswerError, check_answer, policy_input
from dgm.meta.fitness import standing, window_fitness

SUMMARY = ArchiveSummary([
    Node("g0c0", None, 0, score=0.2),
    Node("g1c0", "g0c0", 1, score=0.6),
    Node("g1c1", "g0c0", 1, status="invalid", admitted=False),
])


# -- the answer contract ------------------------------------------------------------------------


@pytest.mark.parametrize(("stdout", "problem"), [
    ("", "printed nothing"),
    ("Traceback: oops", "not JSON"),
    ('{"parents": ["g0c0", "g1c0"]}', "expected a JSON array of id strings"),
    ("[1, 2]", "expected a JSON array of id strings"),
    ('["g0c0"]', "returned 1 ids (expected exactly 2)"),
    (json.dumps(["g0c0"] * 10_000), "returned 10000 ids (expected exactly 2)"),
    ('["g0c0", "g9c9"]', "unknown id(s) g9c9"),
    ('["g0c0", "g1c1"]', "cannot be parents"),
])
def test_bad_answers_are_refused_with_the_reason(stdout: str, problem: str) -> None:
    with pytest.raises(PolicyAnswerError, match=None) as err:
        check_answer(stdout, SUMMARY, 2)
    assert problem in str(err.value)


def test_a_good_answer_is_the_ids_in_order_repeats_allowed() -> None:
    assert check_answer('\n["g1c0", "g1c0"]\n', SUMMARY, 2) == ["g1c0", "g1c0"]


def test_policy_input_is_the_summary_plus_n_and_seed() -> None:
    data = policy_input(SUMMARY, 3, "7:selection:2")
    assert data["n"] == 3 and data["seed"] == "7:selection:2" and data["version"] == 1
    assert [node["id"] for node in data["nodes"]] == ["g0c0", "g1c0", "g1c1"]
    assert data["nodes"][0]["children"] == 1 and data["nodes"][2]["eligible"] is False


def test_synthetic_archives_cover_the_edges() -> None:
    cases = synthetic.cases()
    assert len(cases["one node"]) == 1 and cases["one node"].nodes[0].score is None
    assert {node.score for node in cases["all scores zero"]} == {0.0}
    tree = cases["1000 nodes"]
    assert len(tree) == 1000 and any(n.status == "invalid" for n in tree) and any(not n.eligible for n in tree)
    assert all(tree[n.parent].eligible for n in tree if n.parent is not None)  # parents were eligible when chosen
    assert max(n.generation for n in cases["deep tree"]) >= 1500  # deeper than Python's recursion limit
    assert cases["wide tree"]["g0c0"].children >= 500
    assert all(summary.eligible() for summary in cases.values())
    assert synthetic.random_tree().to_json() == tree.to_json()  # fixed seeds: validation is reproducible


# -- meta-fitness -------------------------------------------------------------------------------


class Row:
    def __init__(self, generation: int, score: float | None, parent: str | None = "g0c0", admitted: bool = True,
                 status: str = "evaluated") -> None:
        self.generation, self.score, self.parent_id, self.admitted, self.status = generation, score, parent, admitted, status


def test_standing_counts_parent_eligible_scored_agents_only() -> None:
    rows = [Row(0, 0.1, parent=None, admitted=True), Row(1, 0.9, admitted=False), Row(1, None, status="invalid"),
            Row(1, 0.5), Row(2, 0.7)]
    one = standing(rows, 1, 3)
    assert one.best == 0.5 and one.top_k_mean == pytest.approx((0.5 + 0.1) / 3)  # missing places count 0
    two = standing(rows, 2, 2)
    assert two.best == 0.7 and two.top_k_mean == pytest.approx(0.6)


def test_window_fitness_is_mean_gain_per_generation() -> None:
    rows = [Row(0, 0.0, parent=None), Row(1, 0.4), Row(2, 0.4), Row(3, 0.8)]
    window = window_fitness(rows, 2, 3, top_k=1)
    assert window.best_gain == pytest.approx(0.4) and window.top_k_gain == pytest.approx(0.4)
    assert window.value == pytest.approx(0.2) and window.to_json()["generations"] == [2, 3]
    with pytest.raises(ValueError):
        window_fitness(rows, 0, 1, top_k=1)


# -- config -------------------------------------------------------------------------------------


def test_meta_is_off_by_default_and_needs_the_seed_policy_s_builtin() -> None:
    assert load(None).meta == MetaConfig() and not MetaConfig().enabled
    with pytest.raises(ConfigError, match="meta.enabled needs loop.selection: score_child_prop"):
        load(None, ["meta.enabled=true", "loop.selection=hgm"])
    with pytest.raises(ConfigError, match="meta.every"):
        load(None, ["meta.every=0"])


# -- the policies table and lineage -------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "main.py").write_text("print('agent')\n")
    with RunStore.create(tmp_path / "run", {}, seed) as made:
        yield made


def _candidate(store: RunStore, tmp_path: Path, policy_id: str, parent: str, generation: int, body: str,
               status: str = "trial") -> None:
    files = tmp_path / f"files-{policy_id}"
    files.mkdir()
    (files / "policy.py").write_text(body)
    commit = store.commit_policy(policy_id, parent, files)
    store.add_policy(policy_id, parent, commit, origin="meta", status=status, generation=generation)


def _agent(store: RunStore, agent_id: str, parent: str, resolved: int, total: int = 10) -> None:
    commit = store.commit_agent(agent_id, parent, diff=b"")
    store.add_agent(agent_id, parent, commit)
    store.set_scores(agent_id, [StageScore(resolved, total)])
    store.set_admitted(agent_id, True)


def test_policy_versions_are_commits_with_their_own_lineage(store: RunStore, tmp_path: Path) -> None:
    p0 = versions.ensure_seed(store)
    assert versions.ensure_seed(store) == p0  # once per run
    assert p0.status == "incumbent" and p0.origin == "seed" and p0.parent_id is None
    assert store.git.commit_parents([p0.commit])[p0.commit] == ()  # a root commit, apart from the agents
    assert versions.source(store, p0) == (versions.SEED_POLICY_DIR / "policy.py").read_bytes()
    _candidate(store, tmp_path, "p1", "p0", 1, "print('[]')\n")
    p1 = store.policy("p1")
    assert store.git.commit_parents([p1.commit])[p1.commit] == (p0.commit,)
    assert "+print('[]')" in store.policy_diff("p0", "p1")
    assert versions.governing(store, 2, trial=2) == p1 and versions.governing(store, 4, trial=2).id == "p0"
    store.record_policy_use("p1", 2, failed=False)
    store.record_policy_use("p1", 2, failed=False)
    store.record_policy_use("p1", 3, failed=True)
    assert store.policy("p1").governed == (2,) and store.policy("p1").failures == 1
    assert [e.kind for e in store.events() if e.kind.startswith("policy_")] == ["policy_seeded"]
    assert versions.next_id(store) == "p2"
    with pytest.raises(ValueError, match="policy status 'great'"):
        store.set_policy_status("p1", "great")
    with pytest.raises(UnknownPolicyError):
        store.policy("p7")
    with pytest.raises(DgmError, match="bad policy id"):
        store.commit_policy("policy-1", None, tmp_path / "files-p1")


def test_runs_without_the_policies_table_still_open(store: RunStore, tmp_path: Path) -> None:
    run_dir = store.run_dir
    store.close()
    old = tmp_path / "old-run"
    shutil.copytree(run_dir, old)
    conn = sqlite3.connect(old / "run.db")
    conn.execute("DROP TABLE policies")
    conn.commit()
    conn.close()
    with RunStore.open(old, readonly=True) as readonly:
        assert readonly.list_policies() == [] and readonly.find_policy("p0") is None
    with RunStore.open(old) as writable:
        assert writable.list_policies() == []
        versions.ensure_seed(writable)
        assert [v.id for v in writable.list_policies()] == ["p0"]


def _scored_run(store: RunStore, tmp_path: Path, trial_scores: tuple[int, int]) -> None:
    """p0 governed generation 1 (best 0.0 -> 0.1); candidate p1 governs 2-3 with the given scores."""
    store.set_scores("g0c0", [StageScore(0, 10)])
    versions.ensure_seed(store)
    _agent(store, "g1c0", "g0c0", 1)
    store.record_policy_use("p0", 1, failed=False)
    _candidate(store, tmp_path, "p1", "p0", 1, "print('[]')\n")
    _agent(store, "g2c0", "g1c0", trial_scores[0])
    _agent(store, "g3c0", "g2c0", trial_scores[1])


def test_a_trial_that_beats_the_incumbent_is_kept(store: RunStore, tmp_path: Path) -> None:
    _scored_run(store, tmp_path, (8, 10))
    meta = MetaConfig(enabled=True, trial=2, top_k=1)
    assert trial.decide(store, 2, meta) is None  # the window 2-3 has not ended
    kept = trial.decide(store, 3, meta)
    assert kept is not None and kept.status == "incumbent" and kept.meta_fitness == pytest.approx(0.45)
    assert store.policy("p0").status == "kept" and store.policy("p0").meta_fitness == pytest.approx(0.1)
    assert versions.incumbent(store).id == "p1" and trial.decide(store, 3, meta) is None  # decided once
    event = store.events(kind="policy_kept")[-1].payload
    assert event["policy"] == "p1" and event["generation"] == 3 and event["status"] == "kept"
    assert event["meta_fitness"] == pytest.approx(0.45) and event["incumbent"] == "p0"
    assert event["baseline"]["generations"] == [1, 1] and event["trial"]["generations"] == [2, 3]


def test_a_trial_below_the_incumbent_or_with_failures_is_reverted(store: RunStore, tmp_path: Path) -> None:
    _scored_run(store, tmp_path, (1, 1))
    meta = MetaConfig(enabled=True, trial=2, top_k=1)
    reverted = trial.decide(store, 3, meta)
    assert reverted is not None and reverted.status == "reverted" and reverted.meta_fitness == 0.0
    assert reverted.reason == ("reverted: meta-fitness +0.0000/generation over generations 2-3 vs the incumbent "
                               "p0's +0.1000 over 1-1; within noise: neither window's gain of best is "
                               "distinguishable from none at 95%")  # a few tasks per agent: the decision acts on noise
    assert versions.incumbent(store).id == "p0"
    assert store.events(kind="policy_reverted")[-1].payload["status"] == "reverted"


def test_a_failing_candidate_is_reverted_even_when_the_archive_improved(store: RunStore, tmp_path: Path) -> None:
    _scored_run(store, tmp_path, (9, 10))
    store.record_policy_use("p1", 3, failed=True)
    reverted = trial.decide(store, 3, MetaConfig(enabled=True, trial=2, top_k=1))
    assert reverted is not None and reverted.status == "reverted"
    assert "failed in 1 of its 2 trial generation(s)" in (reverted.reason or "")


def test_meta_diagnosis_shows_statistics_history_and_source(store: RunStore, tmp_path: Path) -> None:
    _scored_run(store, tmp_path, (8, 10))
    store.add_event("generation_planned", {"generation": 1, "parents": ["g0c0"], "policy": "p0"})
    text = diagnosis.problem_statement(store, store.policy("p0"), "SOURCE OF P0", 3, top_k=2)
    assert "after generation 3" in text and "best score 1.000 (g3c0)" in text
    assert "| 1 | g0c0 (p0) | 1/1 | 0.100 | 0.100 | 0.050 |" in text
    assert "| p0 | - | incumbent | 1 | 0 | +0.100 | +0.050 |" in text and "| p1 | p0 | trial |" in text
    assert "SOURCE OF P0" in text and "{" + "statistics}" not in text
    assert diagnosis.ranges((7, 1, 2, 3, 9, 8)) == "1-3, 7-9"


# -- dgm archive policies | diff ----------------------------------------------------------------


def test_archive_policies_lists_versions_and_diffs_them(store: RunStore, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _scored_run(store, tmp_path, (8, 10))
    trial.decide(store, 3, MetaConfig(enabled=True, trial=2, top_k=1))
    run_dir = store.run_dir
    assert cli.main(["archive", "policies", str(run_dir)]) == 0
    text = capsys.readouterr().out
    assert "2 policy versions" in text and "+0.4500" in text and "kept: meta-fitness" in text
    assert cli.main(["archive", "policies", str(run_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["parent"], r["status"], r["governed"]) for r in rows] == [
        ("p0", None, "kept", [1]), ("p1", "p0", "incumbent", [])]
    assert cli.main(["archive", "diff", str(run_dir), "p1"]) == 0
    assert "+print('[]')" in capsys.readouterr().out
    assert cli.main(["archive", "diff", str(run_dir), "p1", "p0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["old"], data["new"]) == ("p1", "p0") and data["files"][0]["path"] == "policy.py"
    assert cli.main(["archive", "diff", str(run_dir), "p0"]) == 2
    assert "seed policy and has no parent" in capsys.readouterr().err
    assert cli.main(["archive", "diff", str(run_dir), "p9"]) == 2
    assert "unknown policy 'p9'" in capsys.readouterr().err


def test_archive_policies_imports_neither_docker_nor_litellm(store: RunStore, tmp_path: Path) -> None:
    _scored_run(store, tmp_path, (8, 10))
    code = ("import sys; from dgm import cli; assert cli.main(['archive', 'policies', sys.argv[1]]) == 0; "
            "assert not {'docker', 'litellm'} & {m.split('.')[0] for m in sys.modules}")
    done = subprocess.run([sys.executable, "-c", code, str(store.run_dir)], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "p1" in done.stdout
