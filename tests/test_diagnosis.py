"""Diagnosis: which entry is diagnosed, and how the model's JSON is validated and retried."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from dgm.loop import diagnosis
from dgm.loop.diagnosis import DiagnosisError, TaskOutcome

FIELDS = {field: f"text of {field}" for field in diagnosis.FIELDS}


def outcome(task: str, status: str = "unresolved", empty: bool = False, context: bool = False) -> TaskOutcome:
    return TaskOutcome(task, status, empty, context, f"log of {task}")


def test_context_length_pattern_wins() -> None:
    entry = diagnosis.choose_entry([outcome("a"), outcome("b", context=True)], random.Random(0))
    assert entry.kind == "solve_context_length" and "1 of 2" in entry.text


def test_empty_patch_pattern_at_ten_percent() -> None:
    many = [outcome(f"t{i}", "resolved") for i in range(9)] + [outcome("t9", empty=True)]
    assert diagnosis.choose_entry(many, random.Random(0)).kind == "solve_empty_patches"
    fewer = [outcome(f"t{i}", "resolved") for i in range(10)] + [outcome("t10", empty=True)]
    assert diagnosis.choose_entry(fewer, random.Random(0)).kind == "task"  # 1/11 < 10%


def test_a_failed_task_is_chosen_deterministically() -> None:
    outcomes = [outcome("b"), outcome("a"), outcome("c", "resolved"), outcome("d", "agent_error")]
    picks = {diagnosis.choose_entry(outcomes, random.Random(seed)).task_id for seed in range(30)}
    assert picks == {"a", "b", "d"}
    assert diagnosis.choose_entry(outcomes, random.Random(7)) == diagnosis.choose_entry(list(reversed(outcomes)), random.Random(7))
    assert diagnosis.choose_entry([outcome("a", "resolved")], random.Random(0)) is None


def test_parse_answer_accepts_fenced_json_and_names_missing_fields() -> None:
    assert diagnosis.parse_answer("Here:\n```json\n" + json.dumps(FIELDS) + "\n```") == FIELDS
    with pytest.raises(ValueError, match="lacks non-empty fields: problem_description"):
        diagnosis.parse_answer(json.dumps({**FIELDS, "problem_description": ""}))
    with pytest.raises(ValueError, match="no valid JSON"):
        diagnosis.parse_answer("I think the agent should try harder.")


def fake_model(*answers: str):
    calls = []

    def complete(role, messages, *, job):
        calls.append((role, job, messages))
        text = answers[len(calls) - 1]
        return SimpleNamespace(response={"choices": [{"message": {"content": text}}]})

    return complete, calls


def test_bad_json_is_shown_to_the_model_and_retried(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("print('agent')\n")
    complete, calls = fake_model("not json", json.dumps(FIELDS))
    entry = diagnosis.Entry("task", "t1", "the log")
    result = diagnosis.diagnose(complete, "g1c0/diagnose#1", tmp_path, entry, attempts=3)
    assert result == {"entry": {"kind": "task", "task_id": "t1"}, **FIELDS}
    assert len(calls) == 2 and all(role == "diagnose" for role, _, _ in calls)
    retry_messages = calls[1][2]
    assert retry_messages[-2] == {"role": "assistant", "content": "not json"}
    assert "not usable" in retry_messages[-1]["content"]
    assert "print('agent')" in calls[0][2][1]["content"] and "the log" in calls[0][2][1]["content"]


def test_gives_up_after_the_configured_attempts(tmp_path: Path) -> None:
    complete, calls = fake_model("x", "y")
    with pytest.raises(DiagnosisError, match="no valid JSON after 2 attempts"):
        diagnosis.diagnose(complete, "job", tmp_path, diagnosis.Entry("task", "t", "log"), attempts=2)
    assert len(calls) == 2
