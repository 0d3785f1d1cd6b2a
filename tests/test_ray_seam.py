"""Host-only tests of the sandboxed-job seam and the Ray executor's parts that need no cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dgm import config as configmod
from dgm.config import BudgetConfig, JobBudget
from dgm.errors import ConfigError
from dgm.executor import LocalExecutor
from dgm.llm.budget import Spend
from dgm.llm.cassette import Cassette, CallRecord
from dgm.llm.types import Usage
from dgm.scale.coordinator import Coordinator
from dgm.scale.jobs import LOCAL_NODE, SandboxJob, Tree


def _record(key: str, seq: int, cost: float = 0.5) -> CallRecord:
    return CallRecord(job_key=key, seq=seq, run="r", agent="a", role="solve", model="m", request_hash=f"h{seq}",
                      request="{}", response={"choices": [{"message": {"content": str(seq)}}]}, error_type=None,
                      error_message=None, usage=Usage(10, 5), cost=cost, latency=0.1, attempts=1)


def test_a_tree_carries_a_directory_byte_for_byte(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg" / "deep").mkdir(parents=True)
    (src / "main.py").write_text("print('hi')\n")
    (src / "pkg" / "deep" / "blob.bin").write_bytes(bytes(range(256)) * 10)
    (src / "empty").mkdir()
    back = Tree.pack(src).unpack(tmp_path / "dest")
    assert sorted(p.relative_to(back).as_posix() for p in back.rglob("*")) == \
        ["empty", "main.py", "pkg", "pkg/deep", "pkg/deep/blob.bin"]
    assert (back / "pkg" / "deep" / "blob.bin").read_bytes() == bytes(range(256)) * 10
    with pytest.raises(ValueError, match="not a directory"):
        Tree.pack(src / "main.py")


def test_a_tree_cannot_write_outside_its_destination(tmp_path: Path) -> None:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"no"))
    with pytest.raises(tarfile.TarError):
        Tree(buffer.getvalue()).unpack(tmp_path / "dest")
    assert not (tmp_path / "escaped.txt").exists()


def test_cassette_lists_and_imports_records_idempotently(tmp_path: Path) -> None:
    node = Cassette(tmp_path / "node.db")
    for seq in range(3):
        node.record(_record("g1c0/eval/t#1", seq))
    node.record(_record("other#1", 0))
    assert [r.seq for r in node.records("g1c0/eval/t#1")] == [0, 1, 2]
    assert len(node.records()) == 4
    driver = Cassette(tmp_path / "run.db")
    driver.record(_record("g1c0/eval/t#1", 0))
    assert driver.import_records(node.records()) == 3          # seq 0 of that job was there already
    assert driver.import_records(node.records()) == 0          # importing twice changes nothing
    assert driver.records("g1c0/eval/t#1") == node.records("g1c0/eval/t#1")
    assert driver.next_seq("g1c0/eval/t#1") == 3
    run, jobs = driver.spend()
    assert run == Spend(4, 60, 2.0) and jobs["other#1"] == Spend(1, 15, 0.5)


def test_the_coordinator_budget_refuses_past_caps_and_counts_like_a_budget() -> None:
    coordinator = Coordinator(BudgetConfig(max_dollars=1.0, per_job=JobBudget(max_calls=2)),
                              Spend(1, 100, 0.25), {"old#1": Spend(1, 100, 0.25)})
    assert coordinator.reserve("j#1", None) is None
    coordinator.settle("j#1", 40, 0.5)
    assert coordinator.reserve("j#1", None) is None
    assert "limit of 2 model calls" in coordinator.reserve("j#1", None)
    coordinator.settle("j#1", 10, 0.25)
    assert coordinator.exhausted()
    assert "run budget reached" in coordinator.reserve("k#1", None)
    run, jobs = coordinator.snapshot()
    assert run == Spend(3, 150, 1.0) and jobs["j#1"] == Spend(2, 50, 0.75) and coordinator.in_flight() == 0


def test_executor_config_validates_kind_address_and_resource() -> None:
    config = configmod.load(None, ["executor.kind=ray", "executor.address=ray://head:10001", "executor.resource=dock"])
    assert (config.executor.kind, config.executor.address, config.executor.resource) == ("ray", "ray://head:10001", "dock")
    assert configmod.load(None).executor.kind == "local"
    with pytest.raises(ConfigError, match="executor.kind"):
        configmod.load(None, ["executor.kind=dask"])
    with pytest.raises(ConfigError, match="executor.resource"):
        configmod.load(None, ["executor.kind=ray", "executor.resource="])


def _double(gateway: object, out: Path | None, *, n: int) -> int:
    if out is not None:
        (out / "seen.txt").write_text(f"gateway={gateway}")
    return 2 * n


def test_the_local_executor_runs_a_job_in_process_with_the_runs_gateway(tmp_path: Path) -> None:
    with LocalExecutor(1, gateway="the-gateway") as executor:  # type: ignore[arg-type]
        outcome = executor.run_job(SandboxJob("k#1", _double, {"n": 21}), tmp_path)
    assert (outcome.value, outcome.node) == (42, LOCAL_NODE)
    assert (tmp_path / "seen.txt").read_text() == "gateway=the-gateway"
    with LocalExecutor(1) as executor:  # jobs that need no model (policy runs, smoke checks) need no gateway
        assert executor.run_job(SandboxJob("k#1", _double, {"n": 1}), tmp_path).value == 2


def test_a_local_run_never_imports_ray() -> None:
    code = ("import sys; from dgm import config, executor; "
            "executor.create(config.load(None), llm=None, gateway=None, run='r', cassette_db=None).close(); "
            "import dgm.loop.session, dgm.loop.child, dgm.scale.ray_executor; print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
