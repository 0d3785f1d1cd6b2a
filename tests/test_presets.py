"""Every shipped preset is a valid config, and the paper presets carry the reference settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from dgm import config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PRESETS = sorted(p for p in CONFIGS.rglob("*.yaml") if p.parent.name != "demo")


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: str(p.relative_to(CONFIGS)))
def test_preset_validates(path: Path) -> None:
    config.load(path)


def test_paper_presets_are_the_reference() -> None:
    for name in ("paper-swe.yaml", "paper-polyglot.yaml"):
        cfg = config.load(CONFIGS / name)
        assert (cfg.loop.generations, cfg.loop.children_per_generation) == (80, 2)
        assert (cfg.loop.selection, cfg.loop.admission) == ("score_child_prop", "keep_all")
        assert [(s.size, s.admit, s.threshold) for s in cfg.evaluation.stages] == [
            (10, "always", 0.0), (50, "threshold", 0.4), (140, "second_best", 0.4)]


def test_ablations() -> None:
    assert config.load(CONFIGS / "ablations" / "no-open-ended.yaml").loop.selection == "latest"
    assert config.load(CONFIGS / "ablations" / "no-self-improve.yaml").loop.self_improver == "seed"
