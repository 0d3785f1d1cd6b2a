"""`dgm serve`'s JSON API over real HTTP on a hand-made run: agents are `archive ls --json`, an
agent carries its diff, nothing is written into the run, unknown paths and ids are 404."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dgm.cli import main
from dgm.commands.serve import is_loopback
from dgm.dashboard.data import describe
from dgm.dashboard.server import make_server


@pytest.fixture
def served(small_run: Path) -> Iterator[str]:
    server = make_server(small_run, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def tree_state(run: Path) -> dict[str, float]:
    # run.db-wal/-shm: SQLite's own files, made by any reader of a WAL database (`archive ls` too).
    return {str(p.relative_to(run)): p.stat().st_mtime_ns for p in run.rglob("*")
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def test_api_agents_are_archive_ls_json(served: str, small_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = tree_state(small_run)
    assert main(["archive", "ls", str(small_run), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    status, body = get(served + "/api/agents")
    assert status == 200 and body == listed and len(body) == 4
    status, run = get(served + "/api/run")
    assert status == 200 and run["agents"] == 4 and run["invalid"] == 1 and run["state"] == "stopped"
    assert run["best"]["id"] == "g1c1" and [g["generation"] for g in run["generations"]] == [0, 1, 2]
    assert tree_state(small_run) == before   # nothing written into the run, no lock taken


def test_api_agent_has_its_diff_and_unknowns_are_404(served: str, small_run: Path) -> None:
    status, body = get(served + "/api/agents/g1c0")
    assert status == 200 and body["agent"]["id"] == "g1c0" and body["agent"]["parent"] == "g0c0"
    assert isinstance(body["diff"], str) and body["diff_truncated"] is False and body["paths"] == {}
    status, body = get(served + "/api/agents/g9c9")
    assert status == 404 and "g9c9" in body["error"]
    status, body = get(served + "/api/nothing")
    assert status == 404 and "/api/run" in body["error"]
    assert get(served + "/api/policy") == (200, [])


def test_a_large_tree_is_collapsed_on_the_server_and_expands(served: str) -> None:
    def shown(query: str) -> tuple[set[str], dict[str, int]]:
        status, body = get(served + "/api/tree" + query)
        assert status == 200 and body["agents"] == 4
        return ({n["id"] for n in body["nodes"] if not n.get("clade")},
                {n["id"]: n["agents"] for n in body["nodes"] if n.get("clade")})

    assert shown("") == ({"g0c0", "g1c0", "g1c1", "g2c0"}, {})
    # two agents at most: the seed and the best (g1c1); g1c0 and its child fold into one clade
    assert shown("?limit=2") == ({"g0c0", "g1c1"}, {"clade:g0c0": 2})
    assert shown("?limit=2&expand=g0c0") == ({"g0c0", "g1c0", "g1c1"}, {"clade:g1c0": 1})
    status, body = get(served + "/api/tree?limit=none")
    assert status == 400 and "limit" in body["error"]


def write_trajectories(run: Path) -> None:
    """g1c0: a self-improvement trajectory and one task's (hostile text, a huge tool output)."""
    from dgm.archive.records import Evaluation
    from dgm.archive.store import RunStore

    step = {"type": "step", "step": 1, "response": {"content": "<script>alert(1)</script> reading"},
            "tool_calls": [{"id": "c0", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls"}'}}],
            "tool_results": [{"name": "bash", "output": "x" * 50_000}]}
    final = {"type": "final", "exit_reason": "finished", "steps": 1, "detail": ""}
    text = "\n".join(json.dumps(r) for r in ({"type": "start", "messages": [{"role": "user", "content": "fix it"}]},
                                              step, "not a record", final)) + "\nnot json\n"
    with RunStore.open(run) as store:
        store.write_artifact("g1c0", "self_improve/trajectory.jsonl", text)
        store.write_artifact("g1c0", "eval/t 1/trajectory.jsonl", text.replace("reading", "solving"))
        store.add_evaluation(Evaluation("g1c0", "t 1", 0, "resolved", artifact_dir="agents/g1c0/eval/t 1"))


def test_trajectories_are_named_not_pathed_and_clipped(served: str, small_run: Path) -> None:
    write_trajectories(small_run)
    status, listed = get(served + "/api/agents/g1c0/trajectories")
    assert status == 200 and [t["name"] for t in listed] == ["self_improve", "t 1"]
    assert str(small_run) not in json.dumps(listed) and "agents/" not in json.dumps(listed)
    status, body = get(served + "/api/agents/g1c0")
    assert status == 200 and "agents/" not in json.dumps(body["evaluation"])   # no artifact_dir either
    status, t = get(served + "/api/agents/g1c0/trajectories/t%201")
    assert status == 200 and t["start"] == [{"role": "user", "content": "fix it"}]
    [step] = t["steps"]
    assert step["content"] == "<script>alert(1)</script> solving"   # as text; the page escapes it
    assert step["tool_calls"] == [{"name": "bash", "arguments": '{"command": "ls"}'}]
    output = step["tool_results"][0]["output"]
    assert len(output) < 2100 and "48000 characters omitted" in output
    assert t["final"]["exit_reason"] == "finished" and t["cut"] is False
    for name in ("..%2F..%2Frun.db", "diagnosis", "nothing"):   # only names from the store's rows
        status, body = get(served + f"/api/agents/g1c0/trajectories/{name}")
        assert status == 404 and "self_improve, t 1" in body["error"]
    assert get(served + "/api/agents/g0c0/trajectories") == (200, [])
    assert get(served + "/api/agents/g9c9/trajectories")[0] == 404


def test_matrix_says_what_each_child_gained_and_lost(served: str, small_run: Path) -> None:
    from dgm.archive.records import Evaluation
    from dgm.archive.store import RunStore

    results = {"g0c0": {"a": "unresolved", "b": "resolved", "c": "resolved"},
               "g1c0": {"a": "resolved", "b": "unresolved", "c": "infra_error"},   # infra: says nothing
               "g1c1": {"a": "resolved", "b": "resolved"}}
    with RunStore.open(small_run) as store:
        for agent_id, tasks in results.items():
            for task, status in tasks.items():
                store.add_evaluation(Evaluation(agent_id, task, 0, status))
        store.add_evaluation(Evaluation("g2c0", "b", 0, "resolved"))
    status, m = get(served + "/api/matrix")
    assert status == 200 and m["tasks"] == ["b", "a", "c"] and m["agents_with_results"] == 4   # most solved first
    rows = {a["id"]: (a["gained"], a["lost"], cells) for a, cells in zip(m["agents"], m["cells"])}
    assert [a["id"] for a in m["agents"]] == ["g0c0", "g1c0", "g2c0", "g1c1"]   # depth-first
    assert rows["g0c0"] == ([], [], [1, 0, 1])
    assert rows["g1c0"] == (["a"], ["b"], [0, 1, None])
    assert rows["g2c0"] == (["b"], [], [1, None, None])
    assert rows["g1c1"] == (["a"], [], [1, 1, None])
    status, m = get(served + "/api/matrix?limit=1")
    assert status == 200 and len(m["agents"]) == len(m["cells"]) == 1


def test_policy_events_read_as_sentences() -> None:
    assert describe("policy_kept", {"generation": 6, "policy": "p1", "meta_fitness": 0.125, "reason": "kept: better"}) \
        == "generation 6: policy p1 was kept (meta-fitness +0.1250): kept: better"
    assert describe("policy_trial", {"generation": 4, "policy": "p2", "governs": [5, 6]}) \
        == "generation 4: policy p2 went on trial for generations 5 to 6"


def test_non_loopback_hosts_are_told_apart() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_serve_refuses_a_directory_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(tmp_path), "--port", "0"]) == 2
    assert "is not a dgm run" in capsys.readouterr().err


def test_layout_puts_parents_over_their_children_and_colours_by_score() -> None:
    from dgm.dashboard.tree import UNSCORED, layout, score_colour

    children = {"s": ["a", "b"], "a": ["c", "d"]}
    places = layout(["s"], children, {"s": 0, "a": 1, "b": 1, "c": 2, "d": 2})
    assert len(set(places.values())) == len(places) == 5   # no two nodes on one spot
    assert places["a"] == ((places["c"][0] + places["d"][0]) / 2, 1)
    assert places["s"][0] == (places["a"][0] + places["b"][0]) / 2 and places["c"][1] == 2
    assert score_colour(1.0) == "#1a9850" and score_colour(0.0) == "#d73027" and score_colour(None) == UNSCORED
