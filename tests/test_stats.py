"""Score statistics and HGM's clade-metaproductivity estimator, against hand-computed values."""

from __future__ import annotations

import random

import pytest

from dgm.archive.records import AgentLine, StageScore
from dgm.archive.views import noise_note, score_ci_text
from dgm.selection.cmp import clade_counts, cmp_estimate, thompson_draw
from dgm.stats import bounded_mean_interval, wilson, within_noise


def test_wilson_matches_hand_computed_intervals() -> None:
    # 3/10: centre (0.3 + z^2/20) / (1 + z^2/10) = 0.35550, half-width 0.24772
    interval = wilson(3, 10)
    assert interval is not None
    assert interval.low == pytest.approx(0.10779, abs=1e-4) and interval.high == pytest.approx(0.60322, abs=1e-4)
    zero, full = wilson(0, 10), wilson(10, 10)
    assert zero is not None and full is not None
    assert zero.low == 0.0 and zero.high == pytest.approx(0.27753, abs=1e-4)  # not the normal interval's [0, 0]
    assert full.low == pytest.approx(0.72247, abs=1e-4) and full.high == pytest.approx(1.0)
    # 3/3 is weak evidence; 180/200 is strong
    assert wilson(3, 3).low < 0.45 < 0.85 < wilson(180, 200).low  # type: ignore[union-attr]


def test_wilson_refuses_what_is_not_a_pass_fail_count() -> None:
    assert wilson(0, 0) is None
    assert wilson(2.5, 10) is None  # a continuous score's sum: Wilson does not apply
    assert wilson(11, 10) is None


def test_bounded_mean_interval_for_continuous_scores() -> None:
    # scores summing to 4.0 over 10 tasks: the Wilson interval of 0.4 with n = 10
    interval = bounded_mean_interval(4.0, 10)
    assert interval is not None and interval == wilson(4, 10)
    assert interval.low == pytest.approx(0.16818, abs=1e-4) and interval.high == pytest.approx(0.68732, abs=1e-4)
    assert bounded_mean_interval(2.5, 10) is not None and bounded_mean_interval(0.0, 0) is None
    assert bounded_mean_interval(11.0, 10) is None
    # conservative: never narrower than the t interval of a sample with that mean
    values = [0.0, 0.5, 1.0, 0.25, 0.75, 0.5, 0.5, 0.0, 1.0, 0.5]
    mean = sum(values) / 10
    sd = (sum((v - mean) ** 2 for v in values) / 9) ** 0.5
    wide = bounded_mean_interval(sum(values), 10)
    assert wide is not None and wide.high - wide.low >= 2 * 2.262 * sd / 10 ** 0.5


def test_within_noise_is_a_two_proportion_test() -> None:
    # 7/10 vs 3/10: pooled 0.5, sd sqrt(0.25 * 0.2) = 0.2236, z = 1.789 < 1.96
    assert within_noise(7, 10, 3, 10)
    # 70/100 vs 30/100: z = 0.4 / sqrt(0.25 * 0.02) = 5.66
    assert not within_noise(70, 100, 30, 100)
    assert within_noise(3, 3, 3, 3) and not within_noise(0, 50, 50, 50)
    assert within_noise(1, 0, 5, 10)  # no tasks: nothing can be told apart


def _line(agent_id: str, resolved: int, total: int) -> AgentLine:
    return AgentLine(agent_id, None, 0, 0, "c", "seed", "evaluated", None, True, (StageScore(resolved, total),),
                     resolved / total, 0.0, 0)


def test_views_show_n_and_interval_and_say_when_best_is_noise() -> None:
    assert score_ci_text(_line("a", 3, 10)) == "0.300 n=10 [0.11, 0.60]"
    note = noise_note(_line("a", 7, 10), _line("b", 3, 10))
    assert note == {"runner_up": "b", "difference": 0.4, "within_noise": True}
    assert noise_note(_line("a", 70, 100), _line("b", 30, 100))["within_noise"] is False  # type: ignore[index]


# A hand-computed archive: g0 (1 solved, 2 failed) -> g1a (2, 0) -> g2 (3, 1); g0 -> g1b (0, 3);
# g0 -> g1c (never evaluated).
PARENTS = {"g0": None, "g1a": "g0", "g1b": "g0", "g1c": "g0", "g2": "g1a"}
OWN = {"g0": (1, 2), "g1a": (2, 0), "g1b": (0, 3), "g2": (3, 1)}


def test_cmp_pools_each_outcome_once_per_clade() -> None:
    counts = clade_counts(PARENTS, OWN)
    assert counts == {"g0": (6, 6), "g1a": (5, 1), "g1b": (0, 3), "g1c": (0, 0), "g2": (3, 1)}
    assert cmp_estimate(counts["g0"]) == 0.5
    assert cmp_estimate(counts["g1a"]) == pytest.approx(5 / 6)
    assert cmp_estimate(counts["g1b"]) == 0.0 and cmp_estimate(counts["g1c"]) is None
    # HGM's public code adds descendants' outcomes on top of pooled counts: g0 would be (9, 7).
    assert counts["g0"] != (9, 7)
    # and does not fall back to the node's own mean (g0's own is 1/3)
    assert cmp_estimate(counts["g0"]) != pytest.approx(1 / 3)


def test_cmp_on_a_deep_chain_counts_a_leaf_once_in_every_ancestor() -> None:
    depth = 5000  # deeper than Python's recursion limit
    parents = {f"n{i}": (f"n{i - 1}" if i else None) for i in range(depth)}
    counts = clade_counts(parents, {f"n{depth - 1}": (1, 1)})
    assert set(counts.values()) == {(1, 1)}


def test_thompson_draw_is_the_paper_beta() -> None:
    a, b = random.Random(3), random.Random(3)
    assert thompson_draw((5, 1), a, tau=2.0) == b.betavariate(12, 4)
