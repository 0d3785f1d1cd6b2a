"""Config: typed loading, overrides, and one-line errors that name the key path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dgm import config
from dgm.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_defaults_and_values(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, "run: {seed: 7}\nsandbox: {memory_mb: 1024}\n"))
    assert cfg.run.seed == 7
    assert cfg.sandbox.memory_mb == 1024
    assert cfg.sandbox.cpus == 1.0


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert config.load(write(tmp_path, "")) == config.Config()


def test_unknown_key_names_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'sandbox.memroy_mb'"):
        config.load(write(tmp_path, "sandbox: {memroy_mb: 10}\n"))


def test_wrong_type_names_path_and_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, "sandbox: {memory_mb: lots}\n"))
    message = str(err.value)
    assert "sandbox.memory_mb" in message and "integer" in message and "'lots'" in message
    assert "\n" not in message


def test_out_of_range_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sandbox.pids_limit: .*greater than or equal to 16.*got 2"):
        config.load(write(tmp_path, "sandbox: {pids_limit: 2}\n"))


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"malformed YAML at line 3"):
        config.load(write(tmp_path, "run:\n  seed: 1\n bad: [\n"))


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        config.load(write(tmp_path, "- a\n- b\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.yaml")


def test_overrides_are_typed(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, "run: {seed: 1}\n"), ["run.seed=5", "sandbox.cpus=0.5", "llm.model=openai/x"])
    assert cfg.run.seed == 5 and cfg.sandbox.cpus == 0.5 and cfg.llm.model == "openai/x"


def test_override_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected KEY.PATH=VALUE"):
        config.load(None, ["seed"])
    with pytest.raises(ConfigError, match="is a value, not a section"):
        config.load(None, ["run.seed=1", "run.seed.x=2"])
    with pytest.raises(ConfigError, match="unknown key 'run.sede'"):
        config.load(None, ["run.sede=1"])


def test_cli_prints_one_line_without_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, "sandbox: {memory_mb: -5}\n")
    proc = subprocess.run([sys.executable, "-m", "dgm.cli", "doctor", "--config", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [f"dgm: error: {bad}: sandbox.memory_mb: input should be greater than or equal to 64, got -5"]


@pytest.mark.parametrize("text, message", [
    ("loop: {schedule: sometimes}\n", "loop.schedule"),
    ("loop: {schedule: async, units: 0}\n", "loop.units"),
])
def test_schedule_keys_are_checked(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.load(write(tmp_path, text))
    assert config.load(write(tmp_path, "loop: {schedule: async, units: 5}\n")).loop.units == 5
