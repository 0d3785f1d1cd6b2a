"""The `polyglot` suite: Exercism-style exercises (the Aider Polyglot benchmark's layout).

    <root>/<language>/exercises/practice/<exercise>/
        .docs/instructions.md          (+ optional instructions.append.md, introduction.md)
        .meta/config.json              {"files": {"solution": [...], "test": [...], "example": [...],
                                                  "editor": [...]}}
        <solution stubs, build files>  the workspace
        <test files>                   hidden

All six languages run out of the box (dgm/benchmarks/polyglot_languages.py): each in its image
from `dgm sandbox build --languages all` (python: the sandbox image), with a built-in test command
and results format (`dgm.evaluation.results`; the command writes the runner's report to
`{report}`); `evaluation.benchmark.languages.<language>` may override any of them.

The agent's workspace holds the solution stubs and build files only: `.meta/`, `.docs/`,
`.approaches/` and `.articles/` (reference solutions and write-ups) never enter it. Hidden test
files have their skip markers removed (the harness runs every test); `editor` files (read-only
helpers such as Go's cases_test.go) stay visible and are restored at grading, as are all the
exercise's build files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dgm.benchmarks import polyglot_languages
from dgm.benchmarks.task import Task, TaskError, read_tree

_DOCS = ("introduction.md", "instructions.md", "instructions.append.md")
_MATERIAL = (".meta", ".docs", ".approaches", ".articles")   # never in the agent's workspace

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
    results: str | None = None     # dgm.evaluation.results.FORMATS (None: the language's built-in)


def _config_files(exercise: Path) -> dict[str, list[str]]:
    path = exercise / ".meta" / "config.json"
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except FileNotFoundError:
        raise TaskError(f"{path}: missing (expected the exercise's .meta/config.json)") from None
    except (ValueError, KeyError, TypeError):
        raise TaskError(f"{path}: expected a JSON object with a 'files' mapping") from None
    out: dict[str, list[str]] = {}
    for key in ("solution", "test", "example", "editor"):
        value = files.get(key, []) if isinstance(files, dict) else None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TaskError(f"{path}: field 'files.{key}': expected a list of paths")
        out[key] = value
    for key in ("solution", "test"):
        if not out[key]:
            raise TaskError(f"{path}: field 'files.{key}': expected at least one path")
    return out


def taken_names(taken: set[str]) -> set[str]:
    return {PurePosixPath(t).name for t in taken}


def _example_target(example: str, solutions: list[str], taken: set[str]) -> str:
    """Where a reference file goes: the solution file of the same name; else the only solution
    file with the same suffix not yet taken (`.meta/example.rs` -> `src/lib.rs`); else next to the
    first solution file of that suffix (Java's helper classes)."""
    name, suffix = PurePosixPath(example).name, PurePosixPath(example).suffix
    for solution in solutions:
        if PurePosixPath(solution).name == name:
            return solution
    same = [s for s in solutions if PurePosixPath(s).suffix == suffix]
    free = [s for s in same if s not in taken and PurePosixPath(s).name not in taken_names(taken)]
    if free:
        return free[0]
    if same:
        return str(PurePosixPath(same[0]).parent / name)
    return str(PurePosixPath(solutions[0]).parent / name)


def _example_overlay(exercise: Path, files: dict[str, list[str]]) -> dict[str, bytes] | None:
    """Reference files mapped onto the workspace (see _example_target)."""
    if not files["example"]:
        return None
    overlay: dict[str, bytes] = {}
    for source in files["example"]:
        path = exercise / source
        if not path.is_file():
            raise TaskError(f"{exercise / '.meta' / 'config.json'}: example file {source} does not exist")
        target = _example_target(source, files["solution"], set(overlay))
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
    spec = polyglot_languages.spec(language.name, language.image, language.test_command, language.results)
    if not spec.test_command:
        raise TaskError(f"evaluation.benchmark.languages.{language.name}.test_command: missing "
                        f"(expected the command that runs {language.name} tests, e.g. with {{tests}} and {{report}})")
    workspace = {rel: data for rel, data in tree.items()
                 if rel not in tests and PurePosixPath(rel).parts[0] not in _MATERIAL}
    hidden = {rel: _unskip(tree[rel], spec.unskip) for rel in sorted(tests)}
    # Read-only helpers (editor files) and build files are restored at grading like tests.
    hidden.update({rel: workspace[rel] for rel in files["editor"] if rel in workspace})
    solutions = set(files["solution"])
    build_files = tuple(sorted(rel for rel in workspace if rel not in solutions and rel not in hidden))
    return Task(
        id=f"{language.name}/{exercise.name}",
        problem=_PROBLEM.format(docs=text, files=", ".join(files["solution"])),
        workspace=workspace,
        hidden_tests=hidden,
        test_command=polyglot_languages.render_command(spec.test_command, sorted(tests), exercise.name),
        image=spec.image or _default_image(language.name),
        solution_files=_example_overlay(exercise, files),
        results=spec.results,
        protected_paths=build_files + spec.hooks,
    )


def _unskip(data: bytes, transform: polyglot_languages.Transform | None) -> bytes:
    if transform is None:
        return data
    try:
        return transform(data.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return data


def _default_image(language: str) -> str | None:
    """The built language image (python: None, the sandbox image)."""
    if language == "python":
        return None
    from dgm.sandbox import languages

    return languages.tag(language) if language in languages.BUILT else None


def load(root: Path, languages: list[Language], *, every_language_required: bool = True) -> list[Task]:
    """Every practice exercise of the configured languages, sorted by id. With
    `every_language_required` off (the config names no languages: all six by default), a language
    missing from the checkout is left out; at least one must be there."""
    tasks: list[Task] = []
    found = 0
    for language in languages:
        if language.name not in polyglot_languages.BUILTIN and not language.image:
            raise TaskError(f"evaluation.benchmark.languages.{language.name}.image: missing "
                            f"(expected an image with the {language.name} toolchain, git and bash)")
        practice = root / language.name / "exercises" / "practice"
        if not practice.is_dir():
            if every_language_required:
                raise TaskError(f"{practice}: not found (expected <root>/<language>/exercises/practice/<exercise>/)")
            continue
        found += 1
        tasks.extend(load_exercise(child, language) for child in sorted(practice.iterdir()) if child.is_dir())
    if not found:
        raise TaskError(f"{root}: no <language>/exercises/practice/ folder for any of "
                        f"{', '.join(lang.name for lang in languages)} (expected a checkout of the polyglot benchmark)")
    return sorted(tasks, key=lambda task: task.id)
