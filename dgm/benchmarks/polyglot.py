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
files have their skip markers removed (the harness runs every test). `editor` files (read-only
helpers such as Go's cases_test.go, Java's exception classes) stay visible and are build files:
restored at grading like every workspace file that is not a solution file. They are not hidden
tests, because the directory of a hidden test is a test location as a whole, and Java's editor
files sit next to the solution in src/main/java.
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


def _example_targets(examples: list[str], solutions: list[str]) -> dict[str, str]:
    """Where each reference file goes. First every example named like a solution file goes onto
    it (Java's `.meta/src/reference/java/Poker.java`); then each other example goes onto a
    solution file of its suffix that no example took (`.meta/example.rs` -> `src/lib.rs`), or,
    when none is left, next to the first solution file of that suffix (Java's helper classes
    `Card.java`, `Hand.java`): a helper must never land on the solution file of another name."""
    by_name = {PurePosixPath(s).name: s for s in solutions}
    targets = {e: by_name[PurePosixPath(e).name] for e in examples if PurePosixPath(e).name in by_name}
    for example in examples:
        if example in targets:
            continue
        suffix = PurePosixPath(example).suffix
        same = [s for s in solutions if PurePosixPath(s).suffix == suffix]
        free = [s for s in same if s not in targets.values()]
        anchor = same[0] if same else solutions[0]
        targets[example] = free[0] if free else str(PurePosixPath(anchor).parent / PurePosixPath(example).name)
    return targets


def _example_overlay(exercise: Path, files: dict[str, list[str]],
                     extra: polyglot_languages.ReferenceExtra | None) -> dict[str, bytes] | None:
    """Reference files mapped onto the workspace (see _example_targets), plus what the language's
    track adds to a reference outside `files.example` (Rust's `.meta/Cargo-example.toml`)."""
    if not files["example"]:
        return None
    overlay: dict[str, bytes] = {}
    for source, target in _example_targets(files["example"], files["solution"]).items():
        if target in files["editor"]:       # a read-only helper: the grader restores it anyway
            continue
        path = exercise / source
        if not path.is_file():
            raise TaskError(f"{exercise / '.meta' / 'config.json'}: example file {source} does not exist")
        overlay[target] = path.read_bytes()
    if extra is not None:
        overlay.update(extra(exercise))
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
    # Build files (editor files included) are restored at grading: all but the solution files.
    solutions = set(files["solution"])
    build_files = tuple(sorted(rel for rel in workspace if rel not in solutions))
    return Task(
        id=f"{language.name}/{exercise.name}",
        problem=_PROBLEM.format(docs=text, files=", ".join(files["solution"])),
        workspace=workspace,
        hidden_tests=hidden,
        test_command=polyglot_languages.render_command(spec.test_command, sorted(tests), exercise.name),
        image=spec.image or _default_image(language.name),
        solution_files=_example_overlay(exercise, files, spec.reference_extra),
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
