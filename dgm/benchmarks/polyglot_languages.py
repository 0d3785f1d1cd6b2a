"""Built-in settings of the six Polyglot languages: image, test command, result format, how the
hidden tests are prepared, and which workspace paths are build files the grader restores.

The benchmark's own harness runs every test (it un-skips them) with each track's build tool; ours
does the same offline inside the language images of `dgm sandbox build --languages ...`:
- skipped tests run: JavaScript `xtest`/`xit`/`.skip`, Java `@Disabled`, Rust `#[ignore]`
  (also `--include-ignored`), C++ `EXERCISM_RUN_ALL_TESTS`;
- Java compiles with javac and runs the JUnit 5 console launcher (no Gradle download);
- Rust resolves crates from Debian's crate sources (the image's /.cargo/config.toml); a
  reference gets the crates of the track's `.meta/Cargo-example.toml`;
- JavaScript links the image's jest and babel (/opt/dgm-js/node_modules) into the workspace.
Every command writes the runner's own machine-readable per-test results to `{report}` (the
grader's random path); `results` names the format of dgm.evaluation.results that reads them.

A user may override any field of a language in `evaluation.benchmark.languages.<name>`.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Callable

from dgm.benchmarks.task import TaskError

Transform = Callable[[str], str]
ReferenceExtra = Callable[[Path], dict[str, bytes]]   # exercise folder -> workspace path: bytes


@dataclass(frozen=True)
class LanguageSpec:
    name: str
    test_command: str          # over {tests} (quoted test files), {exercise}, {stems}, {report}
    results: str               # a format of dgm.evaluation.results.FORMATS
    image: str | None = None   # None: the language's built image (python: the sandbox image)
    # New or changed paths matching these (protect.matches_protected) are undone at grading:
    # the runner's configuration and hooks that could decide what runs or how it is reported.
    hooks: tuple[str, ...] = ()
    unskip: Transform | None = None   # applied to hidden test files: skipped tests run
    # Files the track's own checks add to a reference beyond `files.example` of .meta/config.json.
    reference_extra: ReferenceExtra | None = None


def _js_unskip(text: str) -> str:
    text = re.sub(r"\bx(test|it|describe)\s*\(", r"\1(", text)
    return re.sub(r"\b(test|it|describe)\.skip\s*\(", r"\1(", text)


def _java_unskip(text: str) -> str:
    return re.sub(r"^[ \t]*@Disabled(\s*\([^)]*\))?[ \t]*\r?\n", "", text, flags=re.MULTILINE)


def _rust_unskip(text: str) -> str:
    return re.sub(r"^[ \t]*#\[ignore(\s*=\s*\"[^\"]*\")?\][ \t]*\r?\n", "", text, flags=re.MULTILINE)


_DEPENDENCIES_HEADER = re.compile(r"^\[dependencies\][ \t]*(\r?\n|\Z)", re.MULTILINE)


def _toml(value: object) -> str:
    """A TOML value of a Cargo dependency (strings, booleans, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml(v)}" for key, v in value.items()) + " }"
    raise ValueError(f"unexpected value {value!r} in a Cargo dependency")


def reference_manifest(stub: str, example: str) -> str:
    """The stub's Cargo.toml with the crates of the example manifest's `[dependencies]` that the
    stub does not list, each at version `*` (see _rust_reference_manifest)."""
    have = tomllib.loads(stub).get("dependencies", {})
    lines = []
    for crate, value in tomllib.loads(example).get("dependencies", {}).items():
        if crate not in have:
            lines.append(f"{crate} = " + _toml({**value, "version": "*"} if isinstance(value, dict) else "*"))
    if not lines:
        return stub
    header = _DEPENDENCIES_HEADER.search(stub)
    if header is None:
        return stub.rstrip("\n") + "\n\n[dependencies]\n" + "\n".join(lines) + "\n"
    return stub[:header.end()] + "".join(line + "\n" for line in lines) + stub[header.end():]


def _rust_reference_manifest(exercise: Path) -> dict[str, bytes]:
    """Exercism's Rust track checks a reference whose example uses crates with the exercise's
    `.meta/Cargo-example.toml` (the stub's manifest lists none of them). That file also differs
    from the stub in stale metadata (`[package] version`, `[lints]`), so the reference takes only
    its crates, added to the stub's manifest: the change stays within `[dependencies]`, the one
    change of Cargo.toml the grader lets stand (results.cargo_manifest). Their requirements were
    written for crates.io as it was then (`rand = "0.3.12"`, `regex = "0.2"`); offline the image's
    registry holds one version of each crate, Debian's, so each becomes `*`: the reference builds
    with what the image has, or fails to."""
    example = exercise / ".meta" / "Cargo-example.toml"
    stub = exercise / "Cargo.toml"
    if not example.is_file() or not stub.is_file():
        return {}
    try:
        text = reference_manifest(stub.read_text(encoding="utf-8"), example.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, ValueError) as err:
        raise TaskError(f"{example}: {err}") from None
    return {"Cargo.toml": text.encode("utf-8")}


# The image's warmed build cache (sandbox/languages/go/post.sh) first: the standard library is
# then not compiled again in every grading sandbox.
_GO = ('mkdir -p "$GOCACHE" && cp -a /usr/local/lib/dgm-go-cache/. "$GOCACHE"/ 2>/dev/null; '
       "go test -count=1 -json . > {report}; rc=$?; cat {report}; exit $rc")
# Per test file: list its tests (`listed NAME` lines: a test the log file then lacks did not run
# to its end), run them all with libtest's --logfile, and collect both into {report}.
RUST_LISTING = ("cargo test -q --offline --test \"$s\" -- --include-ignored --list 2>/dev/null | "
                "sed -n 's/^\\(.*\\): test$/listed \\1/p' >> {report}; ")
_RUST = ("rc=0; for s in {stems}; do " + RUST_LISTING +
         "cargo test --offline --test \"$s\" -- --include-ignored "
         "--logfile /tmp/dgm-libtest-\"$s\".log || rc=1; cat /tmp/dgm-libtest-\"$s\".log >> {report} "
         "2>/dev/null; done; exit $rc")
_JS = ("ln -sfn /opt/dgm-js/node_modules node_modules && node /opt/dgm-js/node_modules/jest/bin/jest.js "
       "--ci --watchman=false --json --outputFile={report} {tests}")
# The libraries the benchmark's build.gradle files name that Debian packages: JUnit 5 (its console
# launcher), AssertJ, org.json (rest-api). Every exercise compiles and runs against all of them.
_JAVA_LIBS = "/usr/share/java/assertj-core.jar:/usr/share/java/json-latest.jar"
_JAVA_CP = f"/usr/share/java/junit-platform-console-standalone.jar:{_JAVA_LIBS}"
_JAVA = ("rm -rf /tmp/dgm-java && mkdir -p /tmp/dgm-java/classes /tmp/dgm-java/reports && "
         f"javac -nowarn -encoding UTF-8 -d /tmp/dgm-java/classes -cp {_JAVA_CP} "
         "$(find src/main/java src/test/java -name '*.java') && "
         "{ java -jar /usr/share/java/junit-platform-console-standalone.jar --disable-banner "
         f"--details=tree --class-path {_JAVA_LIBS}:/tmp/dgm-java/classes "
         "--scan-class-path --reports-dir=/tmp/dgm-java/reports; rc=$?; "
         "cp /tmp/dgm-java/reports/TEST-junit-jupiter.xml {report}; exit $rc; }")
_CPP = ("rm -rf /tmp/dgm-cpp && mkdir -p /tmp/dgm-cpp/{exercise} && cp -a . /tmp/dgm-cpp/{exercise}/ && "
        "cd /tmp/dgm-cpp/{exercise} && cmake -S . -B build -DEXERCISM_RUN_ALL_TESTS=1 >/dev/null && "
        "cmake --build build --target {exercise} -- -j2 && ./build/{exercise} -r junit -o {report}")

BUILTIN: dict[str, LanguageSpec] = {
    "python": LanguageSpec("python", "python3 -m pytest {tests}", "pytest"),
    "go": LanguageSpec("go", _GO, "go_test_json", hooks=("*_test.go", "go.work", "go.work.sum", "vendor")),
    # Cargo.toml is no hook: the libtest format pins it unless only its [dependencies] changed.
    "rust": LanguageSpec("rust", _RUST, "libtest_logfile", hooks=("build.rs", ".cargo"),
                         unskip=_rust_unskip, reference_extra=_rust_reference_manifest),
    "javascript": LanguageSpec("javascript", _JS, "jest_json",
                               hooks=("package.json", "babel.config.*", ".babelrc", ".babelrc.*", "jest.config.*",
                                      "node_modules", "__mocks__", ".npmrc"), unskip=_js_unskip),
    "java": LanguageSpec("java", _JAVA, "junit",
                         hooks=("build.gradle", "settings.gradle", "*.gradle.kts", "gradle", "src/test"),
                         unskip=_java_unskip),
    "cpp": LanguageSpec("cpp", _CPP, "junit:all", hooks=("CMakeLists.txt", "*.cmake", "test")),
}


def spec(name: str, image: str | None = None, test_command: str | None = None,
         results: str | None = None) -> LanguageSpec:
    """The built-in settings of `name` with the user's overrides; another language needs a test
    command (and reads JUnit XML unless it names another format)."""
    base = BUILTIN.get(name) or LanguageSpec(name, test_command or "", results or "junit")
    changes = {k: v for k, v in (("image", image), ("test_command", test_command),
                                 ("results", results)) if v is not None}
    return replace(base, **changes)


def render_command(template: str, tests: list[str], exercise: str) -> str:
    stems = [PurePosixPath(t).stem for t in tests if t.startswith("tests/") and t.endswith(".rs")]
    return (template.replace("{tests}", " ".join(shlex.quote(t) for t in tests))
            .replace("{exercise}", shlex.quote(exercise))
            .replace("{stems}", " ".join(shlex.quote(s) for s in stems)))
