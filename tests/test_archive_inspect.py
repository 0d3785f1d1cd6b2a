"""`dgm archive show|tree|diff|lineage|best|export|check` and `dgm agent checkout`, on a real
scripted run (the shared, read-only `scripted_run`) and on small hand-made runs."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dgm.archive import db as dbmod
from dgm.archive.lock import RunLock
from dgm.archive.records import StageScore
from dgm.archive.store import RunStore
from dgm.archive.views import Archive, diff_stat
from dgm.cli import main

REPO = Path(__file__).resolve().parents[1]
DEMO_SCRIPT = REPO / "configs" / "demo" / "script.yaml"
ROW_FIELDS = {"id": str, "generation": int, "slot": int, "status": str, "admitted": bool, "eligible": bool,
              "stages": list, "children": int, "cost": float, "tokens": int, "commit": str}


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    assert main(["archive", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def check_row(row: dict, ids: set[str]) -> None:
    for name, kind in ROW_FIELDS.items():
        assert isinstance(row[name], kind), (name, row[name])
    assert row["id"] in ids and (row["parent"] is None or row["parent"] in ids)
    assert row["score"] is None or 0.0 <= row["score"] <= 1.0
    assert all(set(stage) == {"resolved", "total"} and 0 <= stage["resolved"] <= stage["total"] for stage in row["stages"])


def file_hashes(run_dir: Path) -> dict[str, str]:
    """Every file of a run but SQLite's -shm index and an empty -wal (a WAL-mode reader opens
    both, creating them empty when the last writer removed them)."""
    return {str(path.relative_to(run_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(run_dir.rglob("*"))
            if path.is_file() and path.name != "run.db-shm" and not (path.name == "run.db-wal" and not path.stat().st_size)}


# -- the scripted run ------------------------------------------------------------------------------


@pytest.mark.docker
def test_every_command_as_json_on_a_real_run(scripted_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = file_hashes(scripted_run)
    run = str(scripted_run)
    rows = cli_json(capsys, "ls", run)
    ids = {row["id"] for row in rows}
    assert len(ids) == len(rows) == 5 and "g0c0" in ids   # seed + 2 generations x 2 children
    for row in rows:
        check_row(row, ids)
    with RunStore.open(scripted_run, readonly=True) as store:
        summary = store.summary()
    # ls agrees with what selection policies see (eligibility and admitted-children counts).
    assert {r["id"]: (r["eligible"], r["children"]) for r in rows} == {
        n.id: (n.eligible, n.children) for n in summary}

    children = [row for row in rows if row["parent"] is not None]
    for row in rows:
        shown = cli_json(capsys, "show", run, row["id"])
        check_row(shown["agent"], ids)
        assert shown["lineage"][0] == "g0c0" and shown["lineage"][-1] == row["id"]
        assert set(shown["children"]) == {r["id"] for r in rows if r["parent"] == row["id"]}
        assert bool(shown["evaluation"]["tasks"]) == (row["status"] == "evaluated")
        assert sum(shown["evaluation"]["counts"].values()) == len(shown["evaluation"]["tasks"])
        assert all(Path(path).is_dir() for path in shown["paths"]["evaluations"].values())
        assert set(shown["paths"]["evaluations"]) == {t["task_id"] for t in shown["evaluation"]["tasks"]}
        if row["parent"] is None:
            assert shown["diff_stat"] is None and shown["diagnosis"] is None
        else:
            assert shown["diagnosis"]["problem_description"] and shown["diagnosis_summary"]
            assert Path(shown["paths"]["diagnosis"]).is_file() and Path(shown["paths"]["self_improve_trajectory"]).is_file()
            assert shown["self_improve"]["state"] == "done"
    valid_child = next(row for row in children if row["status"] == "evaluated")
    stat = cli_json(capsys, "show", run, valid_child["id"])["diff_stat"]
    assert stat["added"] > 0 and "tools.py" in {f["path"] for f in stat["files"]}   # the demo adds apply_patch

    tree = cli_json(capsys, "tree", run)
    assert [n["id"] for n in tree["nodes"]][0] == "g0c0" and {n["id"] for n in tree["nodes"]} == ids
    assert tree["best_lineage"][0] == "g0c0" and tree["best"] == tree["best_lineage"][-1]
    assert {n["id"] for n in tree["nodes"] if n["best_lineage"]} == set(tree["best_lineage"])
    assert all(n["depth"] == len(cli_lineage(capsys, run, n["id"])) - 1 for n in tree["nodes"])

    best = cli_json(capsys, "best", run)
    check_row(best, ids)
    assert best["id"] == tree["best"] and best["lineage"] == tree["best_lineage"]
    assert best["score"] == max(r["score"] for r in rows if r["score"] is not None)

    diff = cli_json(capsys, "diff", run, valid_child["id"])
    assert (diff["old"], diff["new"]) == (valid_child["parent"], valid_child["id"])
    assert "+        if name == \"apply_patch\":" in diff["patch"] and diff["added"] == stat["added"]
    back = cli_json(capsys, "diff", run, valid_child["id"], valid_child["parent"])
    assert (back["added"], back["deleted"]) == (diff["deleted"], diff["added"])

    assert main(["archive", "export", run]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in rows]
    assert all(r["llm_tokens"] > 0 for r in records)   # every agent's jobs called the model
    assert main(["archive", "export", run, "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["id"] for r in table] == [r["id"] for r in rows] and set(table[0]) == set(records[0])
    assert main(["archive", "check", run]) == 0
    after = file_hashes(scripted_run)
    assert {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} == set()   # read-only


def cli_lineage(capsys: pytest.CaptureFixture[str], run: str, agent: str) -> list[dict]:
    chain = cli_json(capsys, "lineage", run, agent)
    assert chain[-1]["id"] == agent and chain[0]["parent"] is None
    assert all(child["parent"] == parent["id"] for parent, child in zip(chain, chain[1:]))
    return chain


@pytest.mark.docker
def test_archive_commands_import_neither_litellm_nor_docker(scripted_run: Path, tmp_path: Path) -> None:
    commands = [["ls"], ["ls", "--json"], ["show", "g1c0"], ["tree"], ["diff", "g1c0"], ["lineage", "g1c0"],
                ["best"], ["export", "--format", "csv"], ["report", "--out", str(tmp_path / "r.html")], ["check"]]
    code = (
        "import sys, contextlib, io; from dgm.cli import main\n"
        f"for args in {commands!r}:\n"
        "    args = [args[0], sys.argv[1], *args[1:]]\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(['archive', *args]) == 0, args\n"
        "heavy = sorted(m for m in ('litellm', 'docker') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(scripted_run)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "r.html").is_file()


@pytest.mark.docker
def test_check_catches_a_deleted_commit_a_missing_artifact_and_a_dangling_job(
        scripted_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "copy"
    shutil.copytree(scripted_run, run)
    with RunStore.open(run, readonly=True) as store:
        victim = store.agent("g2c1")
        done_job = next(job for job in store.jobs(state="done", agent_id="g1c0") if job.kind == "self_improve")
    # A commit no other object needs: delete the loose object (or repack without it).
    subprocess.run(["git", "--git-dir", str(run / "agents.git"), "update-ref", "-d", "refs/agents/g2c1"], check=True)
    subprocess.run(["git", "--git-dir", str(run / "agents.git"), "reflog", "expire", "--expire=now", "--all"], check=True)
    subprocess.run(["git", "--git-dir", str(run / "agents.git"), "gc", "--prune=now", "--quiet"], check=True)
    shutil.rmtree(run / "agents" / "g1c0" / done_job.artifact)
    conn = sqlite3.connect(run / "run.db")
    conn.execute("UPDATE jobs SET state = 'running' WHERE key = 'g2c0/self_improve'")
    conn.commit()
    conn.close()

    assert main(["archive", "check", str(run)]) == 1
    out = capsys.readouterr().out
    assert f"missing_commit: g2c1: commit {victim.commit} is not in agents.git" in out
    assert f"missing_artifact: {done_job.key}: done job's artifacts are missing" in out
    assert "dangling_job: g2c0/self_improve: running, but no live process holds the run lock" in out
    assert out.strip().splitlines()[-1] == f"3 problems in {run}"
    # While a live process holds the run lock, a running job is normal, not debris.
    with RunLock(run):
        assert main(["archive", "check", str(run)]) == 1
    assert "dangling_job" not in capsys.readouterr().out


@pytest.mark.docker
def test_checked_out_agent_runs_under_dgm_eval(scripted_run: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with RunStore.open(scripted_run, readonly=True) as store:
        child = next(a for a in store.list_agents() if a.parent_id is not None and a.status == "evaluated")
        seed_result = {e.task_id: e.status for e in store.evaluations("g0c0")}
        files = subprocess.run(["git", "--git-dir", str(scripted_run / "agents.git"), "ls-tree", "-r", "--name-only",
                                child.commit], capture_output=True, text=True, check=True).stdout.split()
    dest = tmp_path / "agent"
    assert main(["agent", "checkout", str(scripted_run), child.id, str(dest)]) == 0
    assert "dgm eval --agent" in capsys.readouterr().out
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()) == sorted(files)

    assert main(["agent", "checkout", str(scripted_run), child.id, str(dest)]) == 2   # DEST not empty
    assert "is not empty; expected a new or empty directory" in capsys.readouterr().err

    # The seed failed this task in the run; the checked-out child has the tool that solves it.
    assert seed_result["slugify-unicode"] == "unresolved"
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [sys.executable, "-m", "dgm.cli", "eval", "--agent", str(dest), "--benchmark", "mini",
         "--task-ids", "slugify-unicode", "--model", "scripted", "--set", f"llm.script={DEMO_SCRIPT}",
         "--out", str(tmp_path / "eval"), "--json"],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert [(t["id"], t["status"]) for t in report["tasks"]] == [("slugify-unicode", "resolved")]


# -- small hand-made runs --------------------------------------------------------------------------


def test_tree_marks_the_best_lineage_and_invalid_agents(small_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archive", "tree", str(small_run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("* marks the best lineage (g0c0 -> g1c1)")
    assert lines[1:] == [
        "g0c0  0.300  [3/10]  *",
        "├── g1c0  0.583  [5/10 30/50]",
        "│   └── g2c0  -  invalid: empty patch",
        "└── g1c1  0.817  [9/10 40/50]  not admitted  * best",
    ]
    assert main(["archive", "best", str(small_run)]) == 0
    # 49/60 vs 35/60: pooled 0.7, z = 0.233 / sqrt(0.21 * 2 / 60) = 2.79 > 1.96
    assert capsys.readouterr().out.splitlines() == [
        "g1c1  score 0.817 (9/10 40/50, n=60, 95% CI [0.70, 0.89])  generation 1",
        "lineage: g0c0 -> g1c1", "versus runner-up g1c0: +0.233, beyond noise at 95%"]


def test_best_prefers_more_tasks_then_the_earliest_on_ties() -> None:
    from dgm.archive.records import AgentLine

    def line(agent_id: str, parent: str | None, generation: int, slot: int, *stages: StageScore) -> AgentLine:
        score = sum(s.resolved for s in stages) / sum(s.total for s in stages)
        return AgentLine(agent_id, parent, generation, slot, "c", "o", "evaluated", None, True, stages, score, 0.0, 0)

    seed = line("g0c0", None, 0, 0, StageScore(5, 10))
    short = line("g1c0", "g0c0", 1, 0, StageScore(10, 10))              # 1.0 on 10 tasks
    long_late = line("g2c1", "g1c0", 2, 1, StageScore(10, 10), StageScore(50, 50))
    long_early = line("g2c0", "g1c0", 2, 0, StageScore(10, 10), StageScore(50, 50))
    assert Archive([seed, short, long_early, long_late]).best() is long_early
    assert Archive([seed]).best() is seed
    assert Archive([]).best() is None


def test_best_command_agrees_with_the_full_scan_on_ties(small_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`best` narrows to the top score in SQL; the tie-break must still be the views' rule."""
    with RunStore.open(small_run, readonly=True) as store:
        commit = store.agent("g0c0").commit
    top = [{"resolved": 10, "total": 10}, {"resolved": 50, "total": 50}]
    conn = dbmod.connect(small_run / "run.db", readonly=False)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO agents (id, parent_id, generation, slot, commit_sha, origin, status, admitted, scores, score, "
        "created_at) VALUES (?, ?, ?, ?, ?, 'self_improve', ?, 1, ?, ?, 0)",
        [("g3c0", "g1c1", 3, 0, commit, "evaluated", json.dumps(top[:1]), 1.0),     # perfect, fewer tasks
         ("g3c1", "g1c0", 3, 1, commit, "pending", json.dumps(top), 1.0),          # not evaluated yet
         ("g4c0", "g3c0", 4, 0, commit, "evaluated", json.dumps(top), 1.0),        # the best
         ("g5c0", "g4c0", 5, 0, commit, "evaluated", json.dumps(top), 1.0)])       # as good, but later
    conn.execute("COMMIT")
    conn.close()
    best = cli_json(capsys, "best", str(small_run))
    with RunStore.open(small_run, readonly=True) as store:
        assert best["id"] == Archive(store.list_agent_lines()).best().id == "g4c0"
    assert best["lineage"] == ["g0c0", "g1c1", "g3c0", "g4c0"] and best["children"] == 1


def test_unknown_agent_and_seed_diff_are_one_line_errors(small_run: Path) -> None:
    for args, message in (
        (["show", str(small_run), "g9c9"], f"dgm: error: unknown agent 'g9c9' in {small_run}"),
        (["diff", str(small_run), "g0c0"], "dgm: error: g0c0 is the seed and has no parent to diff against; name a second agent"),
        (["lineage", str(small_run), "g9c9"], f"dgm: error: unknown agent 'g9c9' in {small_run}"),
    ):
        done = subprocess.run([sys.executable, "-m", "dgm.cli", "archive", *args], capture_output=True, text=True,
                              timeout=60)
        assert (done.returncode, done.stderr.strip().splitlines()) == (2, [message]), done.stderr


def test_best_on_a_run_with_no_score_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "main.py").write_text("")
    RunStore.create(tmp_path / "run", {}, seed).close()
    assert main(["archive", "best", str(tmp_path / "run")]) == 2
    assert "no agent has a score yet" in capsys.readouterr().err
    assert main(["archive", "tree", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["g0c0  -  pending"]


def test_reads_beside_a_live_writer(small_run: Path) -> None:
    """A loop holding the lock in the middle of a write transaction: readers see the last
    committed state, neither block nor fail, and check does not call running jobs dangling."""
    with RunLock(small_run), RunStore.open(small_run) as writer:
        writer.add_job("g2c1/self_improve", "self_improve", agent_id="g2c1", generation=2, artifact="self_improve")
        writer.start_job("g2c1/self_improve")
        with writer.transaction():
            writer.set_scores("g1c0", [StageScore(10, 10)])   # not committed while the readers run
            for args in (["ls", "--json"], ["best", "--json"], ["check"]):
                done = subprocess.run([sys.executable, "-m", "dgm.cli", "archive", args[0], str(small_run), *args[1:]],
                                      capture_output=True, text=True, timeout=60)
                assert done.returncode == 0, (args, done.stdout, done.stderr)
                if args[0] == "ls":
                    assert {r["id"]: r["score"] for r in json.loads(done.stdout)}["g1c0"] == pytest.approx(35 / 60)
                if args[0] == "best":
                    assert json.loads(done.stdout)["id"] == "g1c1"


def test_deep_lineages_do_not_hit_the_recursion_limit(small_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A chain g1c0 -> g3c0 -> g4c0 -> ... deeper than Python's recursion limit."""
    last = 1200
    with RunStore.open(small_run, readonly=True) as store:
        commit = store.agent("g0c0").commit
    conn = dbmod.connect(small_run / "run.db", readonly=False)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO agents (id, parent_id, generation, slot, commit_sha, origin, status, admitted, scores, score, "
        "created_at) VALUES (?, ?, ?, 0, ?, 'self_improve', 'evaluated', 1, ?, ?, ?)",
        [(f"g{g}c0", "g1c0" if g == 3 else f"g{g - 1}c0", g, commit, json.dumps([{"resolved": 1, "total": 10}]), 0.1,
          time.time()) for g in range(3, last + 1)])
    conn.execute("COMMIT")
    conn.close()
    tree = cli_json(capsys, "tree", str(small_run))
    assert max(node["depth"] for node in tree["nodes"]) == last - 1
    assert len(cli_json(capsys, "lineage", str(small_run), f"g{last}c0")) == last
    assert main(["archive", "tree", str(small_run)]) == 0
    deepest = next(line for line in capsys.readouterr().out.splitlines() if f"g{last}c0 " in line)
    assert deepest == "│   " + "    " * (last - 3) + f"└── g{last}c0  0.100  [1/10]"


def test_export_records_are_flat_and_uniform(small_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["archive", "export", str(small_run), "--format", "csv", "--out", str(small_run / "x.csv")]) == 0
    rows = list(csv.DictReader((small_run / "x.csv").open()))
    assert [r["id"] for r in rows] == ["g0c0", "g1c0", "g1c1", "g2c0"]
    assert rows[1]["stage2_resolved"] == "30" and rows[0]["stage2_total"] == "" and rows[3]["status"] == "invalid"
    assert main(["archive", "export", str(small_run)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len({tuple(r) for r in records}) == 1   # same columns for every agent
    assert all(not isinstance(v, (dict, list)) for r in records for v in r.values())
    assert (records[1]["resolved"], records[1]["total"], records[1]["children"]) == (35, 60, 0)
    blocked = small_run / "x.csv" / "inside.csv"   # a file where a directory should be
    assert main(["archive", "export", str(small_run), "--out", str(blocked)]) == 2
    assert f"dgm: error: cannot write {blocked}" in capsys.readouterr().err


def test_diff_stat_counts_lines_per_file() -> None:
    diff = (
        "diff --git a/tools.py b/tools.py\nindex 1..2 100644\n--- a/tools.py\n+++ b/tools.py\n"
        "@@ -1,3 +1,4 @@\n context\n--- a removed line that looks like a header\n+++ an added one\n+x\n"
        "diff --git a/new.py b/new.py\nnew file mode 100644\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+print()\n"
        "diff --git a/old.py b/old.py\ndeleted file mode 100644\n--- a/old.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n"
        "diff --git a/logo.png b/logo.png\nindex 3..4 100644\nBinary files a/logo.png and b/logo.png differ\n"
    )
    assert [(s.path, s.added, s.deleted, s.binary) for s in diff_stat(diff)] == [
        ("tools.py", 2, 1, False), ("new.py", 1, 0, False), ("old.py", 0, 2, False), ("logo.png", 0, 0, True)]
    assert diff_stat("") == []
