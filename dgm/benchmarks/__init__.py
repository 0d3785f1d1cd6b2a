"""Benchmark suites: each turns its source format into `Task` objects (see `task.py`).

`load_suite` is the one entry point the evaluator uses; suite modules are imported on demand so
that listing suites stays cheap.
"""

from __future__ import annotations

from pathlib import Path

from dgm.benchmarks.task import Task, TaskError
from dgm.config import BenchmarkConfig

SUITES = ("mini", "humaneval", "swebench", "polyglot", "scored")
MINI_DIR = Path(__file__).resolve().parent / "mini"


def load_suite(config: BenchmarkConfig) -> list[Task]:
    """The tasks of the configured suite, in a stable order."""
    path = Path(config.path).expanduser() if config.path else None
    if config.name == "mini":
        from dgm.benchmarks.task import load_task_folders

        return load_task_folders(path or MINI_DIR)
    if config.name == "humaneval":
        from dgm.benchmarks import humaneval

        return humaneval.load()
    if config.name == "swebench":
        from dgm.benchmarks import swebench

        assert path is not None  # the config validator requires it
        return swebench.load(path, image=config.image, test_command=config.test_command)
    if config.name == "polyglot":
        from dgm.benchmarks import polyglot

        assert path is not None
        languages = [polyglot.Language(name, lang.image, lang.test_command, lang.results) for name, lang in config.languages.items()]
        return polyglot.load(path, languages, every_language_required="languages" in config.model_fields_set)
    if config.name == "scored":
        from dgm.benchmarks import scored

        assert path is not None
        return scored.load(path)
    raise TaskError(f"unknown benchmark {config.name!r} (expected one of {', '.join(SUITES)})")


def select(tasks: list[Task], ids: list[str]) -> list[Task]:
    """The named tasks, in the order given; an unknown id names the closest known ones."""
    by_id = {task.id: task for task in tasks}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(by_id), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else f" (the suite has {len(by_id)} tasks)"
        raise TaskError(f"unknown task id {unknown[0]!r}{hint}")
    return [by_id[i] for i in ids]
