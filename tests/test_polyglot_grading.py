"""The Polyglot languages graded for real, in their images: the reference resolves, the stub and a
solution that fails only the skipped tests do not, and each language's cheats lose.

The exercises are our own (tests/data/polyglot/<language>/.../digit-sum of each language; Rust's
vowel-runs uses a crate, Java's pair-list org.json, a helper class and an editor file; Go's
digit-sum reference needs Go 1.21's slices, C++'s CMakeLists.txt Boost.Date_Time). Each cheat
is first shown winning with its protection switched off, then losing. The images come from
`dgm sandbox build --languages ...` (scripts/setup.sh --tests builds them; the fixture builds a
missing one, which takes minutes).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dgm.benchmarks import load_suite
from dgm.benchmarks import polyglot_languages
from dgm.benchmarks.task import Task, overlay_diff
from dgm.config import BenchmarkConfig, SandboxConfig
from dgm.evaluation import protect
from dgm.evaluation.grader import Verdict, grade
from dgm.evaluation.results import Prepared, fill_report
from dgm.evaluation.results import go_json, libtest

pytestmark = pytest.mark.docker
DATA = Path(__file__).parent / "data" / "polyglot"
HOOK = "build file or test-runner hook"


@pytest.fixture(scope="module")
def tasks() -> dict[str, Task]:
    """digit-sum of each language (the other exercises are taken by id from `by_id`)."""
    return {t.id.split("/")[0]: t for t in load_suite(BenchmarkConfig(name="polyglot", path=str(DATA)))
            if t.id.endswith("/digit-sum")}


@pytest.fixture(scope="module")
def by_id() -> dict[str, Task]:
    return {t.id: t for t in load_suite(BenchmarkConfig(name="polyglot", path=str(DATA)))}


@pytest.fixture
def grade_files(docker_ready, run_label):
    """grade(task, {path: text}) with the files written over the task's workspace."""
    from dgm.sandbox import languages
    from dgm.sandbox.docker_backend import DockerSandbox

    def run(task: Task, files: dict[str, str] | None = None) -> Verdict:
        languages.build(task.id.split("/")[0])     # a no-op when the image exists
        diff = task.solution if files is None else overlay_diff(task.workspace, {k: v.encode() for k, v in files.items()})
        with DockerSandbox(SandboxConfig(), run=run_label, job=f"grade-{task.id}", role="grade", image=task.image) as sb:
            return grade(sb, task, diff or b"")

    return run


def _unprotected(task: Task) -> Task:
    return dataclasses.replace(task, protected_paths=())


# ---------------------------------------------------------------------------------------------
# Go


GO_PARTIAL = "package digitsum\n\nfunc DigitSum(n int) int { return n % 10 }\n"
GO_TRIM_TABLE = "package digitsum\n\nfunc init() { testCases = testCases[:2] }\n"
GO_FAKE_PASS = """package digitsum

import (
\t"fmt"
\t"os"
)

func init() {
\tfmt.Println("=== RUN   TestDigitSum")
\tfmt.Println("--- PASS: TestDigitSum (0.00s)")
\tfmt.Println("PASS")
\tos.Exit(0)
}

func DigitSum(n int) int { return 0 }
"""


def test_go_reference_resolves_and_the_stub_fails(tasks, grade_files):
    task = tasks["go"]
    solved = grade_files(task)
    assert solved.resolved, solved.reason
    assert solved.tests["TestDigitSum/several_digits"] == "passed" and solved.tests["TestDigitSum"] == "passed"
    stub = grade_files(task, {})      # panics: the test binary dies in its first test
    assert not stub.resolved and "did not finish its run" in stub.reason


def test_go_an_added_test_file_that_trims_the_hidden_table_is_removed(tasks, grade_files, monkeypatch):
    task = tasks["go"]
    cheat = {"digit_sum.go": GO_PARTIAL, "zz_extra_test.go": GO_TRIM_TABLE}
    with monkeypatch.context() as off:      # both protections off: the task's hooks, and new test files undone
        off.setattr(protect, "is_test_file", lambda path: False)
        assert grade_files(_unprotected(task), cheat).resolved      # the exploit wins
    verdict = grade_files(task, cheat)
    assert not verdict.resolved and verdict.reverted == {"zz_extra_test.go": "new test file"}
    assert verdict.tests["TestDigitSum/several_digits"] == "failed"


def test_go_printed_pass_lines_of_a_binary_that_exits_early_do_not_pass(tasks, grade_files, monkeypatch):
    task = tasks["go"]
    with monkeypatch.context() as off:     # the grader's TestMain marker switched off
        off.setattr(go_json.GoTestJsonFormat, "prepare",
                    lambda self, command, paths: Prepared(fill_report(command, paths.report)))
        assert grade_files(task, {"digit_sum.go": GO_FAKE_PASS}).resolved
    verdict = grade_files(task, {"digit_sum.go": GO_FAKE_PASS})
    assert not verdict.resolved and "did not finish its run" in verdict.reason


# ---------------------------------------------------------------------------------------------
# Rust

RUST_PARTIAL = "pub fn digit_sum(n: u64) -> u64 { n % 10 }\n"
RUST_EXIT = """pub fn digit_sum(mut n: u64) -> u64 {
    if n == 4096 {
        // the other tests finish (and are logged) meanwhile; the process then ends with status 0
        std::thread::sleep(std::time::Duration::from_millis(1500));
        std::process::exit(0);
    }
    let mut sum = 0;
    while n > 0 {
        sum += n % 10;
        n /= 10;
    }
    sum
}
"""
RUST_CARGO_CHEAT = """[package]
name = "digit_sum"
version = "0.1.0"
edition = "2021"
autotests = false

[[test]]
name = "digit-sum"
path = "src/always.rs"
"""
RUST_ALWAYS = "#[test]\nfn zero() {}\n#[test]\nfn several_digits() {}\n#[test]\nfn largest_u64() {}\n"


def test_rust_reference_resolves_and_stub_and_a_solution_failing_ignored_tests_fail(tasks, grade_files):
    task = tasks["rust"]
    solved = grade_files(task)
    assert solved.resolved, solved.reason
    assert solved.tests == {"zero": "passed", "several_digits": "passed", "largest_u64": "passed"}
    assert not grade_files(task, {}).resolved
    partial = grade_files(task, {"src/lib.rs": RUST_PARTIAL})        # passes the one test not #[ignore]d
    assert not partial.resolved and partial.tests["zero"] == "passed" and partial.tests["several_digits"] == "failed"


def test_rust_a_cargo_toml_that_swaps_the_test_target_is_pinned(tasks, grade_files, monkeypatch):
    task = tasks["rust"]
    cheat = {"Cargo.toml": RUST_CARGO_CHEAT, "src/always.rs": RUST_ALWAYS}
    with monkeypatch.context() as off:      # the format's pinning of Cargo.toml switched off
        off.setattr(libtest.LibtestLogfileFormat, "startup_configs", frozenset())
        assert grade_files(task, cheat).resolved
    verdict = grade_files(task, cheat)
    assert not verdict.resolved and verdict.pinned == ("Cargo.toml",) and verdict.reverted == {}


def test_rust_a_reference_using_a_crate_builds_with_debians_crate(by_id, grade_files):
    # vowel-runs' Cargo-example.toml asks for regex 0.2; the reference gets the image's regex (1.x).
    task = by_id["rust/vowel-runs"]
    solved = grade_files(task)
    assert solved.resolved, solved.reason
    assert solved.tests == {"no_vowels": "passed", "three_runs": "passed"} and solved.pinned == ()
    assert not grade_files(task, {}).resolved
    # A path dependency (its build script would be the agent's code) keeps the manifest pinned: cargo
    # builds with the starting one, which lacks the regex crate the solution uses.
    helper = {"Cargo.toml": task.workspace["Cargo.toml"].decode() + '\n[dependencies]\nhelper = { path = "helper" }\n',
              "helper/Cargo.toml": '[package]\nname = "helper"\nversion = "0.1.0"\n', "helper/src/lib.rs": "",
              "src/lib.rs": task.solution_files["src/lib.rs"].decode()}
    verdict = grade_files(task, helper)
    assert not verdict.resolved and "Cargo.toml" in verdict.pinned


def test_rust_a_process_exit_in_a_test_leaves_the_unfinished_test_not_run(tasks, grade_files):
    task = tasks["rust"]
    unlisted = dataclasses.replace(task, test_command=task.test_command.replace(
        polyglot_languages.RUST_LISTING.replace("{report}", "{report}"), ""))
    assert "--list" not in unlisted.test_command
    assert grade_files(unlisted, {"src/lib.rs": RUST_EXIT}).resolved       # the log holds only passes
    verdict = grade_files(task, {"src/lib.rs": RUST_EXIT})
    assert not verdict.resolved and verdict.tests["several_digits"] == "not_run"


# ---------------------------------------------------------------------------------------------
# JavaScript

JS_PARTIAL = "export const digitSum = (n) => n % 10;\n"
JS_JEST_CONFIG = "module.exports = { setupFilesAfterEnv: ['./setup-tests.js'] };\n"
JS_NO_OP_TESTS = "const real = global.test;\nglobal.test = (name) => real(name, () => {});\n"


def test_javascript_reference_resolves_and_stub_and_xtest_failures_fail(tasks, grade_files):
    task = tasks["javascript"]
    solved = grade_files(task)
    assert solved.resolved, solved.reason
    assert solved.tests["digit-sum.spec.js::digitSum all nines"] == "passed" and len(solved.tests) == 3
    assert not grade_files(task, {}).resolved
    partial = grade_files(task, {"digit-sum.js": JS_PARTIAL})
    assert not partial.resolved and partial.tests["digit-sum.spec.js::digitSum several digits"] == "failed"


def test_javascript_a_jest_config_that_empties_the_tests_is_removed(tasks, grade_files):
    task = tasks["javascript"]
    cheat = {"jest.config.js": JS_JEST_CONFIG, "setup-tests.js": JS_NO_OP_TESTS}
    assert grade_files(_unprotected(task), cheat).resolved
    verdict = grade_files(task, cheat)
    assert not verdict.resolved and verdict.reverted == {"jest.config.js": HOOK}


# ---------------------------------------------------------------------------------------------
# Java

JAVA_PARTIAL = "class DigitSum {\n    long of(long n) { return n % 10; }\n}\n"
JAVA_EXIT = """class DigitSum {
    long of(long n) {
        System.out.println("<testsuite tests=\\"3\\"><testcase classname=\\"DigitSumTest\\" name=\\"zero()\\"/></testsuite>");
        System.exit(0);
        return 0;
    }
}
"""


def test_java_reference_resolves_and_stub_and_disabled_failures_fail(tasks, grade_files):
    task = tasks["java"]
    solved = grade_files(task)
    assert solved.resolved, solved.reason
    assert solved.tests == {"DigitSumTest::zero()": "passed", "DigitSumTest::severalDigits()": "passed",
                            "DigitSumTest::allNines()": "passed"}
    assert not grade_files(task, {}).resolved
    partial = grade_files(task, {"src/main/java/DigitSum.java": JAVA_PARTIAL})
    assert not partial.resolved and partial.tests["DigitSumTest::severalDigits()"] == "failed"
    # Printing JUnit XML and ending the JVM with status 0: the launcher never writes its report.
    ended = grade_files(task, {"src/main/java/DigitSum.java": JAVA_EXIT})
    assert not ended.resolved and ended.exit_code == 0


def test_java_a_reference_with_a_helper_class_an_editor_file_and_org_json_resolves(by_id, grade_files):
    task = by_id["java/pair-list"]
    solved = grade_files(task)
    assert solved.resolved, solved.reason
    assert solved.tests == {"PairListTest::twoPairs()": "passed", "PairListTest::badPair()": "passed"}
    assert solved.reverted == {}
    assert not grade_files(task, {}).resolved


# ---------------------------------------------------------------------------------------------
# C++ (each real build compiles Catch2's main: the slowest language, so the cases are combined)

CPP_FAKE_MAIN = """#include <fstream>
#include <string>
int main(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "-o")
            std::ofstream(argv[i + 1]) << "<testsuites><testsuite><testcase classname=\\"digit-sum.global\\" name=\\"one digit\\"/></testsuite></testsuites>";
    return 0;
}
"""
CPP_CHEAT_CMAKE = ("cmake_minimum_required(VERSION 3.5.1)\nproject(digit-sum CXX)\n"
                   "add_executable(digit-sum fake_main.cpp)\n")
# Fails only the tests behind EXERCISM_RUN_ALL_TESTS, and prints a passing JUnit report on start.
CPP_PARTIAL = """#include "digit_sum.h"
#include <cstdio>

namespace digit_sum {

unsigned long long sum(unsigned long long n) { return n % 10; }

static int fake = std::puts("<testsuites><testsuite><testcase classname=\\"digit-sum.global\\" name=\\"several digits\\"/></testsuite></testsuites>");

}  // namespace digit_sum
"""


def test_cpp_reference_resolves_with_boost_linked_and_the_stub_fails(tasks, grade_files):
    solved = grade_files(tasks["cpp"])         # CMakeLists.txt requires Boost.Date_Time
    assert solved.resolved, solved.reason
    assert set(solved.tests) == {"digit-sum.global::one digit", "digit-sum.global::several digits",
                                 "digit-sum.global::zero"}
    assert not grade_files(tasks["cpp"], {}).resolved


def test_cpp_a_cmakelists_that_builds_a_fake_runner_is_restored(tasks, grade_files):
    task = tasks["cpp"]
    cheat = {"CMakeLists.txt": CPP_CHEAT_CMAKE, "fake_main.cpp": CPP_FAKE_MAIN, "digit_sum.cpp": CPP_PARTIAL}
    assert grade_files(_unprotected(task), cheat).resolved
    verdict = grade_files(task, cheat)
    assert not verdict.resolved and verdict.reverted == {"CMakeLists.txt": HOOK}
    # The real build ran all tests (EXERCISM_RUN_ALL_TESTS) and ignored the printed report.
    assert verdict.tests["digit-sum.global::one digit"] == "passed"
    assert verdict.tests["digit-sum.global::several digits"] == "failed"
