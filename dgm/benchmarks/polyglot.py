"""The `polyglot` suite: Exercism-style exercises (the Aider Polyglot benchmark's layout).

    <root>/<language>/exercises/practice/<exercise>/
        .docs/instructions.md          (+ optional instructions.append.md, introduction.md)
        .meta/config.json              {"files": {"solution": [...], "test": [...], "example": [...]}}
        <solution stubs, build files>  the workspace
        <test files>                   hidden

Python runs in the default sandbox image with pytest. Every other language needs an image with its
toolchain (and git and bash, which grading uses) and a test command, both from the config
(`evaluation.benchmark.languages.<language>`). `{tests}` in a test command is replaced by the
shell-quoted test file paths; `results` names how per-test results are read (a format of
`dgm.evaluation.results`; a command whose format reads a report file places it with `{report}`).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dgm.benchmarks.task import Task, TaskError, read_tree

PYTHON_TEST_COMMAND = "python3 -m pytest {tests}"
_DOCS = ("introduction.md", "instructions.md", "instructions.append.md")

_PROBLEM = """\
{docs}

# Your task

Use the instructions above to modify the supplied files: {files}.
Keep the names of existing functions and classes: hidden unit tests call them. Use only the
standard library of the language; do not install packages.
"""


@dataclass(frozen=True)
class Language:
    name: str
    image: str | None = None
    test_command: str | None = None
    results: str = "pytest"       # dgm.evaluation.results.FORMATS


def _config_files(exercise: Path) -> dict[str, list[str]]:
    path = exercise / ".meta" / "config.json"
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except FileNotFoundError:
        raise TaskError(f"{path}: missing (expected the exercise's .meta/config.json)") from None
    except (ValueError, KeyError, TypeError):
        raise TaskError(f"{path}: expected a JSON object with a 'files' mapping") from None
    out: dict[str, list[str]] = {}
    for key in ("solution", "test", "example"):
        value = files.get(key, []) if isinstance(files, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TaskError(f"{path}: field 'files.{key}': expected a list of paths")
        out[key] = value
    for key in ("solution", "test"):
        if not out[key]:
            raise TaskError(f"{path}: field 'files.{key}': expected at least one path")
    return out


def _example_overlay(exercise: Path, files: dict[str, list[str]]) -> dict[str, bytes] | None:
    """Reference files mapped onto solution paths: by position when the counts match, else by name."""
    examples, solutions = files["example"], files["solution"]
    if not examples:
        return None
    if len(examples) == len(solutions):
        pairs = zip(solutions, examples)
    else:
        by_name = {PurePosixPath(e).name: e for e in examples}
        pairs = ((s, by_name[PurePosixPath(s).name]) for s in solutions if PurePosixPath(s).name in by_name)
    overlay = {}
    for target, source in pairs:
        path = exercise / source
        if not path.is_file():
            raise TaskError(f"{exercise / '.meta' / 'config.json'}: example file {source} does not exist")
        overlay[target] = path.read_bytes()
    return overlay


def load_exercise(exercise: Path, language: Language) -> Task:
    files = _config_files(exercise)
    docs = [(exercise / ".docs" / name) for name in _DOCS]
    text = "\n\n".join(p.read_text(encoding="utf-8").strip() for p in docs if p.is_file())
    if not text:
        raise TaskError(f"{exercise / '.docs' / 'instructions.md'}: missing (expected the exercise instructions)")
    tree = read_tree(exercise)
    tests = set(files["test"])
    for test in sorted(tests):
        if test not in tree:
            raise TaskError(f"{exercise / '.meta' / 'config.json'}: test file {test} does not exist")
    workspace = {rel: data for rel, data in tree.items()
                 if rel not in tests and PurePosixPath(rel).parts[0] not in (".meta", ".docs")}
    command = language.test_command or (PYTHON_TEST_COMMAND if language.name == "python" else None)
    if command is None:
        raise TaskError(f"evaluation.benchmark.languages.{language.name}.test_command: missing "
                        f"(expected the command that runs {language.name} tests, e.g. with {{tests}})")
    return Task(
        id=f"{language.name}/{exercise.name}",
        problem=_PROBLEM.format(docs=text, files=", ".join(files["solution"])),
        workspace=workspace,
        hidden_tests={rel: tree[rel] for rel in sorted(tests)},
        test_command=command.replace("{tests}", " ".join(shlex.quote(t) for t in sorted(tests))),
        image=language.image,
        results=language.results,
        solution_files=_example_overlay(exercise, files),
    )


def load(root: Path, languages: list[Language]) -> list[Task]:
    """Every practice exercise of the configured languages, sorted by id."""
    tasks: list[Task] = []
    for language in languages:
        if language.name != "python" and not language.image:
            raise TaskError(f"evaluation.benchmark.languages.{language.name}.image: missing "
                            f"(expected an image with the {language.name} toolchain, git and bash)")
        practice = root / language.name / "exercises" / "practice"
        if not practice.is_dir():
            raise TaskError(f"{practice}: not found (expected <root>/<language>/exercises/practice/<exercise>/)")
        tasks.extend(load_exercise(child, language) for child in sorted(practice.iterdir()) if child.is_dir())
    return sorted(tasks, key=lambda task: task.id)
