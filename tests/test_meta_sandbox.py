"""Policy code in real sandboxes: the seed policy matches the built-in, hostile policies are
contained and refused, validation rejects what would break a run, and a failing governing
policy falls back to the built-in with the failure recorded."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from dgm.archive.records import StageScore
from dgm.archive.store import RunStore
from dgm.archive.summary import ArchiveSummary
from dgm.config import SandboxConfig, load
from dgm.executor import LocalExecutor
from dgm.loop.context import RunContext
from dgm.meta import synthetic, versions
from dgm.meta.contract import PolicyAnswerError, check_answer, policy_input
from dgm.meta.governor import Governor
from dgm.meta.sandboxed import PolicyRun, run_policies
from dgm.meta.validation import validate
from dgm.selection import get_policy

pytestmark = pytest.mark.docker

SEED_SOURCE = (versions.SEED_POLICY_DIR / "policy.py").read_bytes()
SANDBOX = SandboxConfig()


def containers(label: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=dgm.run={label}"], capture_output=True,
                         text=True, check=True).stdout
    return out.split()


def policy(body: str) -> bytes:
    """A policy whose `choose(data)` answers; `body` is its function body."""
    return ("import json, os, sys, random\n\ndef choose(data):\n"
            + "".join(f"    {line}\n" for line in body.strip().splitlines())
            + "\nprint(json.dumps(choose(json.load(sys.stdin))))\n").encode()


VALID = "return [n['id'] for n in data['nodes'] if n['eligible']][:1] * data['n']"


def batch(run_label: str, job: str):
    """Run policy batches in sandboxes here, as the local executor does."""
    return lambda runs: run_policies(runs, sandbox_config=SANDBOX, run=run_label, job=job, seconds=10)


def test_seed_policy_makes_the_builtin_choices(docker_ready: None, run_label: str) -> None:
    builtin = get_policy("score_child_prop")
    cases = [(name, summary, n, f"{seed}:selection:{generation}")
             for (name, summary), n, seed, generation in zip(synthetic.cases().items(), (1, 2, 5, 3, 8),
                                                             (0, 7, 42, 3, 11), (1, 4, 9, 2, 30))]
    outputs = run_policies([PolicyRun(SEED_SOURCE, policy_input(summary, n, seed)) for _, summary, n, seed in cases],
                           sandbox_config=SANDBOX, run=run_label, job="seed-equality", seconds=20)
    for (name, summary, n, seed), output in zip(cases, outputs):
        assert output.failure(20) is None, (name, output)
        assert check_answer(output.stdout, summary, n) == builtin.select(summary, n, random.Random(seed)), name
    assert containers(run_label) == []


def test_the_contract_test_passes_for_the_seed_policy_in_a_sandbox(docker_ready: None, run_label: str) -> None:
    from dgm.sandbox.docker_backend import DockerSandbox

    with DockerSandbox(SANDBOX, run=run_label, job="contract-test", role="policy") as sb:
        with versions.seed_files() as files:
            sb.write("/work/policy", files)
        result = sb.exec("python3 -m pytest -q -p no:cacheprovider", timeout=120, cwd="/work/policy")
    assert result.exit_code == 0, result.output
    assert "8 passed" in result.output


def test_hostile_policies_are_contained_and_refused(docker_ready: None, run_label: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.db").write_text("secret")
    hostile = {
        "raises": (policy("return 1 / 0"), "exited with code 1: ZeroDivisionError"),
        "loops forever": (policy("while True:\n    pass"), "did not finish within 3 s"),
        "prints non-JSON": (policy("print('I choose g0c0')\nsys.exit(0)"), "not JSON"),
        "unknown ids": (policy("return ['g99c0'] * data['n']"), "unknown id(s) g99c0"),
        "10,000 ids": (policy("return [data['nodes'][0]['id']] * 10000"), "returned 10000 ids"),
        "reads /etc/shadow": (policy(f"open('/etc/shadow').read()\n{VALID}"), "PermissionError"),
        "reads the run dir": (policy(f"open({str(run_dir / 'run.db')!r}).read()\n{VALID}"), "FileNotFoundError"),
        "writes the run dir": (policy(f"open({str(run_dir / 'pwned')!r}, 'w').write('x')\n{VALID}"),
                               "FileNotFoundError"),
        "lists the host": (policy(f"os.listdir({str(tmp_path)!r})\n{VALID}"), "FileNotFoundError"),
    }
    summary = synthetic.all_zero()
    data = policy_input(summary, 2, "0:selection:1")
    outputs = run_policies([PolicyRun(source, data) for source, _ in hostile.values()] + [PolicyRun(policy(VALID), data)],
                           sandbox_config=SANDBOX, run=run_label, job="hostile", seconds=3)
    for (name, (_, expected)), output in zip(hostile.items(), outputs):
        problem = output.failure(3)
        if problem is None:
            with pytest.raises(PolicyAnswerError) as err:
                check_answer(output.stdout, summary, 2)
            problem = str(err.value)
        assert expected in problem, (name, problem)
    assert check_answer(outputs[-1].stdout, summary, 2) == ["g0c0", "g0c0"]  # the sandbox still works after them all
    assert sorted(p.name for p in run_dir.iterdir()) == ["run.db"]
    assert containers(run_label) == []


def test_validation_rejects_what_would_break_a_run(docker_ready: None, run_label: str) -> None:
    live = synthetic.random_tree(50)
    ok = validate(SEED_SOURCE, live, 2, run_batch=batch(run_label, "v-seed"), seconds=10)
    assert ok.ok and ok.reason is None
    assert [case.name for case in ok.cases] == ["one node", "all scores zero", "1000 nodes", "deep tree",
                                                "wide tree", "live archive", "1000 nodes", "live archive"]
    recursive = policy("""
def depth(node_id, parents):
    return 0 if parents[node_id] is None else 1 + depth(parents[node_id], parents)
parents = {n['id']: n['parent'] for n in data['nodes']}
best = max((n for n in data['nodes'] if n['eligible']), key=lambda n: depth(n['id'], parents))
return [best['id']] * data['n']""")
    deep = validate(recursive, live, 2, run_batch=batch(run_label, "v-deep"), seconds=10)
    assert not deep.ok and deep.reason.startswith("deep tree: exited with code 1: RecursionError")
    clock = policy("return random.Random(os.urandom(8)).choices([n['id'] for n in data['nodes'] if n['eligible']], "
                   "k=data['n'])")
    nondeterministic = validate(clock, live, 2, run_batch=batch(run_label, "v-clock"), seconds=10)
    assert not nondeterministic.ok
    assert nondeterministic.reason == "1000 nodes: gave a different answer to the same input and seed (it must be deterministic)"


def test_a_failing_governing_policy_falls_back_and_is_recorded(docker_ready: None, tmp_path: Path) -> None:
    """p1, on trial for generations 1-5, misbehaves differently in generations 1-4 and works in 5."""
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "main.py").write_text("print('agent')\n")
    config = load(None, ["meta.enabled=true", "meta.trial=5", "meta.policy_seconds=2"])
    with RunStore.create(tmp_path / "run", config.to_dict(), seed) as store:
        store.set_scores("g0c0", [StageScore(3, 10)])
        versions.ensure_seed(store)
        files = tmp_path / "p1"
        files.mkdir()
        (files / "policy.py").write_bytes(policy(f"""
generation = data['seed'].rsplit(':', 1)[1]
if generation == '1':
    raise RuntimeError('trojan')
if generation == '2':
    while True:
        pass
if generation == '3':
    return ['g0c0'] * 10000
if generation == '4':
    open({str(store.run_dir / 'pwned')!r}, 'w').write('x')
return ['g0c0'] * data['n']"""))
        store.add_policy("p1", "p0", store.commit_policy("p1", "p0", files), origin="meta", status="trial",
                         generation=0)
        ctx = RunContext(config=config, store=store, llm=None, gateway=None, executor=LocalExecutor(1), tasks=[],  # type: ignore[arg-type]
                         progress=None, work_root=tmp_path)  # type: ignore[arg-type]
        governor = Governor(ctx)
        summary = store.summary()
        builtin = get_policy("score_child_prop")
        for generation in range(1, 5):
            chosen = governor.plan(generation, summary, 2, f"0:selection:{generation}",
                                   lambda: builtin.select(summary, 2, random.Random(generation)))
            assert chosen == builtin.select(summary, 2, random.Random(generation))
        assert governor.plan(5, summary, 2, "0:selection:5", lambda: pytest.fail("p1 works in generation 5")) == [
            "g0c0", "g0c0"]
        planned = [e.payload for e in store.events(kind="generation_planned")]
        assert [p["policy"] for p in planned] == ["score_child_prop"] * 4 + ["p1"]
        assert all(p["policy_version"] == "p1" for p in planned) and "fallback_reason" not in planned[4]
        reasons = [p["fallback_reason"] for p in planned[:4]]
        assert "RuntimeError: trojan" in reasons[0] and reasons[1] == "did not finish within 2 s"
        assert reasons[2] == "returned 10000 ids (expected exactly 2)" and "FileNotFoundError" in reasons[3]
        failed = store.events(kind="policy_failed")
        assert [(e.payload["policy"], e.payload["generation"], e.payload["fallback"]) for e in failed] == [
            ("p1", g, "score_child_prop") for g in range(1, 5)]
        version = store.policy("p1")
        assert version.failures == 4 and version.governed == (5,)
        assert not (store.run_dir / "pwned").exists()
        json.dumps([e.payload for e in store.events()])  # every payload is plain JSON
        label = ctx.run_label
    assert containers(label) == []


def test_a_policy_that_forks_and_eats_memory_cannot_hold_its_sandbox(docker_ready: None, run_label: str) -> None:
    """Every child escapes the process group and grabs memory; the host's per-run deadline
    (policy_seconds + RUN_SLACK_SECONDS) removes the sandbox, and the batch ends as timed out."""
    import time

    from dgm.meta.sandboxed import RUN_SLACK_SECONDS, START_SECONDS

    bomb = policy("hog = []\nwhile True:\n    try:\n        if os.fork() == 0:\n            os.setsid()\n"
                  "    except OSError:\n        pass\n    hog.append(bytearray(20 * 2 ** 20))")
    data = policy_input(synthetic.all_zero(), 1, "0:selection:1")
    started = time.monotonic()
    outputs = run_policies([PolicyRun(bomb, data), PolicyRun(bomb, data), PolicyRun(policy(VALID), data)],
                           sandbox_config=SandboxConfig(memory_mb=256, pids_limit=64), run=run_label, job="bomb",
                           seconds=3)
    elapsed = time.monotonic() - started
    assert all(output.failure(3) is not None for output in outputs[:2])
    assert elapsed < START_SECONDS / 4 + 3 * (3 + RUN_SLACK_SECONDS)
    assert containers(run_label) == []
