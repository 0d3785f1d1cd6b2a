"""Selection policies against hand-computed numbers on a small archive.

The archive used throughout (acc = score; children = admitted children):

    g0c0 seed      acc 0.5   children 2 (g1c0, g1c1)
    g1c0           acc 0.7   children 1 (g2c0; g2c1 is invalid and does not count)
    g1c1           acc 0.3   children 0
    g2c0           acc 0.9   children 0 (g3c0 was evaluated but not admitted)
    g2c1           invalid, not admitted               -> never eligible
    g3c0           acc 1.0, evaluated, not admitted    -> never eligible

sigmoid around 0.5: s(0.5) = 0.5, s(0.7) = 1/(1+e^-2) = 0.880797, s(0.3) = 1/(1+e^2) = 0.119203,
s(0.9) = 1/(1+e^-4) = 0.982014.
"""

from __future__ import annotations

import random

import pytest

from dgm.archive.records import StageScore
from dgm.archive.summary import ArchiveSummary, Node
from dgm.selection import DEFAULT_POLICY, Policy, SelectionError, get_policy, policy_names
from dgm.selection.hgm import clade_counts

ELIGIBLE = ["g0c0", "g1c0", "g1c1", "g2c0"]


def archive() -> ArchiveSummary:
    return ArchiveSummary([
        Node("g0c0", None, 0, score=0.5, tasks={"a": True, "b": False}),
        Node("g1c0", "g0c0", 1, score=0.7, tasks={"a": True, "b": True}),
        Node("g1c1", "g0c0", 1, score=0.3, tasks={"a": False, "b": False}),
        Node("g2c0", "g1c0", 2, score=0.9, tasks={"a": True, "b": True, "c": True}),
        Node("g2c1", "g1c0", 2, status="invalid", admitted=False),
        Node("g3c0", "g2c0", 3, score=1.0, admitted=False, tasks={"a": False, "b": False}),
    ])


def assert_probs(actual: dict[str, float] | None, expected: dict[str, float]) -> None:
    assert actual is not None
    assert list(actual) == list(expected)
    for key, value in expected.items():
        assert actual[key] == pytest.approx(value, abs=1e-12), key


def test_children_count_only_admitted_children() -> None:
    summary = archive()
    assert {node.id: node.children for node in summary} == {
        "g0c0": 2, "g1c0": 1, "g1c1": 0, "g2c0": 0, "g2c1": 0, "g3c0": 0,
    }
    assert [node.id for node in summary.eligible()] == ELIGIBLE


def test_score_child_prop_probabilities() -> None:
    # weights s * 1/(1+children): 0.5/3 = 0.166667, 0.880797/2 = 0.440399, 0.119203/1, 0.982014/1
    # sum = 1.708282
    assert_probs(get_policy("score_child_prop").probabilities(archive()), {
        "g0c0": 0.09756391198563898,
        "g1c0": 0.2578020257791263,
        "g1c1": 0.06977942035558117,
        "g2c0": 0.5748546418796535,
    })


def test_score_prop_probabilities() -> None:
    # weights s: 0.5, 0.880797, 0.119203, 0.982014; sum = 2.482014
    assert_probs(get_policy("score_prop").probabilities(archive()), {
        "g0c0": 0.20144932393480514,
        "g1c0": 0.35487195176479247,
        "g1c1": 0.04802669610481775,
        "g2c0": 0.3956520281955847,
    })


def test_hyperagents_probabilities() -> None:
    # midpoint = mean(top-3 of 0.9, 0.7, 0.5, 0.3) = 0.7 (the ineligible 1.0 is not a candidate)
    # sigmoid around 0.7: 0.119203, 0.5, 0.017986, 0.880797
    # exp(-(c/8)^3): c=2 -> 0.984496, c=1 -> 0.998049, c=0 -> 1
    # weights: 0.117355, 0.499024, 0.017986, 0.880797; sum = 1.515163
    assert_probs(get_policy("hyperagents").probabilities(archive()), {
        "g0c0": 0.07745363922924157,
        "g1c0": 0.3293537033201148,
        "g1c1": 0.011870812272591891,
        "g2c0": 0.5813218451780517,
    })


def test_random_is_uniform_over_eligible() -> None:
    assert_probs(get_policy("random").probabilities(archive()), {key: 0.25 for key in ELIGIBLE})


def test_sampling_policies_draw_with_replacement_from_their_probabilities() -> None:
    summary = archive()
    for name in ("score_child_prop", "score_prop", "random", "hyperagents"):
        policy = get_policy(name)
        probs = policy.probabilities(summary)
        picks = policy.select(summary, 20_000, random.Random(3))
        assert set(picks) <= set(ELIGIBLE), name
        for node_id, p in probs.items():
            assert picks.count(node_id) / len(picks) == pytest.approx(p, abs=0.02), (name, node_id)


def test_selection_is_deterministic_for_a_seed() -> None:
    summary = archive()
    for name in policy_names():
        policy = get_policy(name)
        first = policy.select(summary, 7, random.Random(42))
        assert first == policy.select(summary, 7, random.Random(42)), name
        assert len(first) == 7 and set(first) <= set(ELIGIBLE), name
    # The weighted policies use exactly rng.choices over the documented distribution.
    probs = get_policy("score_child_prop").probabilities(summary)
    expected = random.Random(42).choices(list(probs), weights=list(probs.values()), k=7)
    assert get_policy("score_child_prop").select(summary, 7, random.Random(42)) == expected


def test_best_highest_first_and_cycles() -> None:
    best = get_policy("best")
    assert best.select(archive(), 2, random.Random(0)) == ["g2c0", "g1c0"]
    assert best.select(archive(), 5, random.Random(0)) == ["g2c0", "g1c0", "g0c0", "g1c1", "g2c0"]
    assert best.probabilities(archive()) is None


def test_best_breaks_ties_by_age() -> None:
    summary = ArchiveSummary([
        Node("g0c0", None, 0, score=0.2),
        Node("g1c0", "g0c0", 1, score=0.6),
        Node("g1c1", "g0c0", 1, score=0.6),
        Node("g2c0", "g1c1", 2, score=0.6),
    ])
    assert get_policy("best").select(summary, 4, random.Random(0)) == ["g1c0", "g1c1", "g2c0", "g0c0"]
    assert get_policy("best").select(summary, 4, random.Random(99)) == ["g1c0", "g1c1", "g2c0", "g0c0"]


def test_latest_takes_newest_admitted_agent() -> None:
    latest = get_policy("latest")
    assert latest.select(archive(), 2, random.Random(0)) == ["g2c0", "g2c0"]
    assert latest.probabilities(archive()) == {"g2c0": 1.0}
    seed_only = ArchiveSummary([Node("g0c0", None, 0, status="pending", score=None),
                                Node("g1c0", "g0c0", 1, status="invalid", admitted=False)])
    assert latest.select(seed_only, 1, random.Random(0)) == ["g0c0"]


def test_hgm_clade_counts() -> None:
    # own (successes, failures): g0c0 (1,1) g1c0 (2,0) g1c1 (0,2) g2c0 (3,0) g2c1 (0,0) g3c0 (0,2)
    # clades: g2c0 = g2c0+g3c0; g1c0 = g1c0+g2c0+g2c1+g3c0; g0c0 = everything
    assert clade_counts(archive()) == {
        "g0c0": (6, 5), "g1c0": (5, 2), "g1c1": (0, 2), "g2c0": (3, 2), "g2c1": (0, 0), "g3c0": (0, 2),
    }


def test_hgm_prefers_productive_clades() -> None:
    strong = {f"t{i}": True for i in range(40)}
    weak = {f"t{i}": False for i in range(40)}
    summary = ArchiveSummary([
        Node("g0c0", None, 0, score=0.5),
        Node("g1c0", "g0c0", 1, score=0.5, tasks=weak),
        Node("g1c1", "g0c0", 1, score=0.1, tasks={}),
        Node("g2c0", "g1c1", 2, score=0.9, status="evaluated", admitted=False, tasks=strong),
    ])
    # g1c1 scores low itself but its (rejected) child solved everything: Beta(41, 1) dominates.
    picks = get_policy("hgm").select(summary, 200, random.Random(5))
    assert picks.count("g1c1") > 150
    assert "g1c0" not in picks and "g2c0" not in picks
    assert get_policy("hgm").probabilities(summary) is None


def test_seed_is_eligible_even_unevaluated() -> None:
    summary = ArchiveSummary([Node("g0c0", None, 0, status="pending", admitted=False, score=None)])
    for name in policy_names():
        assert get_policy(name).select(summary, 2, random.Random(1)) == ["g0c0", "g0c0"], name


def test_registry_and_errors() -> None:
    assert DEFAULT_POLICY == "score_child_prop"
    assert policy_names() == ["score_child_prop", "score_prop", "best", "random", "hgm", "hyperagents", "latest"]
    for name in policy_names():
        assert isinstance(get_policy(name), Policy)
    with pytest.raises(SelectionError, match="unknown selection policy 'nope'; expected one of score_child_prop"):
        get_policy("nope")
    with pytest.raises(SelectionError, match="at least 1"):
        get_policy("random").select(archive(), 0, random.Random(0))
    with pytest.raises(SelectionError, match="no eligible parent"):
        get_policy("random").select(ArchiveSummary([]), 1, random.Random(0))


def test_all_zero_weights_fall_back_to_uniform() -> None:
    # Both candidates have 400 admitted children still being evaluated (not yet eligible), so
    # exp(-(400/8)^3) underflows to 0 for each: sampling must not divide by zero.
    nodes = [Node("g0c0", None, 0, score=0.5), Node("g1c0", "g0c0", 1, score=0.5)]
    nodes += [Node(f"g2c{i}", "g0c0", 2, status="pending") for i in range(400)]
    nodes += [Node(f"g3c{i}", "g1c0", 3, status="pending") for i in range(400)]
    assert get_policy("hyperagents").probabilities(ArchiveSummary(nodes)) == {"g0c0": 0.5, "g1c0": 0.5}


def test_summary_json_round_trip() -> None:
    summary = ArchiveSummary([
        Node("g0c0", None, 0, stages=(StageScore(4, 10),), score=0.4, tasks={"a": True}, cost=1.5),
        Node("g1c0", "g0c0", 1, stages=(StageScore(5, 10), StageScore(20, 50)), score=25 / 60),
    ])
    again = ArchiveSummary.from_json(summary.to_json())
    assert again.nodes == summary.nodes
    data = summary.to_dict()
    assert data["nodes"][0]["children"] == 1 and data["nodes"][0]["eligible"] is True
    assert data["nodes"][1]["stages"] == [{"resolved": 5, "total": 10}, {"resolved": 20, "total": 50}]
    # Derived fields are recomputed, never trusted from the input.
    data["nodes"][0]["children"] = 99
    assert ArchiveSummary.from_dict(data)["g0c0"].children == 1
    with pytest.raises(ValueError, match="bad summary node 'x'"):
        ArchiveSummary.from_dict({"nodes": [{"id": "x", "parent": None, "stages": [{"resolved": 1}]}]})


def test_hgm_counts_continuous_scores_as_partial_successes() -> None:
    """The scored suite: tasks scored 0.9 are mostly successes, although none scored 1."""
    tasks = {f"t{i}": False for i in range(10)}   # resolved means score 1: none did
    summary = ArchiveSummary([
        Node("g0c0", None, 0, score=0.1, stages=(StageScore(0, 10, 1.0),), tasks=tasks),
        Node("g1c0", "g0c0", 1, score=0.9, stages=(StageScore(0, 10, 9.0),), tasks=tasks),
    ])
    counts = clade_counts(summary)
    assert counts["g1c0"] == (9.0, 1.0) and counts["g0c0"] == (10.0, 10.0)
    picks = get_policy("hgm").select(summary, 200, random.Random(3))
    assert picks.count("g1c0") > 150
