"""Evaluation: solve tasks in one sandbox, grade the diff in another, stage and score (DESIGN 3.5)."""
