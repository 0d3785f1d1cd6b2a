"""`dgm doctor`: each check's verdict and the fix it prints; key names only, never values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dgm import config as config_mod
from dgm.commands import doctor


def _config(**llm) -> config_mod.Config:
    return config_mod.validate({"llm": llm}, "test")


def test_missing_key_is_named_with_its_fix(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    [check] = doctor.check_keys(_config(model="openai/gpt-4o"))
    assert not check.ok and "OPENAI_API_KEY" in check.detail and "export OPENAI_API_KEY" in check.fix


def test_run_prints_the_fix_of_each_failing_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(doctor, "check_docker", lambda: doctor.Check("Docker daemon", False, "down", "start Docker"))
    monkeypatch.setattr(doctor, "MIN_FREE_GIB", 1e9)
    monkeypatch.setenv("COLUMNS", "200")
    from dgm.cli import main

    assert main(["doctor", "--archive", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "fix Docker daemon: start Docker" in out and "fix disk space: free disk space" in out
    assert "fix sandbox image: fix the Docker daemon first" in out


def test_present_key_passes_without_showing_its_value(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-123")
    checks = doctor.check_keys(config_mod.validate(
        {"llm": {"model": "openai/gpt-4o", "roles": {"diagnose": {"model": "scripted"}}}}, "test"))
    assert [c.ok for c in checks] == [True, True]
    assert all("sk-secret" not in f"{c.name} {c.detail} {c.fix}" for c in checks)


def test_no_model_needs_no_key():
    [check] = doctor.check_keys(_config())
    assert check.ok and "no model configured" in check.detail


def test_disk_check_walks_up_to_an_existing_dir(tmp_path: Path, monkeypatch):
    check = doctor.check_disk(tmp_path / "not" / "yet" / "created")
    assert "GiB free under" in check.detail and str(tmp_path) in check.detail
    monkeypatch.setattr(doctor, "MIN_FREE_GIB", 1e9)
    failing = doctor.check_disk(tmp_path)
    assert not failing.ok and "free disk space" in failing.fix


@pytest.mark.docker
def test_cli_passes_here_and_fails_with_fixes(docker_ready, tmp_path: Path):
    env = dict(os.environ)
    ok = subprocess.run([sys.executable, "-m", "dgm.cli", "doctor", "--archive", str(tmp_path)],
                        capture_output=True, text=True, timeout=120, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("sandbox:\n  image: dgm-sandbox:not-there\n")
    failed = subprocess.run([sys.executable, "-m", "dgm.cli", "doctor", "--config", str(bad), "--archive", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, env={**env, "COLUMNS": "200"})
    assert failed.returncode == 1
    assert "fix sandbox image: pull or build dgm-sandbox:not-there" in failed.stdout


def test_config_may_name_a_bundled_preset(monkeypatch, tmp_path):
    """`dgm doctor --config quickstart` checks the preset `dgm run quickstart` would use."""
    seen = []
    monkeypatch.setattr(doctor, "run_checks", lambda cfg, archive: seen.append(cfg) or [])
    monkeypatch.chdir(tmp_path)         # no quickstart file here: only the bundled preset has the name
    from dgm.cli import main

    assert main(["doctor", "--config", "quickstart"]) == 0
    assert seen == [config_mod.load(Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml")]
