"""Built-in settings of the six Polyglot languages: image, test command, result format, how the
hidden tests are prepared, and which workspace paths are build files the grader restores.

The benchmark's own harness runs every test (it un-skips them) with each track's build tool; ours
does the same offline inside the language images of `dgm sandbox build --languages ...`:
- skipped tests run: JavaScript `xtest`/`xit`/`.skip`, Java `@Disabled`, Rust `#[ignore]`
  (also `--include-ignored`), C++ `EXERCISM_RUN_ALL_TESTS`;
- Java compiles with javac and runs the JUnit 5 console launcher (no Gradle download);
- Rust resolves crates from Debian's crate sources (the image's /.cargo/config.toml);
- JavaScript links the image's jest and babel (/opt/dgm-js/node_modules) into the workspace.
Every command writes the runner's own machine-readable per-test results to `{report}` (the
grader's random path); `results` names the format of dgm.evaluation.results that reads them.

A user may override any field of a language in `evaluation.benchmark.languages.<name>`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Callable

Transform = Callable[[str], str]


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


def _js_unskip(text: str) -> str:
    text = re.sub(r"\bx(test|it|describe)\s*\(", r"\1(", text)
    return re.sub(r"\b(test|it|describe)\.skip\s*\(", r"\1(", text)


def _java_unskip(text: str) -> str:
    return re.sub(r"^[ \t]*@Disabled(\s*\([^)]*\))?[ \t]*\r?\n", "", text, flags=re.MULTILINE)


def _rust_unskip(text: str) -> str:
    return re.sub(r"^[ \t]*#\[ignore(\s*=\s*\"[^\"]*\")?\][ \t]*\r?\n", "", text, flags=re.MULTILINE)


_GO = "go test -count=1 -json . > {report}; rc=$?; cat {report}; exit $rc"
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
_JAVA_CP = "/usr/share/java/junit-platform-console-standalone.jar:/usr/share/java/assertj-core.jar"
_JAVA = ("rm -rf /tmp/dgm-java && mkdir -p /tmp/dgm-java/classes /tmp/dgm-java/reports && "
         f"javac -nowarn -encoding UTF-8 -d /tmp/dgm-java/classes -cp {_JAVA_CP} "
         "$(find src/main/java src/test/java -name '*.java') && "
         "{ java -jar /usr/share/java/junit-platform-console-standalone.jar --disable-banner "
         "--details=tree --class-path /usr/share/java/assertj-core.jar:/tmp/dgm-java/classes "
         "--scan-class-path --reports-dir=/tmp/dgm-java/reports; rc=$?; "
         "cp /tmp/dgm-java/reports/TEST-junit-jupiter.xml {report}; exit $rc; }")
_CPP = ("rm -rf /tmp/dgm-cpp && mkdir -p /tmp/dgm-cpp/{exercise} && cp -a . /tmp/dgm-cpp/{exercise}/ && "
        "cd /tmp/dgm-cpp/{exercise} && cmake -S . -B build -DEXERCISM_RUN_ALL_TESTS=1 >/dev/null && "
        "cmake --build build --target {exercise} -- -j2 && ./build/{exercise} -r junit -o {report}")

BUILTIN: dict[str, LanguageSpec] = {
    "python": LanguageSpec("python", "python3 -m pytest {tests}", "pytest"),
    "go": LanguageSpec("go", _GO, "go_test_json", hooks=("*_test.go", "go.work", "go.work.sum", "vendor")),
    "rust": LanguageSpec("rust", _RUST, "libtest_logfile", hooks=("build.rs", ".cargo", "Cargo.toml"),
                         unskip=_rust_unskip),
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
